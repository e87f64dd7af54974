//! `nsconform run --shard K/N` and `nsconform merge`: two shards together run
//! every trial exactly once, and their merge equals the unsharded run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn nsconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nsconform"))
        .args(args)
        .output()
        .expect("run nsconform")
}

/// Trial id -> verdict of a report.json.
fn verdicts(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).expect("report.json");
    let r: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut out = BTreeMap::new();
    for t in r["trials"].as_array().expect("trials") {
        let id = t["id"].as_str().unwrap().to_string();
        let verdict = t["verdict"].as_str().unwrap().to_string();
        assert!(out.insert(id.clone(), verdict).is_none(), "{id} twice");
    }
    out
}

fn run_into(dir: &Path, extra: &[&str]) {
    let mut args = vec!["run", "--type", "uts", "--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--report-dir", dir.to_str().unwrap()]);
    let out = nsconform(&args);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_shards_merged_equal_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, one, two, merged) = (
        tmp.path().join("whole"),
        tmp.path().join("one"),
        tmp.path().join("two"),
        tmp.path().join("merged"),
    );
    run_into(&whole, &[]);
    run_into(&one, &["--shard", "1/2"]);
    run_into(&two, &["--shard", "2/2"]);
    let (a, b) = (
        verdicts(&one.join("report.json")),
        verdicts(&two.join("report.json")),
    );
    assert!(!a.is_empty() && !b.is_empty(), "a shard is empty");
    assert!(a.keys().all(|k| !b.contains_key(k)), "shards overlap");
    let out = nsconform(&[
        "merge",
        one.join("report.json").to_str().unwrap(),
        two.join("report.json").to_str().unwrap(),
        "--report-dir",
        merged.to_str().unwrap(),
    ]);
    assert!(out.status.code().is_some_and(|c| c <= 1));
    assert_eq!(
        verdicts(&merged.join("report.json")),
        verdicts(&whole.join("report.json"))
    );
    assert!(merged.join("matrix.md").is_file());
}

#[test]
fn merging_a_report_with_itself_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    run_into(&one, &["--shard", "1/4"]);
    let r = one.join("report.json");
    let out = nsconform(&[
        "merge",
        r.to_str().unwrap(),
        r.to_str().unwrap(),
        "--report-dir",
        tmp.path().join("m").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in two reports"));
}

#[test]
fn a_bad_shard_is_a_usage_error() {
    let out = nsconform(&["run", "--shard", "3/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("K/N"));
}
