//! The command line as a new user meets it: no green run that checked
//! nothing, pipes, signals, typos, a binary that carries its suite, and
//! report directories kept within bounds.

mod support_rel;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support_rel::snapshot;
use support_rel::*;

fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(nsconform())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run nsconform")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// A cases and a fixtures directory with one good uts case, one case with a
/// JSON syntax error and one with an unknown field.
fn broken_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["cases/uts", "fixtures/uts"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for sub in ["cases", "fixtures"] {
        let from = source_dir(sub).join("uts/hostname-isolated.json");
        let text = std::fs::read_to_string(from).unwrap();
        let to = dir.path().join(sub).join("uts");
        std::fs::write(to.join("hostname-isolated.json"), &text).unwrap();
        std::fs::write(to.join("syntax.json"), "{ \"about\": ").unwrap();
        let extra = text.replacen('{', "{ \"no_such_field\": 1,", 1);
        std::fs::write(to.join("unknown-field.json"), extra).unwrap();
    }
    dir
}

#[test]
fn broken_files_are_errors_whatever_the_filters() {
    let tree = broken_tree();
    let (cases, fixtures) = (tree.path().join("cases"), tree.path().join("fixtures"));
    let (c, f) = (cases.to_str().unwrap(), fixtures.to_str().unwrap());
    let reports = tempfile::tempdir().unwrap();
    let rd = reports.path().to_str().unwrap();
    for filter in [
        ["--door", "clone"],
        ["--type", "ipc"],
        ["--case", "hostname"],
    ] {
        let mut args = vec!["run", "-q", "--report-dir", rd];
        args.extend(filter);
        args.extend(["--cases", c, "--fixtures", f]);
        let out = run_in(tree.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{filter:?}: {}", stderr(&out));
        let r = report(reports.path());
        let errors: Vec<&Value> = (r["trials"].as_array().unwrap().iter())
            .filter(|t| t["verdict"] == "error")
            .collect();
        assert_eq!(errors.len(), 2, "{filter:?}: the two broken pairs");
    }
    let list = run_in(tree.path(), &["list", "--cases", c, "--fixtures", f]);
    assert_eq!(
        list.status.code(),
        Some(1),
        "list exits non-zero over broken files"
    );
    assert!(
        stderr(&list).contains("syntax.json:1:"),
        "{}",
        stderr(&list)
    );
}

#[test]
fn a_selection_of_nothing_is_not_green() {
    let here = tempfile::tempdir().unwrap();
    for pattern in ["no-such-thing", "uts::*::no-such-door"] {
        let out = run_in(here.path(), &["run", "-q", "--case", pattern]);
        assert_eq!(out.status.code(), Some(2), "{pattern}");
        assert!(
            stderr(&out).contains("no trial matches"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!here.path().join("reports").exists(), "nothing was written");
    let out = run_in(here.path(), &["list", "--case", "uts::*::clone3"]);
    assert_eq!(out.status.code(), Some(0));
    let ids = String::from_utf8_lossy(&out.stdout);
    assert!(ids.lines().count() > 1);
    assert!(ids
        .lines()
        .all(|l| l.starts_with("uts::") && l.ends_with("::clone3")));
}

#[test]
fn typos_get_the_valid_names_and_zero_is_refused() {
    let here = tempfile::tempdir().unwrap();
    let out = run_in(here.path(), &["list", "--door", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("known: clone, clone3, unshare, setns, setns-pidfd"));
    let out = run_in(here.path(), &["list", "--type", "bogus"]);
    assert!(stderr(&out).contains("known: ") && stderr(&out).contains("uts"));
    let out = run_in(
        here.path(),
        &["list", "--type", "uts,ipc", "--door", "clone"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids = String::from_utf8_lossy(&out.stdout);
    assert!(ids.contains("uts::") && ids.contains("ipc::") && !ids.contains("pid::"));
    for flag in ["--timeout", "--jobs"] {
        let out = run_in(here.path(), &["run", flag, "0"]);
        assert_eq!(out.status.code(), Some(2), "{flag} 0 is refused");
    }
}

#[test]
fn list_into_a_closed_pipe_does_not_panic() {
    let mut child = Command::new(nsconform())
        .arg("list")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn errors_name_the_file_and_the_operation_once() {
    let here = tempfile::tempdir().unwrap();
    let out = run_in(
        here.path(),
        &["compare", "/nonexistent.json", "/nonexistent.json"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("failed to read /nonexistent.json"), "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    let readme = source_dir("README.md");
    let out = run_in(
        here.path(),
        &["compare", readme.to_str().unwrap(), "/x.json"],
    );
    let err = stderr(&out);
    assert!(err.contains("README.md"), "{err}");
    assert_eq!(err.matches("line 1 column 1").count(), 1, "{err}");
    let missing = run_in(here.path(), &["run", "--cases", "/nonexistent"]);
    assert!(
        stderr(&missing).contains("--cases"),
        "a hint: {}",
        stderr(&missing)
    );
}

#[test]
fn an_unwritable_report_dir_stops_the_run_before_any_trial() {
    let here = tempfile::tempdir().unwrap();
    let file = here.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let dir = file.join("reports");
    let out = run_in(here.path(), &["run", "--report-dir", dir.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(dir.to_str().unwrap()), "{err}");
    assert!(!err.contains("passed"), "no trial ran: {err}");
    assert_eq!(err.matches("Not a directory").count(), 1, "{err}");
}

#[test]
fn record_drafts_a_fixture_for_a_case_without_one() {
    let tree = broken_tree();
    let cases = tree.path().join("cases");
    std::fs::copy(
        cases.join("uts/hostname-isolated.json"),
        cases.join("uts/new-case.json"),
    )
    .unwrap();
    let fixtures = tree.path().join("fixtures");
    let args = [
        "record",
        "uts::new-case",
        "--cases",
        cases.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
    ];
    let out = run_in(tree.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let draft: Value = serde_json::from_slice(&out.stdout).expect("a JSON draft");
    assert!(draft["inside"]["uts"]["hostname"].is_string(), "{draft}");
}

/// Start a whole run with a marker, wait until it runs probes, send it
/// `signal`, and return its exit code and report directory.
fn interrupt(signal: nix::sys::signal::Signal) -> (Option<i32>, tempfile::TempDir, String) {
    let reports = tempfile::tempdir().unwrap();
    let marker = unique_marker("interrupt");
    let mut child = Command::new(nsconform())
        .args(["run", "-q", "--jobs", "2", "--report-dir"])
        .arg(reports.path())
        .env(MARKER_VAR, &marker)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let scope = scope(&marker);
    let started = (0..20_000).any(|_| {
        let probes = snapshot::suite_processes(&scope);
        let seen = probes.iter().any(|p| p.exe == "nsconform-probe");
        if !seen {
            std::thread::sleep(Duration::from_millis(1));
        }
        seen
    });
    assert!(started, "the run never started a probe");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, signal).unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let left = wait_gone(&scope, Duration::from_secs(10));
    assert!(left.is_empty(), "left behind: {left:?}");
    (status.and_then(|s| s.code()), reports, err)
}

#[test]
fn sigint_and_sigterm_stop_the_run_and_report_what_finished() {
    use nix::sys::signal::Signal;
    for (signal, code) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let (status, reports, err) = interrupt(signal);
        assert_eq!(status, Some(code), "{signal}: {err}");
        let r = report(reports.path());
        assert_eq!(r["interrupted"], signal.as_str(), "{signal}");
        let n = r["trials"].as_array().unwrap().len();
        assert!(n < 900, "{signal}: the run stopped early ({n} trials)");
        let md = std::fs::read_to_string(reports.path().join("summary.md")).unwrap();
        assert!(md.contains("Interrupted"), "{md}");
    }
}

/// The binaries, copied alone into a fresh directory.
fn installed() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for bin in [nsconform(), probe()] {
        std::fs::copy(&bin, dir.path().join(bin.file_name().unwrap())).unwrap();
    }
    let bin = dir.path().join("nsconform");
    (dir, bin)
}

#[test]
fn the_binary_carries_its_suite_and_keeps_few_reports() {
    let (dir, bin) = installed();
    let run = |args: &[&str]| {
        let out = Command::new(&bin)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        out
    };
    let list = run(&["list"]);
    assert!(String::from_utf8_lossy(&list.stdout).lines().count() > 100);
    let selection = [
        "run", "-q", "--type", "uts", "--door", "clone", "--keep", "1",
    ];
    for _ in 0..3 {
        run(&selection);
    }
    let root = dir.path().join("reports");
    let runs: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "latest")
        .collect();
    assert_eq!(runs.len(), 2, "the latest and one older: {runs:?}");
    let r = report(&root.join("latest"));
    assert_eq!(r["suite"]["source"], "built-in");
    let hash = r["suite"]["hash"].as_str().unwrap().to_string();
    assert!(hash.starts_with("fnv1a64:"), "{hash}");
    let (cases, fixtures) = (source_dir("cases"), source_dir("fixtures"));
    let mut from_tree = selection.to_vec();
    from_tree.extend(["--cases", cases.to_str().unwrap()]);
    from_tree.extend(["--fixtures", fixtures.to_str().unwrap()]);
    run(&from_tree);
    let r = report(&root.join("latest"));
    assert_ne!(r["suite"]["source"], "built-in");
    assert_eq!(
        r["suite"]["hash"],
        hash.as_str(),
        "the same files, the same hash"
    );
}
