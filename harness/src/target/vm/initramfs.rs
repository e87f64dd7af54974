//! The initramfs of a guest: the static `nsconform` binary as `/init`, the
//! probe, the cases, the fixtures, the known issues beside the cases and the
//! plan, as a newc cpio archive.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::protocol::{self, GuestPlan};
use crate::cpio::Archive;

/// What goes into the initramfs.
#[derive(Debug, Clone)]
pub struct Contents {
    /// The static `nsconform` binary (it becomes `/init`).
    pub nsconform: PathBuf,
    /// The static probe.
    pub probe: PathBuf,
    /// The cases and fixtures directories given; `None`: the suite built
    /// into this binary.
    pub cases: Option<PathBuf>,
    pub fixtures: Option<PathBuf>,
}

/// Why the initramfs could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildInitramfsError {
    /// A file to pack could not be read, or the archive could not be written.
    #[error("failed to build the initramfs from {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BuildInitramfsError + '_ {
    move |source| BuildInitramfsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Packs the tree at `dir` as `name/...`, directories first.
fn pack_tree<W: std::io::Write>(
    a: &mut Archive<W>,
    dir: &Path,
    name: &str,
) -> Result<(), BuildInitramfsError> {
    a.dir(name, 0o755).map_err(io_err(dir))?;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let inner = format!("{name}/{file_name}");
        if path.is_dir() {
            pack_tree(a, &path, &inner)?;
        } else {
            let data = std::fs::read(&path).map_err(io_err(&path))?;
            a.file(&inner, 0o644, &data).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Writes the initramfs for `plan` into `out`.
pub fn build(contents: &Contents, plan: &GuestPlan, out: &Path) -> Result<(), BuildInitramfsError> {
    let file = std::fs::File::create(out).map_err(io_err(out))?;
    let mut a = Archive::new(BufWriter::new(file));
    let read = |p: &Path| std::fs::read(p).map_err(io_err(p));
    a.dir("dev", 0o755).map_err(io_err(out))?;
    // The kernel opens /dev/console for /init's standard streams.
    a.char_device("dev/console", 0o600, 5, 1)
        .map_err(io_err(out))?;
    a.file("init", 0o755, &read(&contents.nsconform)?)
        .map_err(io_err(&contents.nsconform))?;
    a.file(protocol::PROBE_PATH, 0o755, &read(&contents.probe)?)
        .map_err(io_err(&contents.probe))?;
    let plan_text = serde_json::to_vec(plan).map_err(|e| BuildInitramfsError::Io {
        path: out.to_path_buf(),
        source: e.into(),
    })?;
    a.file(protocol::PLAN_PATH, 0o644, &plan_text)
        .map_err(io_err(out))?;
    for (given, name) in [
        (&contents.cases, protocol::CASES_DIR),
        (&contents.fixtures, protocol::FIXTURES_DIR),
    ] {
        match given {
            Some(dir) => pack_tree(&mut a, dir, name)?,
            None => pack_built_in(&mut a, name).map_err(io_err(out))?,
        }
    }
    if let Some(text) = known_issues(contents)? {
        // Beside the cases, where the guest's suite looks for it.
        let at = crate::suite::known_issues_path(Path::new(protocol::CASES_DIR));
        a.file(&at.to_string_lossy(), 0o644, text.as_bytes())
            .map_err(io_err(out))?;
    }
    a.finish().map_err(io_err(out))?;
    Ok(())
}

/// The known issues of the suite packed: the file beside the cases
/// directory given, or the one built in; none is no known issues.
fn known_issues(contents: &Contents) -> Result<Option<String>, BuildInitramfsError> {
    let Some(cases) = &contents.cases else {
        return Ok(crate::embedded::known_issues().map(str::to_string));
    };
    let path = crate::suite::known_issues_path(cases);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Packs the files `name/<type>/<name>.json` of the suite built into this
/// binary, each directory before what it holds.
fn pack_built_in<W: std::io::Write>(a: &mut Archive<W>, name: &str) -> std::io::Result<()> {
    a.dir(name, 0o755)?;
    let mut dirs: Vec<&str> = Vec::new();
    let prefix = format!("{name}/");
    for (rel, text) in crate::embedded::files() {
        if !rel.starts_with(&prefix) {
            continue;
        }
        if let Some((dir, _)) = rel.rsplit_once('/') {
            if !dirs.contains(&dir) {
                a.dir(dir, 0o755)?;
                dirs.push(dir);
            }
        }
        a.file(rel, 0o644, text.as_bytes())?;
    }
    Ok(())
}
