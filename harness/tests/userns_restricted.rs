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
use support_rel::wrapped;

/// Set the limit inside the namespace, then run the command.
const SETUP: &str = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"";

fn unshare() -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user"]).stdin(Stdio::null());
    cmd
}

#[test]
fn restricted_user_namespaces_give_skips_naming_the_setting() {
    let limited = wrapped::unavailable(
        unshare(),
        &["sh", "-c", SETUP, "sh", "true"],
        "a user namespace with a limit of 0",
    );
    if let Some(reason) = limited {
        wrapped::skip(&reason);
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let mut wrapper = unshare();
    wrapper.args(["sh", "-c", SETUP, "sh"]);
    let report = wrapped::run_suite(wrapper, &scratch.path().join("reports"));
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
