//! A host that restricts user namespaces makes rootless trials skips that
//! name the setting, never failures: the whole suite, run as the mapped
//! root of a user namespace (so rootless) whose `user.max_user_namespaces`
//! is 0, gives only skips: those of cases that need host root say so, every
//! other one names `user.max_user_namespaces = 0`.
//!
//! The limit is written inside the user namespace unshare(1) made: it is
//! that namespace's own (user_namespaces(7), /proc/sys/user), so the host's
//! limit is never touched. Where unshare(1) or user namespaces are missing
//! the test is skipped, except under `CI=true`, where it fails.

mod support_rel;

use std::process::{Command, Stdio};

use serde_json::Value;
use support_rel::source_dir;

/// Set the limit inside the namespace, then run the command.
const SETUP: &str = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"";

fn unshare() -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user"]).stdin(Stdio::null());
    cmd
}

/// Why the user namespace cannot be made or limited here, if it cannot.
fn unavailable() -> Option<String> {
    match unshare().args(["sh", "-c", SETUP, "sh", "true"]).output() {
        Err(e) => Some(format!("unshare(1) cannot run: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "unshare(1) cannot make a user namespace with a limit of 0: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    }
}

#[test]
fn restricted_user_namespaces_give_skips_naming_the_setting() {
    if let Some(reason) = unavailable() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true, and {reason}"
        );
        eprintln!("skipped: {reason}");
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let reports = scratch.path().join("reports");
    let out = unshare()
        .args(["sh", "-c", SETUP, "sh"])
        .arg(env!("CARGO_BIN_EXE_nsconform"))
        .args(["run", "-q", "--report-dir"])
        .arg(&reports)
        .arg("--cases")
        .arg(source_dir("cases"))
        .arg("--fixtures")
        .arg(source_dir("fixtures"))
        .output()
        .expect("unshare(1) starts");
    let text = std::fs::read_to_string(reports.join("report.json")).unwrap_or_else(|e| {
        panic!(
            "no report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: Value = serde_json::from_str(&text).expect("report.json is JSON");
    let trials = report["trials"].as_array().expect("a list of trials");
    assert!(!trials.is_empty(), "no trials");
    let setting = "user.max_user_namespaces = 0";
    let needs_root = "needs CAP_SYS_ADMIN in the initial user namespace";
    let named = |t: &Value| {
        let reason = t["reason"].as_str().unwrap_or("");
        t["verdict"] == "skip" && (reason.contains(setting) || reason.starts_with(needs_root))
    };
    let by_setting = trials
        .iter()
        .filter(|t| t["reason"].as_str().unwrap_or("").contains(setting))
        .count();
    assert!(by_setting > 0, "no skip names {setting}");
    let other: Vec<String> = trials
        .iter()
        .filter(|t| !named(t))
        .map(|t| format!("{} {}: {}", t["id"], t["verdict"], t["reason"]))
        .collect();
    assert!(
        other.is_empty(),
        "{} trials are not skips naming {setting}:\n{}",
        other.len(),
        other.join("\n")
    );
}
