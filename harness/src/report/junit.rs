//! JUnit XML: one testsuite per namespace type, one testcase per trial.
//!
//! Classname `nsconform.<type>`, name `<case>::<door>`; a skip is `<skipped>` with its
//! reason, a failure `<failure>` with the differences, an error `<error>` with what broke;
//! the probe's stderr goes to the testcase's `<system-err>`.

use std::io::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::verdict::{Report, TrialRecord, Verdict};

use super::{by_type, targets, trial_name, ReportError};

/// Writes `report` as JUnit XML.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    to_junit(report).serialize(out)?;
    Ok(())
}

/// `report` as JUnit XML.
pub fn to_string(report: &Report) -> Result<String, ReportError> {
    Ok(to_junit(report).to_string()?)
}

/// The quick-junit model of `report`.
pub fn to_junit(report: &Report) -> quick_junit::Report {
    let several = targets(report).len() > 1;
    let mut junit = quick_junit::Report::new("nsconform");
    let mut total = Duration::ZERO;
    for (ty, trials) in by_type(report) {
        let mut suite = TestSuite::new(ty);
        add_environment(&mut suite, report);
        let mut time = Duration::ZERO;
        for t in trials {
            let case = test_case(t, several);
            time += duration(t);
            suite.add_test_case(case);
        }
        suite.set_time(time);
        total += time;
        junit.add_test_suite(suite);
    }
    junit.set_time(total);
    junit
}

fn add_environment(suite: &mut TestSuite, report: &Report) {
    let env = &report.environment;
    suite.add_property(("kernel_release", env.kernel_release.as_str()));
    suite.add_property(("kernel_version", env.kernel_version.as_str()));
    suite.add_property(("arch", env.arch.as_str()));
    suite.add_property(("target", env.target.as_str()));
    suite.add_property(("privileged", if env.privileged { "true" } else { "false" }));
    suite.add_property(("rootless", if env.rootless { "true" } else { "false" }));
    if let Some(id) = &report.suite {
        suite.add_property(("suite_source", id.source.as_str()));
        suite.add_property(("suite_hash", id.hash.as_str()));
    }
    if let Some(signal) = &report.interrupted {
        suite.add_property(("interrupted", signal.as_str()));
    }
}

fn duration(t: &TrialRecord) -> Duration {
    Duration::try_from_secs_f64(t.duration_ms / 1000.0).unwrap_or(Duration::ZERO)
}

fn test_case(t: &TrialRecord, several_targets: bool) -> TestCase {
    let status = match t.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(t.reason.as_deref().unwrap_or("skipped"));
            s
        }
        Verdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("fail");
            s.set_message(failure_message(t));
            s.set_description(failure_text(t));
            s
        }
        Verdict::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error");
            s.set_message(t.reason.as_deref().unwrap_or("the trial broke"));
            if let Some(reason) = &t.reason {
                s.set_description(reason.as_str());
            }
            s
        }
    };
    let mut case = TestCase::new(trial_name(t, several_targets), status);
    case.set_classname(format!("nsconform.{}", t.ty));
    case.set_time(duration(t));
    case.add_property(("id", t.id.as_str()));
    case.add_property(("target", t.target.as_str()));
    if !t.stderr.is_empty() {
        case.set_system_err(t.stderr.as_str());
    }
    case
}

fn failure_message(t: &TrialRecord) -> String {
    match (&t.reason, t.diff.len()) {
        (Some(reason), _) => reason.clone(),
        (None, 1) => t.diff[0].to_string(),
        (None, n) => format!("{n} differences from the fixture"),
    }
}

fn failure_text(t: &TrialRecord) -> String {
    let mut text = String::new();
    for d in &t.diff {
        text.push_str(&format!(
            "{}\n  expected: {}\n  observed: {}\n",
            d.path, d.expected, d.observed
        ));
    }
    if text.is_empty() {
        text = t.reason.clone().unwrap_or_default();
    }
    text
}
