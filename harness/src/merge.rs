//! Joining reports: the shards of one run, or the runs of several targets,
//! into one report (and so one matrix).

use std::collections::BTreeSet;

use crate::plan::Door;
use crate::verdict::{Report, Summary, TrialRecord};

/// Why reports could not be joined.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeReportsError {
    /// No report was given.
    #[error("failed to merge: no reports given")]
    Empty,
    /// The same trial on the same target is in two reports.
    #[error("failed to merge: {id} on {target} is in two reports (shards overlap, or a report was given twice)")]
    Duplicate { id: String, target: String },
}

/// Where a trial comes in a run: cases by type and name, doors in their
/// order, files that failed to load last.
fn rank(t: &TrialRecord) -> (bool, String, String, usize) {
    let door = Door::from_name(&t.door)
        .and_then(|d| Door::ALL.iter().position(|x| *x == d))
        .unwrap_or(usize::MAX);
    (t.door == "-", t.ty.clone(), t.case.clone(), door)
}

/// Joins `reports`: their trials, targets in order of first appearance and
/// trials in the order of a run; the environment of the first report; every
/// kernel log line once.
pub fn merge(reports: Vec<Report>) -> Result<Report, MergeReportsError> {
    let mut reports = reports.into_iter();
    let first = reports.next().ok_or(MergeReportsError::Empty)?;
    let environment = first.environment.clone();
    let suite = first.suite.clone();
    let mut trials = Vec::new();
    let mut kernel_log = Vec::new();
    let mut seen = BTreeSet::new();
    for r in std::iter::once(first).chain(reports) {
        for line in r.kernel_log {
            if !kernel_log.contains(&line) {
                kernel_log.push(line);
            }
        }
        for t in r.trials {
            if !seen.insert((t.target.clone(), t.id.clone())) {
                return Err(MergeReportsError::Duplicate {
                    id: t.id,
                    target: t.target,
                });
            }
            trials.push(t);
        }
    }
    let targets: Vec<String> = (crate::verdict::targets(&trials).into_iter())
        .map(String::from)
        .collect();
    let target_rank = |t: &TrialRecord| targets.iter().position(|x| *x == t.target);
    trials.sort_by_cached_key(|t| (target_rank(t), rank(t)));
    Ok(Report {
        summary: Summary::of(&trials),
        suite,
        kernel_log,
        trials,
        ..Report::new(environment, Vec::new())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Environment, Verdict};

    fn trial(id: &str, target: &str, verdict: Verdict) -> TrialRecord {
        TrialRecord {
            verdict,
            ..TrialRecord::new(id, target)
        }
    }

    #[test]
    fn shards_join_in_run_order() {
        let a = Report::new(
            Environment::default(),
            vec![trial("uts::b::clone", "host", Verdict::Pass)],
        );
        let b = Report::new(
            Environment::default(),
            vec![
                trial("uts::a::unshare", "host", Verdict::Fail),
                trial("uts::a::clone", "host", Verdict::Pass),
            ],
        );
        let m = merge(vec![a, b]).unwrap();
        let ids: Vec<&str> = m.trials.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["uts::a::clone", "uts::a::unshare", "uts::b::clone"]);
        assert_eq!((m.summary.pass, m.summary.fail), (2, 1));
    }

    #[test]
    fn a_trial_twice_is_refused() {
        let r = Report::new(
            Environment::default(),
            vec![trial("uts::a::clone", "host", Verdict::Pass)],
        );
        let err = merge(vec![r.clone(), r]).unwrap_err();
        assert!(err.to_string().contains("uts::a::clone on host"), "{err}");
    }
}
