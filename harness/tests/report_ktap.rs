//! The KTAP writer, checked by the kernel's own KTAP parser (`kunit_parser.py`).
//!
//! The parser comes from Debian's `linux-source-6.12` package (see
//! `tests/tools/ktap_check.py`); without it, or without python3, the check is skipped
//! with a printed reason, and fails with `CI=true`. `.ci/run` installs both.

mod report_support;
mod tool_support;

use std::path::PathBuf;
use std::process::Command;

use nsconform::report::ktap;
use serde_json::Value;

#[test]
fn ktap_shape() {
    let r = report_support::report();
    let k = ktap::to_string(&r);
    let lines: Vec<&str> = k.lines().collect();
    assert_eq!(lines[0], "KTAP version 1");
    assert!(lines.contains(&"1..4"), "{k}");
    assert!(lines.contains(&"  # Subtest: uts"), "{k}");
    assert!(lines.contains(&"  1..6"), "{k}");
    assert!(
        lines.contains(&"  ok 3 isolated::runc # SKIP runtime not installed: runc"),
        "{k}"
    );
    // Diagnostics come before the failing result line.
    let fail = lines
        .iter()
        .position(|l| l.starts_with("  not ok 2 isolated::unshare"))
        .unwrap();
    let diag = lines
        .iter()
        .position(|l| l.starts_with("  # inside.uts.hostname: expected \"nsconform-a\""))
        .unwrap();
    assert!(diag < fail, "{k}");
    assert!(lines.contains(&"not ok 3 uts"), "{k}");
    assert!(k.contains("  # error: probe killed by signal 9"), "{k}");
    // A name never contains `#`: every result line has at most the directive's `#`.
    for l in lines
        .iter()
        .filter(|l| l.trim_start().starts_with("ok ") || l.trim_start().starts_with("not ok "))
    {
        let name = l.split(" # ").next().unwrap();
        assert!(!name.contains('#'), "{l}");
    }
}

fn python() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .ok()?
        .status
        .success();
    ok.then(|| PathBuf::from("python3"))
}

/// Parses the KTAP with kunit_parser.py; `None` (after printing why) when it is absent.
fn parse_with_kunit(ktap: &str) -> Option<Value> {
    let Some(python) = python() else {
        tool_support::missing(
            "python3",
            "apt-get install -y python3; it runs the kernel's KTAP parser",
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("report.ktap");
    let output = dir.path().join("parsed.json");
    std::fs::write(&input, ktap).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/ktap_check.py");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kunit");
    let run = Command::new(python)
        .arg(script)
        .arg(&input)
        .arg(&output)
        .arg(&cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    if run.status.code() == Some(77) {
        tool_support::missing("kunit_parser.py", &stderr);
        return None;
    }
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "ktap_check.py failed:\n{stdout}\n{stderr}"
    );
    eprintln!("{stdout}");
    let text = std::fs::read_to_string(&output).unwrap();
    Some(serde_json::from_str(&text).unwrap())
}

#[test]
fn kernel_parser_agrees() {
    let r = report_support::report();
    let Some(parsed) = parse_with_kunit(&ktap::to_string(&r)) else {
        return;
    };
    let c = &parsed["counts"];
    assert_eq!(c["errors"], 0, "the parser found errors: {parsed:#}");
    assert_eq!(c["crashed"], 0, "{parsed:#}");
    // xfail (`ok # XFAIL`) and xpass (`ok # TODO`) are `ok` lines: the parser counts them passed.
    let s = &r.summary;
    assert_eq!(c["passed"], s.pass + s.xfail + s.xpass);
    assert_eq!(c["skipped"], r.summary.skip);
    // KTAP has no error outcome: an error is a `not ok` with the ERROR directive.
    assert_eq!(c["failed"], r.summary.fail + r.summary.error);
    let suites = parsed["tests"].as_array().unwrap();
    let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["pid", "ipc", "uts", "time"]);
    let uts = &suites[2];
    assert_eq!(uts["status"], "FAILURE");
    let tests = uts["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 6);
    let failed = &tests[1];
    assert_eq!(failed["name"], "isolated::unshare");
    assert_eq!(failed["status"], "FAILURE");
    let log = failed["log"].to_string();
    assert!(log.contains("inside.uts.hostname: expected"), "{log}");
    assert_eq!(suites[1]["status"], "SUCCESS");
    for suite in suites {
        let ty = suite["name"].as_str().unwrap();
        let want = report_support::summary_of(r.trials.iter().filter(|t| t.ty == ty));
        let oks = want.pass + want.xfail + want.xpass;
        assert_eq!(suite["counts"]["passed"], oks, "{ty}");
        assert_eq!(suite["counts"]["skipped"], want.skip, "{ty}");
        assert_eq!(suite["counts"]["failed"], want.fail + want.error, "{ty}");
    }
}

#[test]
fn kernel_parser_accepts_an_all_skipped_type() {
    let mut r = report_support::report();
    r.trials.retain(|t| t.door == "runc");
    r.summary = nsconform::verdict::Summary::of(&r.trials);
    let Some(parsed) = parse_with_kunit(&ktap::to_string(&r)) else {
        return;
    };
    assert_eq!(parsed["counts"]["errors"], 0, "{parsed:#}");
    assert_eq!(parsed["counts"]["skipped"], 8, "{parsed:#}");
    assert_eq!(parsed["status"], "SKIPPED", "{parsed:#}");
}
