//! Report writers: JSON, JUnit XML, KTAP, Markdown and HTML, all sinks of one `Report`.
//!
//! Each format has its own module with a `write(report, out)` function. This module
//! holds what they share: the error type, the list of formats, `write_all` and the
//! run directory (`reports/<UTC timestamp>/`, with `reports/latest` pointing at it).

pub mod html;
pub mod json;
pub mod junit;
pub mod ktap;
pub mod markdown;
pub mod progress;
pub mod schema;
pub mod stream;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::kind::NsType;
use crate::verdict::{Report, TrialRecord};

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing to the output failed.
    #[error("failed to write the report: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising or parsing JSON failed.
    #[error("failed to convert the report to or from JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Serialising JUnit XML failed.
    #[error("failed to write JUnit XML: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    /// A file or directory could not be made, written or read.
    #[error("failed to {op} {}: {cause}", path.display())]
    File {
        op: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A file that is not a report.json this nsconform reads.
    #[error("{}: not a report: {cause}", path.display())]
    Invalid {
        path: PathBuf,
        cause: Box<ReportError>,
    },
    /// A report of another format version was read.
    #[error("report.json is version {found}, this nsconform reads version {expected}")]
    Version { found: String, expected: u32 },
    /// A format name that is not one of `json,junit,ktap,md,html`.
    #[error("unknown report format `{0}` (known: json, junit, ktap, md, html)")]
    UnknownFormat(String),
}

impl ReportError {
    fn file(path: &Path, cause: std::io::Error) -> ReportError {
        ReportError::at("write", path, cause)
    }

    /// `op` (`read`, `write`, `create`, `remove`) failed on `path`.
    pub fn at(op: &'static str, path: &Path, cause: std::io::Error) -> ReportError {
        ReportError::File {
            op,
            path: path.to_path_buf(),
            cause,
        }
    }
}

/// One report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Json,
    Junit,
    Ktap,
    Markdown,
    Html,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Junit,
        Format::Ktap,
        Format::Markdown,
        Format::Html,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Ktap => "ktap",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }

    /// The file this format is written to inside a run directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
            Format::Ktap => "report.ktap",
            Format::Markdown => "summary.md",
            Format::Html => "matrix.html",
        }
    }

    /// Writes `report` in this format.
    pub fn write(self, report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
        match self {
            Format::Json => json::write(report, out),
            Format::Junit => junit::write(report, out),
            Format::Ktap => ktap::write(report, out),
            Format::Markdown => markdown::write(report, out),
            Format::Html => html::write(report, out),
        }
    }

    /// Parses a comma-separated list such as `json,junit,md`; `all` means every format.
    pub fn parse_list(list: &str) -> Result<Vec<Format>, ReportError> {
        let mut formats = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if name == "all" {
                formats.extend(Format::ALL);
            } else {
                formats.push(name.parse()?);
            }
        }
        formats.sort();
        formats.dedup();
        Ok(formats)
    }
}

impl FromStr for Format {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Format, ReportError> {
        match s {
            "json" => Ok(Format::Json),
            "junit" | "xml" => Ok(Format::Junit),
            "ktap" => Ok(Format::Ktap),
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            other => Err(ReportError::UnknownFormat(other.to_string())),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes each of `formats` into `dir` (created if missing); returns the files written.
pub fn write_all(
    report: &Report,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::file(dir, e))?;
    let mut written = Vec::new();
    for format in formats {
        let path = dir.join(format.file_name());
        let file = File::create(&path).map_err(|e| ReportError::file(&path, e))?;
        let mut out = BufWriter::new(file);
        format.write(report, &mut out)?;
        out.flush().map_err(|e| ReportError::file(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// The directory of a run started now: `root/<UTC timestamp>`, e.g. `root/20261129T013000Z`.
pub fn default_dir(root: &Path) -> PathBuf {
    root.join(utc_stamp(SystemTime::now()))
}

/// Creates a fresh run directory under `root`: `default_dir(root)`, or with a `-2`, `-3`...
/// suffix when another run started in the same second.
pub fn create_run_dir(root: &Path) -> Result<PathBuf, ReportError> {
    std::fs::create_dir_all(root).map_err(|e| ReportError::file(root, e))?;
    let base = default_dir(root);
    for n in 1..1000 {
        let dir = match n {
            1 => base.clone(),
            _ => PathBuf::from(format!("{}-{n}", base.display())),
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ReportError::file(&dir, e)),
        }
    }
    Err(ReportError::file(
        &base,
        std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    ))
}

/// Points `root/latest` at `dir`, replacing any previous link atomically (a new link is
/// made beside it and renamed over it). The link is relative when `dir` is inside `root`.
pub fn point_latest(root: &Path, dir: &Path) -> Result<PathBuf, ReportError> {
    let latest = root.join("latest");
    let target = match dir.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => dir.to_path_buf(),
    };
    let tmp = root.join(format!(".latest.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&target, &tmp).map_err(|e| ReportError::file(&tmp, e))?;
    std::fs::rename(&tmp, &latest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ReportError::file(&latest, e)
    })?;
    Ok(latest)
}

/// How many older runs `prune` keeps besides the latest, by default.
pub const DEFAULT_KEEP: usize = 5;

/// Makes `dir` (and its parents) and checks that a file can be written in it,
/// so that a run learns before its first trial that it could not report.
pub fn check_writable(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::at("create", dir, e))?;
    tempfile::tempfile_in(dir)
        .map(drop)
        .map_err(|e| ReportError::at("write in", dir, e))
}

/// Whether `name` is that of a run directory: `YYYYMMDDTHHMMSSZ`, maybe with `-N`.
fn is_run_dir_name(name: &str) -> bool {
    let stamp = name.split_once('-').map_or(name, |(s, _)| s);
    stamp.len() == 16
        && stamp.as_bytes()[8] == b'T'
        && stamp.ends_with('Z')
        && stamp[..8]
            .bytes()
            .chain(stamp[9..15].bytes())
            .all(|b| b.is_ascii_digit())
}

/// Removes the oldest finished run directories under `root` (those holding a
/// `report.json`) besides `latest`, the run just written, keeping `keep` of
/// them. The latest is never removed, even where its name sorts first (a
/// name freed by an earlier prune within the same second is taken again).
/// Directories of runs still going, and anything else, are left alone.
pub fn prune(root: &Path, latest: &Path, keep: usize) -> Result<Vec<PathBuf>, ReportError> {
    let entries = std::fs::read_dir(root).map_err(|e| ReportError::at("read", root, e))?;
    let latest_name = latest.file_name();
    let mut runs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| Some(e.file_name().as_os_str()) != latest_name)
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, path)| is_run_dir_name(name) && path.join("report.json").exists())
        .collect();
    runs.sort_by_key(|(name, _)| run_order(name));
    let surplus = runs.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for (_, path) in runs.into_iter().take(surplus) {
        std::fs::remove_dir_all(&path).map_err(|e| ReportError::at("remove", &path, e))?;
        removed.push(path);
    }
    Ok(removed)
}

/// The order of run directory names: by stamp, then by `-N` suffix.
fn run_order(name: &str) -> (String, u32) {
    match name.split_once('-') {
        Some((stamp, n)) => (stamp.to_string(), n.parse().unwrap_or(0)),
        None => (name.to_string(), 1),
    }
}

/// `t` as a compact UTC timestamp, `YYYYMMDDTHHMMSSZ`.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The trials of a report grouped by namespace type, types in the order of the kind
/// table (unknown types after, by name), trials in report order.
pub(crate) fn by_type(report: &Report) -> Vec<(&str, Vec<&TrialRecord>)> {
    let mut groups: BTreeMap<(usize, &str), Vec<&TrialRecord>> = BTreeMap::new();
    for t in &report.trials {
        let rank = NsType::all()
            .position(|ty| ty.name() == t.ty)
            .unwrap_or(usize::MAX);
        groups.entry((rank, t.ty.as_str())).or_default().push(t);
    }
    groups.into_iter().map(|((_, ty), v)| (ty, v)).collect()
}

/// The distinct targets of a report, in order of first appearance.
pub(crate) fn targets(report: &Report) -> Vec<&str> {
    crate::verdict::targets(&report.trials)
}

/// The name of a trial inside its type: `<case>::<door>`, with ` @<target>` appended when
/// the report holds several targets.
pub(crate) fn trial_name(t: &TrialRecord, several_targets: bool) -> String {
    if several_targets {
        format!("{}::{} @{}", t.case, t.door, t.target)
    } else {
        format!("{}::{}", t.case, t.door)
    }
}

/// `s` on one line: line breaks and other control characters become spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_never_removes_the_latest_whatever_its_name() {
        let root = tempfile::tempdir().unwrap();
        let run = |name: &str| {
            let dir = root.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("report.json"), "{}").unwrap();
            dir
        };
        run("20261202T031326Z-2");
        run("20261202T031326Z-3");
        // The name a prune freed, taken again by the newest run.
        let latest = run("20261202T031326Z");
        let removed = prune(root.path(), &latest, 1).unwrap();
        assert_eq!(removed, vec![root.path().join("20261202T031326Z-2")]);
        assert!(latest.join("report.json").exists());
    }
    use rstest::rstest;
    use std::time::Duration;

    #[rstest]
    #[case(0, "19700101T000000Z")]
    #[case(951_782_400, "20000229T000000Z")]
    #[case(1_795_915_800, "20261129T013000Z")]
    fn stamps(#[case] secs: u64, #[case] want: &str) {
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(secs)), want);
    }

    #[rstest]
    #[case("json,junit,ktap,md,html", Format::ALL.to_vec())]
    #[case("md, json", vec![Format::Json, Format::Markdown])]
    #[case("all", Format::ALL.to_vec())]
    fn format_lists(#[case] list: &str, #[case] want: Vec<Format>) {
        assert_eq!(Format::parse_list(list).unwrap(), want);
    }

    #[test]
    fn unknown_format_is_an_error() {
        let err = Format::parse_list("json,pdf").unwrap_err();
        assert!(err.to_string().contains("`pdf`"), "{err}");
    }
}
