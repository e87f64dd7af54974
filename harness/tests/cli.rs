//! The `nsconform` command line, as a user runs it.

mod tool_support;

use std::path::Path;
use std::process::{Command, Output};

fn nsconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nsconform"))
        .args(args)
        .output()
        .expect("run nsconform")
}

fn as_nobody(args: &[&str]) -> Option<Output> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    if !Path::new("/usr/bin/setpriv").exists() {
        tool_support::missing("/usr/bin/setpriv", "apt-get install -y util-linux");
        return None;
    }
    let mut cmd = Command::new("/usr/bin/setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        env!("CARGO_BIN_EXE_nsconform"),
    ]);
    Some(cmd.args(args).output().expect("run setpriv"))
}

/// `nsconform run` quietly with `args`, its reports in `dir`.
fn run_into(dir: &Path, args: &[&str]) -> Output {
    let dir = dir.to_str().expect("a UTF-8 path");
    let all: Vec<&str> = ["run", "-q", "--report-dir", dir]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    nsconform(&all)
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// A directory nobody can write into, removed at the end.
fn shared_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    dir
}

#[test]
fn probe_prints_all_nine_sections() {
    let out = nsconform(&["probe"]);
    assert!(out.status.success());
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for s in [
        "pid", "uts", "mnt", "net", "ipc", "user", "cgroup", "time", "ns",
    ] {
        assert!(view.get(s).is_some(), "no {s} section");
    }
}

#[test]
fn run_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_into(dir.path(), &["--type", "uts"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = report(dir.path());
    for key in ["kernel_release", "privileged", "features"] {
        assert!(r["environment"].get(key).is_some(), "environment.{key}");
    }
    for key in ["pass", "fail", "skip", "error"] {
        assert!(r["summary"][key].is_u64(), "summary.{key}");
    }
    let trial = &r["trials"][0];
    for key in [
        "id",
        "type",
        "case",
        "door",
        "target",
        "verdict",
        "duration_ms",
    ] {
        assert!(trial.get(key).is_some(), "trials[0].{key}");
    }
    for file in ["junit.xml", "report.ktap", "summary.md", "matrix.html"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
    junit_and_ktap_match(dir.path(), &r);
}

/// The runtime doors of a report's environment that say they were not asked.
fn runtimes_not_asked(r: &serde_json::Value) -> Vec<String> {
    let doors = r["environment"]["doors"]
        .as_array()
        .expect("environment.doors");
    (doors.iter())
        .filter(|d| (d["unavailable"].as_str()).is_some_and(|u| u.starts_with("not asked")))
        .map(|d| d["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_run_asks_the_runtimes_only_when_it_selects_a_runtime_door() {
    let runtimes = nsconform::plan::runtime::RUNTIME_DOORS.map(|d| d.name());
    for (doors, asked) in [("clone", false), ("clone,bwrap", true)] {
        let dir = tempfile::tempdir().unwrap();
        let case = ["--case", "uts::hostname-isolated", "--format", "json"];
        let out = run_into(dir.path(), &[&case[..], &["--door", doors]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code().is_some_and(|c| c <= 1), "{stderr}");
        let not_asked = runtimes_not_asked(&report(dir.path()));
        if asked {
            assert!(not_asked.is_empty(), "--door {doors}: {not_asked:?}");
        } else {
            assert_eq!(not_asked, runtimes, "--door {doors}");
        }
    }
}

/// The JUnit and KTAP files of a run count what its report.json counts.
fn junit_and_ktap_match(dir: &Path, r: &serde_json::Value) {
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    let skipped = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .count();
    let total = r["trials"].as_array().unwrap().len();
    assert_eq!(cases, total, "one testcase per trial");
    assert_eq!(skipped as u64, r["summary"]["skip"].as_u64().unwrap());
    let ktap = std::fs::read_to_string(dir.join("report.ktap")).unwrap();
    assert!(ktap.starts_with("KTAP version 1\n"));
    let results = ktap
        .lines()
        .filter(|l| l.trim_start().starts_with("ok ") || l.trim_start().starts_with("not ok "))
        .count();
    assert_eq!(
        results,
        total + 1,
        "one result per trial, and one for the type"
    );
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(nsconform(&["run", "--type", "nope"]).status.code(), Some(2));
    assert_eq!(nsconform(&["run", "--door", "nope"]).status.code(), Some(2));
    assert_eq!(nsconform(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        nsconform(&["run", "--cases", "/nonexistent"]).status.code(),
        Some(2)
    );
}

#[test]
fn list_names_trials_by_type_case_and_door() {
    let out = nsconform(&["list", "--type", "pid", "--door", "clone"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 3);
    assert!(
        text.lines()
            .all(|l| l.starts_with("pid::") && l.ends_with("::clone")),
        "{text}"
    );
}

#[test]
fn record_prints_a_draft_and_writes_nothing() {
    let out = nsconform(&["record", "uts::hostname-isolated"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let draft: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON draft");
    assert_eq!(draft["inside"]["uts"]["hostname"], "nsconform-a");
}

#[test]
fn compare_root_and_rootless_lists_the_rootless_skips() {
    let (root, rootless) = (shared_tempdir(), shared_tempdir());
    let args = |d: &tempfile::TempDir| {
        vec![
            "run".to_string(),
            "--type".into(),
            "user".into(),
            "-q".into(),
            "--report-dir".into(),
            d.path().to_str().unwrap().to_string(),
        ]
    };
    let root_args = args(&root);
    let out = nsconform(&root_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0));
    let a = root.path().join("report.json");
    let same = nsconform(&["compare", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0), "a report compared with itself");
    let rootless_args = args(&rootless);
    let Some(out) = as_nobody(&rootless_args.iter().map(String::as_str).collect::<Vec<_>>()) else {
        eprintln!("skipped: the rootless half needs root and setpriv");
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = rootless.path().join("report.json");
    let skips = |dir: &Path| -> Vec<String> {
        report(dir)["trials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["verdict"] == "skip")
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    // A trial skipped as root too (a feature this kernel lacks) is no difference.
    let root_skips = skips(root.path());
    let skipped: Vec<String> = skips(rootless.path())
        .into_iter()
        .filter(|id| !root_skips.contains(id))
        .collect();
    assert!(!skipped.is_empty(), "some user cases need root");
    let cmp = nsconform(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(cmp.status.code(), Some(1));
    let text = String::from_utf8_lossy(&cmp.stdout);
    for id in &skipped {
        assert!(text.contains(id.as_str()), "{id} missing from:\n{text}");
    }
}
