//! KTAP version 1 (the kernel's `Documentation/dev-tools/ktap.rst`): one subtest per
//! namespace type, one result line per trial.
//!
//! ```text
//! KTAP version 1
//! 1..2
//!   KTAP version 1
//!   # Subtest: uts
//!   1..3
//!   ok 1 hostname-isolated::clone
//!   ok 2 hostname-isolated::runc # SKIP runtime not installed: runc
//!   # inside.uts.hostname: expected "a", observed "b"
//!   not ok 3 hostname-isolated::unshare
//! not ok 1 uts
//! ```
//!
//! Diagnostics come before the result line they explain. An error is `not ok` with the
//! `ERROR` directive and diagnostics naming what broke. Names never contain `#`.

use std::io::Write;

use crate::verdict::{Report, Summary, TrialRecord, Verdict};

use super::{by_type, one_line, targets, trial_name, ReportError};

/// How many lines of a probe's stderr are copied into diagnostics.
const STDERR_LINES: usize = 20;

/// Writes `report` as KTAP.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    out.write_all(to_string(report).as_bytes())?;
    Ok(())
}

/// `report` as KTAP.
pub fn to_string(report: &Report) -> String {
    let env = &report.environment;
    let groups = by_type(report);
    let several = targets(report).len() > 1;
    let mut k = String::from("KTAP version 1\n");
    k.push_str(&format!(
        "# nsconform: kernel {} {}, target {}\n",
        one_line(&env.kernel_release),
        one_line(&env.arch),
        one_line(&env.target)
    ));
    if let Some(signal) = &report.interrupted {
        k.push_str(&format!(
            "# interrupted by {}: only the trials that finished are reported\n",
            one_line(signal)
        ));
    }
    k.push_str(&format!("1..{}\n", groups.len()));
    for (n, (ty, trials)) in groups.iter().enumerate() {
        k.push_str("  KTAP version 1\n");
        k.push_str(&format!("  # Subtest: {}\n", name(ty)));
        k.push_str(&format!("  1..{}\n", trials.len()));
        for (i, t) in trials.iter().enumerate() {
            trial(&mut k, i + 1, t, several);
        }
        let mut summary = Summary::default();
        trials.iter().for_each(|t| summary.add(t.verdict));
        k.push_str(&format!(
            "# {}: pass:{} fail:{} skip:{} error:{}\n",
            name(ty),
            summary.pass,
            summary.fail,
            summary.skip,
            summary.error
        ));
        k.push_str(&parent_line(n + 1, ty, &summary));
    }
    let s = report.summary;
    k.push_str(&format!(
        "# totals: pass:{} fail:{} skip:{} error:{}\n",
        s.pass, s.fail, s.skip, s.error
    ));
    k
}

/// The result line of a type: failed if any trial failed or broke, skipped if all skipped.
fn parent_line(n: usize, ty: &str, s: &Summary) -> String {
    if s.fail + s.error > 0 {
        format!("not ok {n} {}\n", name(ty))
    } else if s.pass == 0 && s.skip > 0 {
        format!("ok {n} {} # SKIP every trial was skipped\n", name(ty))
    } else {
        format!("ok {n} {}\n", name(ty))
    }
}

fn trial(k: &mut String, n: usize, t: &TrialRecord, several_targets: bool) {
    let test = name(&trial_name(t, several_targets));
    match t.verdict {
        Verdict::Pass => k.push_str(&format!("  ok {n} {test}\n")),
        Verdict::Skip => {
            let reason = t.reason.as_deref().map_or(String::new(), one_line);
            k.push_str(&format!("  ok {n} {test} # SKIP {reason}\n"));
        }
        Verdict::Fail => {
            if let Some(reason) = &t.reason {
                diagnostic(k, reason);
            }
            for d in &t.diff {
                diagnostic(k, &d.to_string());
            }
            k.push_str(&format!("  not ok {n} {test}\n"));
        }
        Verdict::Error => {
            let reason = t.reason.as_deref().unwrap_or("the trial broke");
            diagnostic(k, &format!("error: {reason}"));
            for line in t.stderr.lines().take(STDERR_LINES) {
                diagnostic(k, &format!("stderr: {line}"));
            }
            k.push_str(&format!(
                "  not ok {n} {test} # ERROR {}\n",
                one_line(reason)
            ));
        }
    }
}

fn diagnostic(k: &mut String, text: &str) {
    k.push_str("  # ");
    k.push_str(&one_line(text));
    k.push('\n');
}

/// A test name: one line, no `#` (which would start a directive).
fn name(s: &str) -> String {
    let s = one_line(s).replace('#', "_");
    if s.is_empty() {
        "unnamed".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_hashes_and_newlines() {
        assert_eq!(name("a#b\nc"), "a_b c");
        assert_eq!(name(""), "unnamed");
    }
}
