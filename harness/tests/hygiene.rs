//! Host hygiene: a run killed at any moment, two runs at once and a run as
//! an ordinary user leave the host as they found it.
//!
//! Other suites may run beside these tests (`cargo test` runs test binaries
//! in parallel), so every run started here carries a marker in its
//! environment, and only processes with that marker count as this test's.

mod support_rel;
mod tool_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support_rel::snapshot::HostSnapshot;
use support_rel::*;

/// How long one whole run may take before the test gives up on it.
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// How long a killed run's processes may take to go.
const GONE_LIMIT: Duration = Duration::from_secs(10);
/// How many times the kill test kills a run.
const KILLS: usize = 20;

/// Start `nsconform run` with `marker`, writing into `report_dir`.
fn start(program: &[&Path], report_dir: &Path, marker: &str) -> Child {
    let (first, rest) = program.split_first().expect("a program");
    let mut cmd = Command::new(first);
    cmd.args(rest)
        .arg("run")
        .arg("--report-dir")
        .arg(report_dir)
        .args(["-q", "-j", "2"])
        .arg("--cases")
        .arg(source_dir("cases"))
        .arg("--fixtures")
        .arg(source_dir("fixtures"))
        .env(MARKER_VAR, marker)
        .current_dir(report_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().expect("start nsconform run")
}

/// Run to the end; the exit status, or a panic past [`RUN_LIMIT`].
fn finish(mut child: Child, what: &str) -> std::process::ExitStatus {
    let status = wait_bounded(&mut child, RUN_LIMIT);
    let status = status.unwrap_or_else(|| panic!("{what}: still running after {RUN_LIMIT:?}"));
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        eprintln!("{what}: {status}; stderr:\n{err}");
    }
    status
}

/// Assert that the host looks as in `before` (allowing a moment for the
/// kernel to finish tearing namespaces down).
fn assert_unchanged(before: &HostSnapshot, marker: &str, when: &str) {
    let scope = scope(marker);
    let left = wait_gone(&scope, GONE_LIMIT);
    assert!(
        left.is_empty(),
        "{when}: processes of the suite still there after {GONE_LIMIT:?}: {left:#?}"
    );
    let diff = settle(before, &scope, Duration::from_secs(2));
    assert!(
        diff.is_empty(),
        "{when}: the host changed:\n{}",
        diff.join("\n")
    );
}

/// `n` moments from `first` to `last`, spread geometrically (more of them
/// early, where start-up happens, and some up to the end).
fn moments(first: Duration, last: Duration, n: usize) -> Vec<Duration> {
    let (a, b) = (
        first.as_secs_f64(),
        last.as_secs_f64().max(first.as_secs_f64()),
    );
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1).max(1) as f64;
            Duration::from_secs_f64(a * (b / a).powf(t))
        })
        .collect()
}

fn temp_root() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("nsconform-hygiene-")
        .tempdir()
        .expect("a temporary directory")
}

fn run_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("a report directory");
    dir
}

#[test]
fn a_run_killed_at_any_moment_leaves_nothing() {
    let _serial = one_at_a_time();
    let root = temp_root();
    let marker = unique_marker("kill");
    let before = HostSnapshot::take_scoped(&scope(&marker));
    let bin = nsconform();
    let started = Instant::now();
    let child = start(&[&bin], &run_dir(root.path(), "full"), &marker);
    assert!(finish(child, "the measured run").success());
    let full = started.elapsed();
    assert_unchanged(&before, &marker, "after a whole run");
    let last = full.mul_f64(0.95).max(Duration::from_millis(50));
    let mut probes_seen = 0;
    for (i, at) in moments(Duration::from_millis(5), last, KILLS)
        .into_iter()
        .enumerate()
    {
        let dir = run_dir(root.path(), &format!("kill-{i}"));
        let mut child = start(&[&bin], &dir, &marker);
        let spawned = Instant::now();
        std::thread::sleep(at.saturating_sub(spawned.elapsed()));
        let early = matches!(child.try_wait(), Ok(Some(_)));
        let running = support_rel::snapshot::suite_processes(&scope(&marker));
        probes_seen += running
            .iter()
            .filter(|p| p.exe == "nsconform-probe")
            .count();
        // By its pid only: Child::kill sends SIGKILL to this one process.
        let _ = child.kill();
        let _ = child.wait();
        let when = format!("kill {i} at {at:?} of a {full:?} run (ended before: {early})");
        assert_unchanged(&before, &marker, &when);
    }
    // The marker reaches the probes, so the checks above did look at them.
    assert!(probes_seen > 0, "no probe was ever seen running");
}

#[test]
fn two_runs_at_once_both_pass() {
    let _serial = one_at_a_time();
    let root = temp_root();
    let marker = unique_marker("pair");
    let before = HostSnapshot::take_scoped(&scope(&marker));
    let bin = nsconform();
    let a = start(&[&bin], &run_dir(root.path(), "a"), &marker);
    let b = start(&[&bin], &run_dir(root.path(), "b"), &marker);
    let (sa, sb) = (finish(a, "run a"), finish(b, "run b"));
    assert!(sa.success() && sb.success(), "run a: {sa}, run b: {sb}");
    assert_unchanged(&before, &marker, "after two runs at once");
}

/// The tests of this file compare snapshots of the whole host, so they must
/// not run beside each other: one's runs would show in another's snapshot.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a skip names a missing privilege, a missing feature or a door
/// that cannot express the case: the class the report records beside the reason.
fn names_privilege_or_feature(trial: &Value) -> bool {
    matches!(
        trial["skip"].as_str(),
        Some("privilege" | "feature" | "door")
    )
}

#[test]
fn the_whole_suite_as_nobody() {
    let _serial = one_at_a_time();
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root() {
        eprintln!("skipped: needs root to become nobody");
        return;
    }
    if !setpriv.exists() {
        tool_support::missing("/usr/bin/setpriv", "apt-get install -y util-linux");
        return;
    }
    let root = temp_root();
    let dir = run_dir(root.path(), "nobody");
    for (path, mode) in [(root.path(), 0o755), (dir.as_path(), 0o777)] {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(mode);
        std::fs::set_permissions(path, mode).expect("chmod the report directory");
    }
    let marker = unique_marker("nobody");
    let before = HostSnapshot::take_scoped(&scope(&marker));
    let bin = nsconform();
    let args = [
        setpriv,
        Path::new("--reuid=65534"),
        Path::new("--regid=65534"),
        Path::new("--clear-groups"),
        &bin,
    ];
    let status = finish(start(&args, &dir, &marker), "the run as nobody");
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    let report: Value = serde_json::from_str(&text).expect("report.json is JSON");
    assert_eq!(
        report["environment"]["uid"], 65534,
        "the run was not as nobody"
    );
    let trials = report["trials"].as_array().expect("a list of trials");
    assert!(!trials.is_empty());
    let mut bad = Vec::new();
    for t in trials {
        let reason = t["reason"].as_str().unwrap_or("");
        match t["verdict"].as_str() {
            Some("pass") => {}
            Some("skip") if names_privilege_or_feature(t) => {}
            other => bad.push(format!("{}: {other:?}: {reason}", t["id"])),
        }
    }
    assert!(bad.is_empty(), "as nobody:\n{}", bad.join("\n"));
    assert!(status.success(), "the run as nobody exited with {status}");
    assert_unchanged(&before, &marker, "after the run as nobody");
}

#[test]
fn moments_are_spread_from_first_to_last() {
    let m = moments(Duration::from_millis(5), Duration::from_secs(2), 20);
    assert_eq!(m.len(), 20);
    assert_eq!(m[0], Duration::from_millis(5));
    assert!((m[19].as_secs_f64() - 2.0).abs() < 1e-6);
    assert!(m.windows(2).all(|w| w[0] < w[1]));
}
