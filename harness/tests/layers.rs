//! The layers of the library: the import graph of `harness/src`, read from
//! the `crate::` paths of every file, has no circle, and the actor side
//! (the probe's modules and what they stand on) never imports the judge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules the probe runs, and the shared middle they stand on.
const ACTOR: [&str; 9] = [
    "sys", "guard", "view", "door", "step", "probe", "plan", "kind", "kver",
];

/// The modules only the harness runs.
const JUDGE: &[&str] = &[
    "case",
    "runtimes",
    "embedded",
    "skip",
    "fixture",
    "matcher",
    "judge",
    "judged",
    "suite",
    "limits",
    "env",
    "kmsg",
    "run",
    "report",
    "target",
    "cli",
    "verdict",
    "compare",
    "format_error",
    "snapshot",
    "cpio",
    "guest",
    "matrix",
    "merge",
    "shard",
    "known_issue",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, `bin/` left out (its crates are others).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "bin") {
                files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`lib` for lib.rs).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("a file under src");
    let first = rel.components().next().expect("a path");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The code of a line, without its `//` comment.
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The modules named right after each `crate::` in `text`, including
/// those of a `crate::{a, b::c}` group.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text.lines().map(code).collect::<Vec<_>>().join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.insert(ident(item.trim()));
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Module -> the modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    assert!(all.len() > 20, "found only {} files under src/", all.len());
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in all {
        let text = std::fs::read_to_string(&file).expect("readable source");
        let from = module_of(&file);
        let to = imports(&text);
        let edges = g.entry(from.clone()).or_default();
        edges.extend(to.into_iter().filter(|m| *m != from));
    }
    g
}

/// A circle through `start`, if one leads back to it.
fn circle_from(g: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    fn walk(
        g: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().expect("a path").clone();
        for next in g.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(g, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    walk(g, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn the_import_graph_has_no_circle() {
    let g = graph();
    let circles: Vec<String> = g
        .keys()
        .filter_map(|m| circle_from(&g, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(
        circles.is_empty(),
        "circles in the import graph of harness/src:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_actor_never_imports_the_judge() {
    let g = graph();
    let mut wrong = Vec::new();
    for actor in ACTOR {
        for m in g.get(actor).into_iter().flatten() {
            if JUDGE.contains(&m.as_str()) {
                wrong.push(format!("{actor} imports {m}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_module_is_on_one_side() {
    let g = graph();
    let shared = ["lib", "format_fuzz"];
    let unplaced: Vec<&String> = g
        .keys()
        .filter(|m| !ACTOR.contains(&m.as_str()) && !JUDGE.contains(&m.as_str()))
        .filter(|m| !shared.contains(&m.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules neither on the actor side nor on the judge side: {unplaced:?}"
    );
}

#[test]
fn the_reader_sees_imports_and_circles() {
    let text =
        "use crate::{kind, plan::Door};\nlet x = crate::sys::pipe::owned();\n// crate::judge\n";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["kind", "plan", "sys"]);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        circle_from(&g, "a").map(|c| c.join(" -> ")),
        Some("a -> b -> a".to_string())
    );
}
