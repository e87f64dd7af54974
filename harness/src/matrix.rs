//! The matrix of a run on several targets: one row per trial (case through
//! door), one column per target, in Markdown. The HTML matrix is the HTML
//! report of the merged run, whose columns are doors under each target.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::verdict::{Report, Summary, Verdict};

fn cell(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Fail) => "**FAIL**",
        Some(Verdict::Skip) => "skip",
        Some(Verdict::Error) => "**ERROR**",
        Some(Verdict::Xfail) => "xfail",
        Some(Verdict::Xpass) => "**XPASS**",
        None => "-",
    }
}

/// `report` (merged from several targets) as a Markdown matrix.
pub fn markdown(report: &Report) -> String {
    let by_target = Summary::by_target(&report.trials);
    let mut rows: Vec<&str> = Vec::new();
    let mut cells: BTreeMap<(&str, &str), Verdict> = BTreeMap::new();
    for t in &report.trials {
        if !rows.contains(&t.id.as_str()) {
            rows.push(&t.id);
        }
        cells.insert((t.id.as_str(), t.target.as_str()), t.verdict);
    }
    let mut md = String::from("# nsconform: cases x targets\n\n| target | pass | fail | skip | error | xfail | xpass |\n|---|---|---|---|---|---|---|\n");
    for (target, s) in &by_target {
        let _ = writeln!(
            md,
            "| `{target}` | {} | {} | {} | {} | {} | {} |",
            s.pass, s.fail, s.skip, s.error, s.xfail, s.xpass
        );
    }
    let targets: Vec<&str> = by_target.iter().map(|(t, _)| *t).collect();
    let _ = write!(md, "\n| trial |");
    for target in &targets {
        let _ = write!(md, " `{target}` |");
    }
    let _ = write!(md, "\n|---|{}\n", "---|".repeat(targets.len()));
    for id in rows {
        let _ = write!(md, "| `{id}` |");
        for target in &targets {
            let _ = write!(md, " {} |", cell(cells.get(&(id, *target)).copied()));
        }
        md.push('\n');
    }
    if !report.kernel_log.is_empty() {
        md.push_str("\n## The kernel logged\n\n");
        for line in &report.kernel_log {
            let _ = writeln!(md, "- `{}`", line.replace('`', "'"));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Environment, TrialRecord};

    fn trial(target: &str, verdict: Verdict) -> TrialRecord {
        TrialRecord {
            verdict,
            ..TrialRecord::new("uts::a::clone", target)
        }
    }

    #[test]
    fn one_row_per_trial_one_column_per_target() {
        let r = Report::new(
            Environment::default(),
            vec![trial("host", Verdict::Pass), trial("vm:6.1", Verdict::Skip)],
        );
        let md = markdown(&r);
        assert!(md.contains("| `uts::a::clone` | pass | skip |"), "{md}");
        assert!(md.contains("| `vm:6.1` | 0 | 0 | 1 | 0 |"), "{md}");
    }
}
