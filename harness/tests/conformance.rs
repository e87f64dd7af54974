//! The conformance suite as `cargo test`: one libtest test per trial, named
//! `<type>::<case>::<door>`, so that `cargo test uts::` and nextest work.
//! What cannot run here is known when the tests are listed (the environment
//! is probed then) and those trials are ignored; the reasons are in the
//! reports, which are written under `reports/cargo-test/` when every trial
//! ran, and under `reports/cargo-test-partial/` when only some did (so a
//! partial run never replaces a full one). Under nextest, which runs one
//! process per test, nextest's own reports are the record.
//!
//! `NSCONFORM_CASES` and `NSCONFORM_FIXTURES` name other cases and fixtures
//! directories than the built-in suite, and `NSCONFORM_REPORT_ROOT` another
//! directory than `reports/` (the harness's own tests use them, so that they
//! never touch the real reports).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use nsconform::run::{Config, Filter, Run};
use nsconform::verdict::{TrialRecord, Verdict};

/// The directory named by the environment variable `var`, if it is set.
fn dir_from(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from)
}

/// Where the reports go: `NSCONFORM_REPORT_ROOT`, else the source tree's.
fn report_root() -> PathBuf {
    dir_from("NSCONFORM_REPORT_ROOT")
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports"))
}

/// Whether the tests run under cargo-nextest, which shows a test that
/// ignores itself at run time as a pass.
fn under_nextest() -> bool {
    std::env::var_os("NEXTEST").is_some() || std::env::var_os("NEXTEST_RUN_ID").is_some()
}

/// Turn a record into libtest's terms. A skip found only at run time is
/// ignored with its reason, or under nextest a failure (never a pass).
fn conclude(record: &TrialRecord) -> Result<Completion, Failed> {
    let reason = record.reason.clone().unwrap_or_default();
    match record.verdict {
        Verdict::Pass | Verdict::Xfail => Ok(Completion::Completed),
        Verdict::Xpass => {
            let issue = record.known_issue.clone().unwrap_or_default();
            eprintln!("{}: xpass: passes, but {issue}", record.id);
            Ok(Completion::Completed)
        }
        Verdict::Skip if under_nextest() => {
            Err(format!("skipped at run time (nextest shows no skip): {reason}").into())
        }
        Verdict::Skip => Ok(Completion::ignored_with(reason)),
        Verdict::Fail => {
            let diff: Vec<String> = record.diff.iter().map(|d| format!("  {d}")).collect();
            Err(format!("fail: {reason}\n{}", diff.join("\n")).into())
        }
        Verdict::Error => Err(format!("error: {reason}\n{}", record.stderr).into()),
    }
}

/// Whether libtest runs every trial: no filter, no skip, no `--ignored`.
fn runs_everything(args: &Arguments) -> bool {
    args.filter.is_none() && args.skip.is_empty() && !args.ignored
}

fn main() {
    let args = Arguments::from_args();
    let (cases, fixtures) = (dir_from("NSCONFORM_CASES"), dir_from("NSCONFORM_FIXTURES"));
    let suite = match nsconform::suite::choose(cases.as_deref(), fixtures.as_deref()) {
        Ok(suite) => suite,
        Err(e) => {
            eprintln!("cannot load the suite: {e}");
            std::process::exit(2);
        }
    };
    let config = Config {
        probe: PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe")),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 1,
        full_views: false,
        environment: nsconform::env::probe("host"),
    };
    let run = Arc::new(Run::new(&suite, &Filter::default(), config));
    let tests: Vec<Trial> = (0..run.trials.len())
        .map(|i| {
            let ahead = run.ahead(i);
            let r = run.clone();
            Trial::ignorable_test(run.trials[i].id(), move || conclude(&r.execute(i)))
                .with_ignored_flag(ahead.is_some())
        })
        .collect();
    let ignored: Vec<usize> = (0..tests.len())
        .filter(|&i| tests[i].has_ignored_flag() && !args.is_filtered_out(&tests[i]))
        .collect();
    let conclusion = libtest_mimic::run(&args, tests);
    if args.list {
        conclusion.exit();
    }
    for i in ignored {
        run.execute(i); // a skip known ahead: recorded without running a probe
    }
    let report = run.report();
    for line in &report.kernel_log {
        eprintln!("the kernel logged during the run: {line}");
    }
    if under_nextest() {
        // One process per test: nextest's own JUnit is the report there.
        conclusion.exit();
    }
    let full = runs_everything(&args) && report.trials.len() == run.trials.len();
    let dir = report_root().join(if full {
        "cargo-test"
    } else {
        "cargo-test-partial"
    });
    match nsconform::report::write_all(&report, &dir, &nsconform::report::Format::ALL) {
        Ok(_) => eprintln!(
            "reports of {} trials in {}",
            report.trials.len(),
            dir.display()
        ),
        Err(e) => eprintln!("cannot write the reports: {e}"),
    }
    if !report.kernel_log.is_empty() {
        std::process::exit(101);
    }
    conclusion.exit();
}
