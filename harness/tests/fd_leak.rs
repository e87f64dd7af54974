//! Descriptors: running the whole suite in this process leaves no file
//! descriptor open that was not open before.

mod support_rel;

use std::time::Duration;

use nsconform::run::{Config, Filter, Run};
use nsconform::verdict::Verdict;
use support_rel::*;

/// The open descriptors of this process, as `fd -> target`.
fn open_fds() -> Vec<(String, String)> {
    let mut fds: Vec<(String, String)> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .map(|e| {
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, target.display().to_string())
        })
        .collect();
    fds.sort();
    fds
}

#[test]
fn the_whole_suite_leaves_no_descriptor_open() {
    let suite = nsconform::suite::load(&source_dir("cases"), &source_dir("fixtures"))
        .expect("the suite loads");
    let config = Config {
        probe: probe(),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 2,
        full_views: false,
        environment: nsconform::env::probe("host"),
    };
    let run = Run::new(&suite, &Filter::default(), config);
    let before = open_fds();
    run.run_all(&|_| {});
    let after = open_fds();
    let records = run.report().trials;
    assert_eq!(records.len(), run.trials.len());
    let errors: Vec<String> = records
        .iter()
        .filter(|r| r.verdict == Verdict::Error)
        .map(|r| format!("{}: {:?}", r.id, r.reason))
        .collect();
    assert!(errors.is_empty(), "errors: {errors:#?}");
    // The read_dir of open_fds itself is closed again, so the lists compare.
    assert_eq!(
        before.len(),
        after.len(),
        "before: {before:#?}\nafter: {after:#?}"
    );
    assert_eq!(before, after);
}
