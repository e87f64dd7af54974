//! The runtime doors against real runtimes: a run through runc has no
//! `error` verdict and leaves nothing behind, and a runc that tampers with
//! config.json (`tests/tools/runc_tamper.py`, through `--door oci:PATH`)
//! fails exactly the cases that observe what it changed. Without runc (or
//! python3) the tests say so and pass, except under `CI=true`, where CI has
//! installed them and their absence is a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Whether `program` is on PATH; under CI a missing one fails the test.
fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} is missing, and CI installs it"
        );
        eprintln!("skipped: {program} is not installed");
    }
    found
}

/// Run `nsconform run ARGS` into a fresh report directory; its report.json.
fn run(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_nsconform"))
        .arg("run")
        .args(args)
        .arg("--report-dir")
        .arg(dir.path())
        .args(["--format", "json", "--quiet"])
        .output()
        .expect("run nsconform");
    let text = std::fs::read_to_string(dir.path().join("report.json")).unwrap_or_else(|e| {
        panic!(
            "no report.json ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(&text).expect("report.json")
}

/// Verdicts by trial id (`<type>::<case>::<door>`).
fn verdicts(report: &Value) -> BTreeMap<String, String> {
    let trials = report["trials"].as_array().cloned().unwrap_or_default();
    trials
        .iter()
        .map(|t| {
            let id = t["id"].as_str().unwrap_or("?").to_string();
            (id, t["verdict"].as_str().unwrap_or("?").to_string())
        })
        .collect()
}

/// Whether the probe whose pid follows `prefix` in `name` is gone: what
/// it left is left behind, while a live probe's (another test's, running at
/// the same time) is still in use.
fn orphaned(name: &str, prefix: &str) -> bool {
    let pid = name
        .strip_prefix(prefix)
        .and_then(|r| r.split('-').next())
        .and_then(|p| p.parse::<i32>().ok());
    pid.is_some_and(|p| {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None) == Err(nix::errno::Errno::ESRCH)
    })
}

/// The runtime workspaces under the temporary directory that no live probe
/// owns.
fn workspaces() -> Vec<PathBuf> {
    let tmp = std::env::temp_dir();
    let entries = std::fs::read_dir(&tmp).map(|d| d.flatten().collect::<Vec<_>>());
    entries
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| orphaned(&n.to_string_lossy(), "nsconform-runtime-"))
        })
        .collect()
}

/// Cgroups named like a runtime door's containers whose probe is gone, in
/// any hierarchy.
fn leftover_cgroups() -> Vec<PathBuf> {
    let roots = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];
    let mut dirs: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
    for r in roots {
        if let Ok(d) = std::fs::read_dir(r) {
            dirs.extend(d.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    dirs.iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| orphaned(&n.to_string_lossy(), "nsconform-"))
        })
        .collect()
}

#[test]
fn runc_runs_uts_cases_and_leaves_nothing() {
    if !have("runc") || !nsconform::env::privileged() {
        return;
    }
    let report = run(&["--door", "runc", "--type", "uts"]);
    let v = verdicts(&report);
    assert!(v.keys().any(|id| id.ends_with("::runc")), "{v:?}");
    assert!(v.values().all(|v| v != "error"), "{v:#?}");
    assert!(v.values().any(|v| v == "pass"), "{v:#?}");
    let left = workspaces();
    assert!(left.is_empty(), "workspaces left behind: {left:?}");
    assert!(leftover_cgroups().is_empty(), "{:?}", leftover_cgroups());
}

/// The cases the tampering runc must fail: those that observe the UTS
/// namespace or the hostname, or the first uid mapping.
const AFFECTED: [&str; 7] = [
    "uts::oci-new-without-path",
    "uts::oci-join-by-path",
    "uts::oci-unlisted-inherited",
    "uts::oci-duplicate-type-fails",
    "uts::oci-path-of-wrong-type-fails",
    "uts::oci-hostname-set",
    "user::oci-maps-several-ranges",
];

#[test]
fn a_tampering_runc_fails_exactly_the_affected_cases() {
    if !have("runc") || !have("python3") || !nsconform::env::privileged() {
        return;
    }
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/runc_tamper.py");
    let oci = format!("oci:{}", wrapper.display());
    let report = run(&["--door", "runc", "--door", &oci, "--case", "::oci-"]);
    let v = verdicts(&report);
    let mut changed = Vec::new();
    for (id, real) in v.iter().filter(|(id, _)| id.ends_with("::runc")) {
        let case = id.trim_end_matches("::runc");
        let tampered = v.get(&format!("{case}::oci")).map(String::as_str);
        if real == "pass" && tampered != Some("pass") {
            assert_eq!(tampered, Some("fail"), "{case}: {v:#?}");
            changed.push(case.to_string());
        } else {
            assert!(real != "pass" || tampered == Some("pass"), "{case}");
        }
    }
    let expected: Vec<String> = AFFECTED.iter().map(|s| s.to_string()).collect();
    changed.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(changed, expected_sorted, "{v:#?}");
}
