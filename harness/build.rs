//! Builds the suite into the binary: every `cases/<type>/*.json` and
//! `fixtures/<type>/*.json` of the source tree becomes a `(path, text)`
//! entry of `$OUT_DIR/suite.rs`, which `src/embedded.rs` includes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `<dir>/<type>/*.json` files under `root`, sorted, as (relative path, absolute path).
fn files(root: &Path, dir: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let top = root.join(dir);
    println!("cargo:rerun-if-changed={}", top.display());
    let Ok(types) = std::fs::read_dir(&top) else {
        return out;
    };
    for ty in types.flatten().filter(|e| e.path().is_dir()) {
        println!("cargo:rerun-if-changed={}", ty.path().display());
        for file in std::fs::read_dir(ty.path()).into_iter().flatten().flatten() {
            let path = file.path();
            if path.extension().is_some_and(|x| x == "json") {
                let rel = format!(
                    "{dir}/{}/{}",
                    ty.file_name().to_string_lossy(),
                    file.file_name().to_string_lossy()
                );
                out.push((rel, path));
            }
        }
    }
    out.sort();
    out
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("..");
    let mut code = String::from("/// Every file of the built-in suite: (relative path, text).\n");
    code.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for dir in ["cases", "fixtures"] {
        for (rel, path) in files(&root, dir) {
            let abs = path.canonicalize().unwrap_or(path);
            writeln!(
                code,
                "    ({rel:?}, include_str!({:?})),",
                abs.display().to_string()
            )
            .expect("writing to a String");
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("suite.rs");
    std::fs::write(out, code).expect("write $OUT_DIR/suite.rs");
}
