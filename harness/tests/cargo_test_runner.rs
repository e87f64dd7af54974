//! The conformance suite under the test runners (`tests/conformance.rs`):
//! a partial `cargo test` run writes its reports beside a full one, never
//! over it, and under nextest a trial that skips at run time is a failure,
//! never a pass. Each test runs the built conformance test binary on a few
//! cases of its own, with its reports in a temporary directory.

mod tool_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The conformance test binary beside this one (the newest, if several
/// builds are there), which `cargo test` builds with every test target.
fn conformance() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    let is_binary = |p: &Path| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with("conformance-")
            && p.extension().is_none()
            && p.metadata()
                .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    };
    let found = std::fs::read_dir(deps).ok()?.flatten().map(|e| e.path());
    found
        .filter(|p| is_binary(p))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

fn source_file(path: &str) -> String {
    let at = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&at).unwrap_or_else(|e| panic!("{}: {e}", at.display()))
}

/// Write `text` to `root/dir/ty/name.json`.
fn put(root: &Path, dir: &str, ty: &str, name: &str, text: &str) {
    let at = root.join(dir).join(ty);
    std::fs::create_dir_all(&at).unwrap();
    std::fs::write(at.join(format!("{name}.json")), text).unwrap();
}

/// Copy the case `ty/name` and its fixture from the source tree.
fn copy_case(root: &Path, ty: &str, name: &str) {
    for dir in ["cases", "fixtures"] {
        put(
            root,
            dir,
            ty,
            name,
            &source_file(&format!("{dir}/{ty}/{name}.json")),
        );
    }
}

/// Run the conformance binary on the suite under `root` with `args`;
/// `extra` adds environment variables. None when it is not built.
fn run(root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Option<Output> {
    let Some(bin) = conformance() else {
        tool_support::missing(
            "the conformance test binary",
            "build it with `cargo test --test conformance --no-run`",
        );
        return None;
    };
    assert_fresh(&bin);
    let mut cmd = Command::new(&bin);
    cmd.args(args)
        .env("NSCONFORM_CASES", root.join("cases"))
        .env("NSCONFORM_FIXTURES", root.join("fixtures"))
        .env("NSCONFORM_REPORT_ROOT", root.join("reports"))
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_RUN_ID");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    Some(out)
}

/// The binary is newer than `tests/conformance.rs`: `cargo test --test
/// cargo_test_runner` alone does not rebuild it, and an old one would be
/// tested instead.
fn assert_fresh(bin: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance.rs");
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    assert!(
        modified(bin) >= modified(&source),
        "{} is older than {}: rebuild it with `cargo test --test conformance --no-run`",
        bin.display(),
        source.display()
    );
}

fn shown(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The ids of the trials in the JSON report under `dir`.
fn trial_ids(dir: &Path) -> Vec<String> {
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let trials = report["trials"].as_array().expect("report.json has trials");
    let mut ids: Vec<String> = trials
        .iter()
        .map(|t| t["id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_partial_run_never_replaces_a_full_one() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_case(root, "uts", "hostname-isolated");
    copy_case(root, "uts", "copied-from-creator");
    let Some(full) = run(root, &[], &[]) else {
        return;
    };
    assert!(full.status.success(), "the full run: {}", shown(&full));
    let reports = root.join("reports");
    let full_ids = trial_ids(&reports.join("cargo-test"));
    assert!(
        full_ids
            .iter()
            .any(|id| id.starts_with("uts::copied-from-creator::"))
            && full_ids
                .iter()
                .any(|id| id.starts_with("uts::hostname-isolated::")),
        "the full run reported both cases: {full_ids:?}"
    );
    assert!(!reports.join("cargo-test-partial").exists());
    let partial = run(root, &["uts::hostname-isolated::"], &[]).unwrap();
    assert!(
        partial.status.success(),
        "the partial run: {}",
        shown(&partial)
    );
    let partial_ids = trial_ids(&reports.join("cargo-test-partial"));
    assert!(
        !partial_ids.is_empty()
            && partial_ids
                .iter()
                .all(|id| id.starts_with("uts::hostname-isolated::")),
        "the partial run reported only what it ran: {partial_ids:?}"
    );
    assert_eq!(
        trial_ids(&reports.join("cargo-test")),
        full_ids,
        "the full report was replaced"
    );
}

/// A case that no listing can rule out but that skips when it runs: its
/// cgroup step refuses (EOPNOTSUPP) inside a new pid namespace, and the
/// fixture says nothing of the steps, so the refusal is a skip.
const SKIPS_AT_RUN_TIME: &str = r#"{
  "about": "A cgroup step in a new pid namespace, which the step refuses with EOPNOTSUPP.",
  "namespaces": { "pid": {}, "cgroup": {} },
  "steps": [ { "cgroup": { "clone_into": {} } } ],
  "observe": [ "inside" ],
  "requires": { "privilege": "userns", "features": [ "ns.pid", "ns.cgroup" ] },
  "doors": "once"
}"#;

const TRIAL: &str = "pid::skips-at-run-time::";

#[test]
fn under_nextest_a_run_time_skip_is_no_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    put(root, "cases", "pid", "skips-at-run-time", SKIPS_AT_RUN_TIME);
    put(
        root,
        "fixtures",
        "pid",
        "skips-at-run-time",
        r#"{ "inside": {} }"#,
    );
    let Some(cargo) = run(root, &[TRIAL], &[]) else {
        return;
    };
    let text = shown(&cargo);
    assert!(cargo.status.success(), "under cargo test: {text}");
    assert!(
        text.contains("1 ignored") && text.contains("cgroup.clone_into) failed with EOPNOTSUPP"),
        "under cargo test the trial is ignored with its reason: {text}"
    );
    std::fs::remove_dir_all(root.join("reports")).unwrap();
    let nextest = run(root, &[TRIAL], &[("NEXTEST", "1"), ("NEXTEST_RUN_ID", "0")]).unwrap();
    let text = shown(&nextest);
    assert!(
        !nextest.status.success(),
        "under nextest the trial passed: {text}"
    );
    assert!(
        text.contains("skipped at run time")
            && text.contains("cgroup.clone_into) failed with EOPNOTSUPP"),
        "under nextest the failure gives the reason: {text}"
    );
    assert!(
        !root.join("reports").exists(),
        "under nextest no report is written"
    );
}
