//! The conformance suite as `cargo test`: one libtest test per trial, named
//! `<type>::<case>::<door>`, so that `cargo test uts::` and nextest work.
//! Verdicts are recorded as they come, and written as reports under
//! `reports/cargo-test/` once the whole suite has run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use nsconform::run::{self, Config, Filter};
use nsconform::verdict::{Report, TrialRecord, Verdict};

fn source_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// Turn a record into libtest's terms: skips are ignored with their reason.
fn conclude(record: &TrialRecord) -> Result<Completion, Failed> {
    let reason = record.reason.clone().unwrap_or_default();
    match record.verdict {
        Verdict::Pass | Verdict::Xfail => Ok(Completion::Completed),
        Verdict::Xpass => {
            let issue = record.known_issue.clone().unwrap_or_default();
            eprintln!("{}: xpass: passes, but {issue}", record.id);
            Ok(Completion::Completed)
        }
        Verdict::Skip => Ok(Completion::ignored_with(reason)),
        Verdict::Fail => {
            let diff: Vec<String> = record.diff.iter().map(|d| format!("  {d}")).collect();
            Err(format!("fail: {reason}\n{}", diff.join("\n")).into())
        }
        Verdict::Error => Err(format!("error: {reason}\n{}", record.stderr).into()),
    }
}

fn main() {
    let args = Arguments::from_args();
    let suite = match nsconform::suite::load(&source_dir("cases"), &source_dir("fixtures")) {
        Ok(suite) => suite,
        Err(e) => {
            eprintln!("cannot load the suite: {e}");
            std::process::exit(2);
        }
    };
    let config = Arc::new(Config {
        probe: PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe")),
        timeout: Duration::from_secs(20),
        jobs: 1,
        environment: nsconform::env::probe("host"),
    });
    let records: Arc<Mutex<Vec<TrialRecord>>> = Arc::default();
    let tests = run::trials(&suite, &Filter::default())
        .into_iter()
        .map(|trial| {
            let (config, records) = (config.clone(), records.clone());
            Trial::ignorable_test(trial.id(), move || {
                let record = run::execute(&trial, &config);
                let result = conclude(&record);
                if let Ok(mut r) = records.lock() {
                    r.push(record);
                }
                result
            })
        })
        .collect();
    let listing = args.list;
    let mut kernel_log = nsconform::kmsg::KernelLog::open();
    let conclusion = libtest_mimic::run(&args, tests);
    let records = std::mem::take(&mut *records.lock().unwrap_or_else(|e| e.into_inner()));
    let alarms = kernel_log.as_mut().map(|k| k.alarms()).unwrap_or_default();
    for line in &alarms {
        eprintln!("the kernel logged during the run: {line}");
    }
    if !listing && records.len() > 1 {
        let mut report = Report::new(config.environment.clone(), records);
        report.kernel_log = alarms.clone();
        let dir = source_dir("reports").join("cargo-test");
        if let Err(e) = nsconform::report::write_all(&report, &dir, &nsconform::report::Format::ALL)
        {
            eprintln!("cannot write the reports: {e}");
        }
    }
    if !alarms.is_empty() {
        std::process::exit(101);
    }
    conclusion.exit();
}
