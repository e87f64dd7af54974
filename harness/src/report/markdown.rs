//! `summary.md`: a Markdown summary for people and GitHub job summaries.
//!
//! A table per namespace type, each failure with a unified diff of expected against
//! observed (pretty JSON), errors with what broke, skips grouped by reason, and the
//! environment.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde_json::{Map, Value};

use crate::verdict::{Difference, Report, Summary, TrialRecord, Verdict};

use super::{by_type, one_line, ReportError};

/// Failures and errors shown in full; the rest are listed by name only.
const DETAILED: usize = 50;
/// Trials named under one skip reason before "and N more".
const SKIPS_NAMED: usize = 30;

/// Writes `report` as Markdown.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    out.write_all(to_string(report).as_bytes())?;
    Ok(())
}

/// `report` as Markdown.
pub fn to_string(report: &Report) -> String {
    let mut md = String::new();
    headline(&mut md, report);
    table(&mut md, report);
    failures(&mut md, report);
    errors(&mut md, report);
    skips(&mut md, report);
    kernel_log(&mut md, report);
    environment(&mut md, report);
    md
}

fn headline(md: &mut String, report: &Report) {
    let s = report.summary;
    let env = &report.environment;
    let mark = if s.ok() && report.interrupted.is_none() {
        "✅"
    } else {
        "❌"
    };
    let _ = writeln!(md, "# {mark} nsconform report\n");
    if let Some(signal) = &report.interrupted {
        let _ = writeln!(
            md,
            "**Interrupted** by {}: only the trials that finished are reported.\n",
            code(signal)
        );
    }
    if let Some(suite) = &report.suite {
        let _ = writeln!(
            md,
            "Suite: {} ({}).\n",
            cell(&suite.source),
            code(&suite.hash)
        );
    }
    let _ = writeln!(
        md,
        "**{} passed · {} failed · {} skipped · {}** out of {} trials \
         on kernel `{}` ({}), target `{}`.\n",
        s.pass,
        s.fail,
        s.skip,
        plural(s.error, "error"),
        s.total(),
        code(&env.kernel_release),
        cell(&env.arch),
        code(&env.target)
    );
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn table(md: &mut String, report: &Report) {
    md.push_str("## Results by namespace type\n\n");
    md.push_str("| type | ✅ pass | ❌ fail | ⏭️ skip | 💥 error | total |\n");
    md.push_str("|:-----|-----:|-----:|-----:|-----:|-----:|\n");
    for (ty, trials) in by_type(report) {
        let mut s = Summary::default();
        trials.iter().for_each(|t| s.add(t.verdict));
        row(md, &format!("`{}`", code(ty)), &s);
    }
    row(md, "**total**", &report.summary);
    md.push('\n');
}

fn row(md: &mut String, label: &str, s: &Summary) {
    let _ = writeln!(
        md,
        "| {label} | {} | {} | {} | {} | {} |",
        s.pass,
        s.fail,
        s.skip,
        s.error,
        s.total()
    );
}

fn failures(md: &mut String, report: &Report) {
    let failed: Vec<&TrialRecord> = with_verdict(report, Verdict::Fail);
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(md, "## ❌ Failures ({})\n", failed.len());
    for t in failed.iter().take(DETAILED) {
        let _ = writeln!(md, "### `{}` (target `{}`)\n", code(&t.id), code(&t.target));
        if let Some(reason) = &t.reason {
            let _ = writeln!(md, "{}\n", cell(reason));
        }
        if !t.diff.is_empty() {
            fenced(md, "diff", &unified_diff(&t.diff));
        }
        stderr_details(md, t);
    }
    more(md, &failed);
}

fn errors(md: &mut String, report: &Report) {
    let broken: Vec<&TrialRecord> = with_verdict(report, Verdict::Error);
    if broken.is_empty() {
        return;
    }
    let _ = writeln!(md, "## 💥 Errors ({})\n", broken.len());
    for t in broken.iter().take(DETAILED) {
        let reason = t.reason.as_deref().unwrap_or("the trial broke");
        let _ = writeln!(
            md,
            "### `{}` (target `{}`)\n\n{}\n",
            code(&t.id),
            code(&t.target),
            cell(reason)
        );
        stderr_details(md, t);
    }
    more(md, &broken);
}

fn more(md: &mut String, trials: &[&TrialRecord]) {
    if trials.len() > DETAILED {
        let rest: Vec<String> = trials[DETAILED..]
            .iter()
            .map(|t| format!("`{}`", code(&t.id)))
            .collect();
        let _ = writeln!(md, "And {} more: {}\n", rest.len(), rest.join(", "));
    }
}

fn skips(md: &mut String, report: &Report) {
    let skipped = with_verdict(report, Verdict::Skip);
    if skipped.is_empty() {
        return;
    }
    let mut by_reason: BTreeMap<String, Vec<&TrialRecord>> = BTreeMap::new();
    for t in &skipped {
        let reason = t
            .reason
            .as_deref()
            .map_or("no reason given".into(), one_line);
        by_reason.entry(reason).or_default().push(t);
    }
    let _ = writeln!(md, "## ⏭️ Skips ({}), by reason\n", skipped.len());
    md.push_str("| reason | trials |\n|:-------|:-------|\n");
    for (reason, trials) in &by_reason {
        let mut names: Vec<String> = trials
            .iter()
            .take(SKIPS_NAMED)
            .map(|t| format!("`{}`", code(&t.id)))
            .collect();
        if trials.len() > SKIPS_NAMED {
            names.push(format!("and {} more", trials.len() - SKIPS_NAMED));
        }
        let _ = writeln!(
            md,
            "| {} ({}) | {} |",
            cell(reason),
            trials.len(),
            names.join(" ")
        );
    }
    md.push('\n');
}

fn environment(md: &mut String, report: &Report) {
    let env = &report.environment;
    md.push_str("## Environment\n\n| | |\n|:--|:--|\n");
    let yes = |b: bool| if b { "yes" } else { "no" };
    let rows = [
        ("kernel release", format!("`{}`", code(&env.kernel_release))),
        ("kernel version", format!("`{}`", code(&env.kernel_version))),
        ("architecture", cell(&env.arch)),
        ("target", format!("`{}`", code(&env.target))),
        ("uid", env.uid.to_string()),
        ("privileged (CAP_SYS_ADMIN)", yes(env.privileged).into()),
        ("rootless (own user namespace)", yes(env.rootless).into()),
        ("report format version", report.version.to_string()),
    ];
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    let found: Vec<String> = env
        .features
        .iter()
        .map(|(k, v)| format!("`{}` {}", code(k), if *v { "✅" } else { "❌" }))
        .collect();
    if !found.is_empty() {
        let _ = writeln!(md, "| features | {} |", found.join(" "));
    }
    md.push('\n');
    if !env.doors.is_empty() {
        md.push_str("| door | available | version |\n|:--|:--|:--|\n");
        for d in &env.doors {
            let version = d.version.as_deref().map_or("–".into(), cell);
            let avail = if d.available { "✅" } else { "❌" };
            let _ = writeln!(md, "| `{}` | {avail} | {version} |", code(&d.name));
        }
        md.push('\n');
    }
    details_list(
        md,
        "kernel configuration",
        env.kconfig.iter().map(|(k, v)| format!("{k}={v}")),
    );
}

fn kernel_log(md: &mut String, report: &Report) {
    if report.kernel_log.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## ⚠️ Kernel log during the run ({})\n",
        plural(report.kernel_log.len(), "line")
    );
    fenced(md, "", &report.kernel_log.join("\n"));
}

fn details_list(md: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let text: Vec<String> = lines.collect();
    if text.is_empty() {
        return;
    }
    let _ = writeln!(md, "<details><summary>{title} ({})</summary>\n", text.len());
    fenced(md, "", &text.join("\n"));
    md.push_str("</details>\n\n");
}

fn stderr_details(md: &mut String, t: &TrialRecord) {
    if !t.stderr.trim().is_empty() {
        md.push_str("<details><summary>probe stderr</summary>\n\n");
        fenced(md, "", t.stderr.trim_end());
        md.push_str("</details>\n\n");
    }
}

fn with_verdict(report: &Report, v: Verdict) -> Vec<&TrialRecord> {
    report.trials.iter().filter(|t| t.verdict == v).collect()
}

/// A unified diff of the expected against the observed values, each rebuilt into a JSON
/// object along its dotted path and pretty-printed.
pub fn unified_diff(diff: &[Difference]) -> String {
    let mut expected = Value::Object(Map::new());
    let mut observed = Value::Object(Map::new());
    for d in diff {
        insert(&mut expected, &d.path, d.expected.clone());
        insert(&mut observed, &d.path, d.observed.clone());
    }
    let a = pretty(&expected);
    let b = pretty(&observed);
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header("expected", "observed")
        .to_string()
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

/// Sets `value` at the dotted `path` inside `root`, making objects on the way.
fn insert(root: &mut Value, path: &str, value: Value) {
    let mut here = root;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !here.is_object() {
            *here = Value::Object(Map::new());
        }
        let map = here.as_object_mut().expect("made an object above");
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        here = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// A fenced code block whose fence is longer than any run of backticks in `text`.
fn fenced(md: &mut String, lang: &str, text: &str) {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(
        md,
        "{fence}{lang}\n{}\n{fence}\n",
        text.trim_end_matches('\n')
    );
}

/// Text safe inside a table cell or a paragraph: one line, no HTML, pipes escaped.
fn cell(s: &str) -> String {
    one_line(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// Text safe inside a single-backtick code span (also inside a table).
fn code(s: &str) -> String {
    one_line(s).replace('`', "'").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_show_paths_as_nested_json() {
        let diff = [Difference {
            path: "inside.uts.hostname".into(),
            expected: json!("a"),
            observed: json!("b"),
        }];
        let text = unified_diff(&diff);
        assert!(text.contains("--- expected\n+++ observed\n"), "{text}");
        assert!(text.contains("-      \"hostname\": \"a\""), "{text}");
        assert!(text.contains("+      \"hostname\": \"b\""), "{text}");
    }

    #[test]
    fn fences_outgrow_backticks() {
        let mut md = String::new();
        fenced(&mut md, "", "a ```` b");
        assert!(md.starts_with("`````\n"), "{md}");
    }
}
