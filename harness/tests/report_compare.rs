//! Comparing reports: a report against itself, and a root run against a rootless one.

mod report_support;

use nsconform::compare::{compare, ViewScope};
use nsconform::verdict::{Summary, Verdict};

#[test]
fn a_report_equals_itself() {
    let r = report_support::report();
    let c = compare(&r, &r, &ViewScope::All);
    assert!(c.is_empty(), "{c:?}");
    assert!(!c.verdicts_differ());
    assert_eq!(c.common, r.trials.len());
    assert!(c
        .to_markdown()
        .contains("0 verdicts differ; 0 view fields differ"));
}

#[test]
fn skipped_trials_are_listed_exactly() {
    let root = report_support::report();
    let mut rootless = root.clone();
    let skipped = [
        "uts::isolated::clone",
        "ipc::setns-back::unshare",
        "pid::isolated::unshare",
    ];
    for t in rootless
        .trials
        .iter_mut()
        .filter(|t| skipped.contains(&t.id.as_str()))
    {
        t.verdict = Verdict::Skip;
        t.reason = Some("needs CAP_SYS_ADMIN in the initial user namespace".into());
        t.views = None;
    }
    rootless.summary = Summary::of(&rootless.trials);
    let c = compare(&root, &rootless, &ViewScope::All);
    assert!(c.verdicts_differ());
    let mut ids: Vec<&str> = c.verdicts.iter().map(|v| v.id.as_str()).collect();
    ids.sort();
    let mut want = skipped.to_vec();
    want.sort();
    assert_eq!(ids, want);
    let before = |id: &str| root.trials.iter().find(|t| t.id == id).map(|t| t.verdict);
    assert!(c
        .verdicts
        .iter()
        .all(|v| v.a == before(&v.id) && v.b == Some(Verdict::Skip)));
    let md = c.to_markdown();
    assert!(
        md.contains("| `uts::isolated::clone` | `host` | **pass** | **skip** |"),
        "{md}"
    );
}

#[test]
fn missing_trials_and_view_changes_are_found() {
    let a = report_support::report();
    let mut b = a.clone();
    b.trials.retain(|t| t.id != "ipc::isolated::clone");
    let t = b
        .trials
        .iter_mut()
        .find(|t| t.id == "uts::setns-back::clone")
        .unwrap();
    // Volatile fields change in every run; the hostname is a real difference.
    t.views = Some(report_support::views("other", 7));
    let c = compare(&a, &b, &ViewScope::All);
    assert!(
        c.verdicts.is_empty(),
        "a trial of one side is no verdict change"
    );
    assert!(!c.verdicts_differ());
    assert_eq!(c.only_a.len(), 1);
    assert_eq!(c.only_a[0].id, "ipc::isolated::clone");
    let kept = a.trials.iter().find(|t| t.id == "ipc::isolated::clone");
    assert_eq!(Some(c.only_a[0].verdict), kept.map(|t| t.verdict));
    assert!(c.only_b.is_empty());
    assert_eq!(c.common, a.trials.len() - 1);
    let paths: Vec<&str> = c.views.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["inside.uts.hostname"], "{c:?}");
    assert!(c.to_markdown().contains("## Trials only in A"));
}

#[test]
fn lists_of_strings_compare_as_sets() {
    let mut a = report_support::report();
    a.trials.truncate(1);
    let mut b = a.clone();
    a.trials[0].views = Some(serde_json::json!({"inside": {"user": {"caps": ["a", "b", "c"]}}}));
    b.trials[0].views = Some(serde_json::json!({"inside": {"user": {"caps": ["c", "a", "b"]}}}));
    assert!(compare(&a, &b, &ViewScope::All).views.is_empty());
    b.trials[0].views = Some(serde_json::json!({"inside": {"user": {"caps": ["a", "c"]}}}));
    let c = compare(&a, &b, &ViewScope::All);
    assert_eq!(
        c.views.len(),
        1,
        "one change, not one per shifted element: {c:?}"
    );
}

#[test]
fn by_default_only_judged_fields_compare() {
    let mut a = report_support::report();
    a.trials.truncate(1);
    let mut b = a.clone();
    b.trials[0].views = Some(report_support::views("other", 0));
    let key = (a.trials[0].ty.clone(), a.trials[0].case.clone());
    let judged = |paths: &[&[&str]]| {
        let paths = paths
            .iter()
            .map(|p| p.iter().map(|s| s.to_string()).collect())
            .collect();
        ViewScope::Judged([(key.clone(), paths)].into_iter().collect())
    };
    let hostname: &[&str] = &["inside", "uts", "hostname"];
    let domain: &[&str] = &["inside", "uts", "domainname"];
    assert_eq!(compare(&a, &b, &judged(&[hostname])).views.len(), 1);
    assert!(compare(&a, &b, &judged(&[domain])).views.is_empty());
}
