//! Whole-suite runs through the `nsconform` binary: wall time, peak memory,
//! trials per second, and the cost per trial at the start and at the end.

use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The figures of one whole-suite run.
#[derive(Debug, Serialize)]
pub struct SuiteRun {
    pub label: String,
    pub jobs: usize,
    pub trials: usize,
    /// Trials that ran a probe (not skipped).
    pub ran: usize,
    pub wall_s: f64,
    pub trials_per_s: f64,
    /// The largest resident set of the run's processes (the harness, or its
    /// largest probe), in KiB.
    pub peak_rss_kib: i64,
    /// Mean `duration_ms` of the trials that ran, over the first and the
    /// last tenth of the run, and their ratio.
    pub first_tenth_ms: f64,
    pub last_tenth_ms: f64,
    pub last_over_first: f64,
    pub verdicts: serde_json::Value,
    /// The first trials that failed or errored: figures with them are not
    /// a fair measure.
    pub not_passed: Vec<String>,
    pub exit_status: i32,
}

/// Run the whole suite in `cases`/`fixtures` with `jobs` at once.
pub fn run(nsconform: &Path, cases: &Path, fixtures: &Path, jobs: usize, label: &str) -> SuiteRun {
    let reports = tempfile::tempdir().expect("a temporary directory");
    let start = Instant::now();
    // Reaped by `wait4` below, which also gives the run's peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(nsconform)
        .args(["run", "--quiet", "--format=json"])
        .arg(format!("--jobs={jobs}"))
        .arg("--cases")
        .arg(cases)
        .arg("--fixtures")
        .arg(fixtures)
        .arg("--report-dir")
        .arg(reports.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nsconform starts");
    let (status, peak_rss_kib) = wait4(child.id() as libc::pid_t);
    let wall_s = start.elapsed().as_secs_f64();
    let report = read_report(&reports.path().join("report.json"));
    let durations = ran_durations(&report);
    let (first, last) = tenths(&durations);
    let trials = report.trials.len();
    SuiteRun {
        label: label.to_string(),
        jobs,
        trials,
        ran: durations.len(),
        wall_s,
        trials_per_s: trials as f64 / wall_s.max(1e-9),
        peak_rss_kib,
        first_tenth_ms: first,
        last_tenth_ms: last,
        last_over_first: last / first.max(1e-9),
        not_passed: not_passed(&report),
        verdicts: report.summary,
        exit_status: status,
    }
}

/// Wait for `pid`: its exit status (128 + signal) and its peak RSS in KiB.
fn wait4(pid: libc::pid_t) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 writes into the two locals it is given.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let st = std::process::ExitStatus::from_raw(status);
    let code = st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0));
    (code, usage.ru_maxrss)
}

/// The parts of a `report.json` read here; the rest is skipped unread, so
/// that a large report costs little memory.
#[derive(Debug, Default, Deserialize)]
struct Report {
    #[serde(default)]
    summary: serde_json::Value,
    #[serde(default)]
    trials: Vec<Trial>,
}

#[derive(Debug, Deserialize)]
struct Trial {
    #[serde(default)]
    id: String,
    verdict: String,
    #[serde(default)]
    duration_ms: f64,
}

fn read_report(path: &Path) -> Report {
    let Ok(file) = std::fs::File::open(path) else {
        eprintln!("overhead: no report at {}", path.display());
        return Report::default();
    };
    serde_json::from_reader(std::io::BufReader::new(file)).unwrap_or_else(|e| {
        eprintln!("overhead: cannot read {}: {e}", path.display());
        Report::default()
    })
}

/// The `duration_ms` of every trial that ran a probe, in the report's order.
fn ran_durations(report: &Report) -> Vec<f64> {
    (report.trials.iter())
        .filter(|t| t.verdict != "skip" && t.duration_ms > 0.0)
        .map(|t| t.duration_ms)
        .collect()
}

/// The ids and verdicts of the first trials that failed or errored.
fn not_passed(report: &Report) -> Vec<String> {
    (report.trials.iter())
        .filter(|t| t.verdict == "fail" || t.verdict == "error")
        .take(20)
        .map(|t| format!("{} ({})", t.id, t.verdict))
        .collect()
}

/// The means over the first and the last tenth of `d`.
fn tenths(d: &[f64]) -> (f64, f64) {
    let n = (d.len() / 10).max(1).min(d.len());
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    (mean(&d[..n]), mean(&d[d.len() - n..]))
}

/// A suite of `copies` copies of every case and fixture, in a temporary
/// directory: `<name>-copy<k>.json`.
pub fn copies(
    cases: &Path,
    fixtures: &Path,
    copies: usize,
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (c, f) = (dir.path().join("cases"), dir.path().join("fixtures"));
    copy_tree(cases, &c, copies);
    copy_tree(fixtures, &f, copies);
    copy_known_issues(cases, &c, copies);
    (dir, c, f)
}

/// The known issues beside `cases`, each naming the copies of its trials
/// (`type::case` or `type::case::door` becomes `type::case-copy<k>...`), so
/// that a copy of a trial a known issue covers is judged as the trial is.
fn copy_known_issues(cases: &Path, to: &Path, copies: usize) {
    let from = cases
        .parent()
        .unwrap_or(Path::new("."))
        .join("known-issues.json");
    let Ok(text) = std::fs::read_to_string(from) else {
        return;
    };
    let mut known: serde_json::Value = serde_json::from_str(&text).expect("known-issues.json");
    for issue in known["issues"].as_array_mut().into_iter().flatten() {
        let trials: Vec<String> = issue["trials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str())
            .flat_map(|t| (0..copies).map(move |k| copied_trial(t, k)))
            .collect();
        issue["trials"] = serde_json::json!(trials);
    }
    let dest = to
        .parent()
        .expect("a suite directory")
        .join("known-issues.json");
    std::fs::write(dest, known.to_string()).expect("a copied known-issues.json");
}

/// The name of copy `k` of trial `trial`.
fn copied_trial(trial: &str, k: usize) -> String {
    let mut parts: Vec<String> = trial.split("::").map(str::to_string).collect();
    if let Some(case) = parts.get_mut(1) {
        case.push_str(&format!("-copy{k}"));
    }
    parts.join("::")
}

fn copy_tree(from: &Path, to: &Path, copies: usize) {
    for ty in std::fs::read_dir(from)
        .expect("a suite directory")
        .flatten()
    {
        if !ty.path().is_dir() {
            continue;
        }
        let dest = to.join(ty.file_name());
        std::fs::create_dir_all(&dest).expect("a copy directory");
        for file in std::fs::read_dir(ty.path()).into_iter().flatten().flatten() {
            let path = file.path();
            let (Some(stem), Some("json")) = (
                path.file_stem().and_then(OsStr::to_str),
                path.extension().and_then(OsStr::to_str),
            ) else {
                continue;
            };
            for k in 0..copies {
                let target = dest.join(format!("{stem}-copy{k}.json"));
                std::fs::copy(&path, target).expect("a copied file");
            }
        }
    }
}
