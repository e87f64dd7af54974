//! The whole suite run under a wrapping command (unshare(1) with a setup
//! script, say): whether the wrapper can run here, the one way a test that
//! needs it meets its absence, and the report of the run under it.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::source_dir;

/// Why `wrapper` (run with `args` after it) cannot run here, if it cannot;
/// `what` says what it was to make.
pub fn unavailable(mut wrapper: Command, args: &[&str], what: &str) -> Option<String> {
    match wrapper.args(args).output() {
        Err(e) => Some(format!("unshare(1) cannot run: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "unshare(1) cannot make {what}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    }
}

/// The wrapper is missing: skipped on a developer's machine (said on the
/// standard error), a failure with `CI=true`.
pub fn skip(reason: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true, and {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// Run `nsconform run` over the source tree's suite as the last arguments of
/// `wrapper`, writing to `reports`; the report it wrote.
pub fn run_suite(mut wrapper: Command, reports: &Path) -> Value {
    let out = wrapper
        .arg(env!("CARGO_BIN_EXE_nsconform"))
        .args(["run", "-q", "--report-dir"])
        .arg(reports)
        .arg("--cases")
        .arg(source_dir("cases"))
        .arg("--fixtures")
        .arg(source_dir("fixtures"))
        .output()
        .expect("unshare(1) starts");
    let path = reports.join("report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no report at {} ({e}); exit {:?}, stderr:\n{}",
            path.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(&text).expect("report.json is JSON")
}
