//! `matrix.html`: one self-contained page, cases as rows and doors as columns.
//!
//! Rows are grouped by namespace type; columns are doors (under each target when the
//! report holds several). Cells are coloured by verdict; hovering shows the reason or the
//! differences, clicking opens a detail panel. No external resources: CSS and JS are
//! inline, and every piece of report text is escaped (the trial details travel as JSON in
//! a `<script type="application/json">` element and are shown with `textContent`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;

use crate::verdict::{Report, Summary, TrialRecord, Verdict};

use super::{by_type, targets, ReportError};

/// Syscall doors first, in this order; other doors follow in order of appearance.
const DOOR_ORDER: [&str; 5] = ["clone", "clone3", "unshare", "setns", "setns-pidfd"];

const STYLE: &str = r#"
:root { --pass:#2da44e; --fail:#cf222e; --skip:#f2cc60; --error:#8250df; --none:#eaeef2;
        font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; }
body { margin: 0; color: #1f2328; background: #fff; }
header { padding: 12px 20px; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
h1 { font-size: 20px; margin: 0 0 6px; }
.env { color: #57606a; margin: 4px 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 600; margin-right: 6px; }
.b-pass { background: var(--pass); } .b-fail { background: var(--fail); }
.b-skip { background: var(--skip); color: #3b2300; } .b-error { background: var(--error); }
.tools { margin-top: 8px; color: #57606a; }
main { padding: 12px 20px; overflow: auto; }
table.matrix { border-collapse: separate; border-spacing: 0; }
.matrix th, .matrix td { border-right: 1px solid #fff; border-bottom: 1px solid #fff; padding: 4px 10px; white-space: nowrap; }
.matrix thead th { position: sticky; top: 0; background: #24292f; color: #fff; font-weight: 600; z-index: 2; }
.matrix thead tr.doors th { top: 27px; }
.matrix th.case { text-align: left; font-weight: normal; font-family: ui-monospace, monospace; background: #f6f8fa; position: sticky; left: 0; z-index: 1; }
.matrix tr.type th { text-align: left; background: #d0d7de; font-size: 15px; padding-top: 8px; }
.matrix tr.type .counts { font-weight: normal; color: #57606a; margin-left: 12px; font-size: 13px; }
.matrix td { text-align: center; color: #fff; font-weight: 600; min-width: 64px; cursor: pointer; }
td.v-pass { background: var(--pass); } td.v-fail { background: var(--fail); }
td.v-skip { background: var(--skip); color: #3b2300; } td.v-error { background: var(--error); }
td.v-none { background: var(--none); color: #8c959f; cursor: default; font-weight: normal; }
td[data-i]:hover, td[data-i]:focus { outline: 3px solid #0969da; outline-offset: -3px; }
td.selected { outline: 3px solid #1f2328; outline-offset: -3px; }
body.only-bad tr.row:not(.bad) { display: none; }
#detail { position: fixed; top: 0; right: 0; width: 460px; max-width: 90vw; height: 100vh; overflow: auto;
          background: #fff; border-left: 2px solid #d0d7de; box-shadow: -4px 0 12px rgba(0,0,0,.12); padding: 16px; box-sizing: border-box; z-index: 5; }
#detail h2 { font-size: 15px; font-family: ui-monospace, monospace; word-break: break-all; margin: 0 0 8px; }
#detail .close { float: right; cursor: pointer; border: 1px solid #d0d7de; background: #f6f8fa; border-radius: 6px; }
#detail pre { background: #f6f8fa; padding: 8px; overflow: auto; white-space: pre-wrap; word-break: break-all; }
#detail table { border-collapse: collapse; width: 100%; margin: 6px 0; }
#detail td, #detail th { border: 1px solid #d0d7de; padding: 3px 6px; font-family: ui-monospace, monospace; font-size: 12px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
#detail .exp { color: #1a7f37; } #detail .obs { color: #cf222e; }
"#;

const SCRIPT: &str = r#"
(function () {
  var trials = JSON.parse(document.getElementById('trials').textContent);
  var panel = document.getElementById('detail');
  var selected = null;
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function show(td) {
    var t = trials[Number(td.getAttribute('data-i'))];
    if (selected) selected.classList.remove('selected');
    selected = td; td.classList.add('selected');
    panel.textContent = '';
    var close = el('button', 'close', 'close');
    close.onclick = hide;
    panel.appendChild(close);
    panel.appendChild(el('h2', t.id));
    panel.appendChild(el('p', t.verdict.toUpperCase() + ' on ' + t.target + ' in ' + t.duration_ms.toFixed(1) + ' ms'));
    if (t.reason) panel.appendChild(el('p', t.reason));
    if (t.diff.length) {
      var table = el('table'), head = el('tr');
      ['path', 'expected', 'observed'].forEach(function (h) { head.appendChild(el('th', h)); });
      table.appendChild(head);
      t.diff.forEach(function (d) {
        var tr = el('tr');
        tr.appendChild(el('td', d.path));
        tr.appendChild(el('td', JSON.stringify(d.expected, null, 1), 'exp'));
        tr.appendChild(el('td', JSON.stringify(d.observed, null, 1), 'obs'));
        table.appendChild(tr);
      });
      panel.appendChild(table);
    }
    if (t.stderr) { panel.appendChild(el('h3', 'probe stderr')); panel.appendChild(el('pre', t.stderr)); }
    panel.hidden = false;
    history.replaceState(null, '', '#' + encodeURIComponent(t.id));
  }
  function hide() {
    panel.hidden = true;
    if (selected) selected.classList.remove('selected');
    selected = null;
    history.replaceState(null, '', location.pathname + location.search);
  }
  var matrix = document.querySelector('table.matrix');
  matrix.addEventListener('click', function (e) {
    var td = e.target.closest('td[data-i]');
    if (td) show(td);
  });
  matrix.addEventListener('keydown', function (e) {
    var td = e.target.closest('td[data-i]');
    if (td && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); show(td); }
  });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') hide(); });
  document.getElementById('only-bad').addEventListener('change', function (e) {
    document.body.classList.toggle('only-bad', e.target.checked);
  });
  // `matrix.html#<trial id>` opens that trial's details.
  if (location.hash.length > 1) {
    var id = decodeURIComponent(location.hash.slice(1));
    var cells = matrix.querySelectorAll('td[data-id]');
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].getAttribute('data-id') === id) { show(cells[i]); break; }
    }
  }
})();
"#;

/// Writes `report` as the HTML matrix.
pub fn write(report: &Report, out: &mut dyn Write) -> Result<(), ReportError> {
    out.write_all(to_string(report).as_bytes())?;
    Ok(())
}

/// A column of the matrix: one door on one target.
type Column<'a> = (&'a str, &'a str);

/// `report` as the HTML matrix page.
pub fn to_string(report: &Report) -> String {
    let env = &report.environment;
    let mut h =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        h,
        "<title>nsconform: {} on {}</title>",
        esc(&summary_text(&report.summary)),
        esc(&env.kernel_release)
    );
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");
    header(&mut h, report);
    h.push_str("<main>\n");
    matrix(&mut h, report);
    h.push_str("</main>\n<aside id=\"detail\" hidden></aside>\n");
    let _ = writeln!(
        h,
        "<script type=\"application/json\" id=\"trials\">{}</script>",
        details_json(report)
    );
    let _ = writeln!(h, "<script>{SCRIPT}</script>\n</body>\n</html>");
    h
}

fn summary_text(s: &Summary) -> String {
    format!(
        "{} pass, {} fail, {} skip, {} error",
        s.pass, s.fail, s.skip, s.error
    )
}

fn header(h: &mut String, report: &Report) {
    let env = &report.environment;
    let s = report.summary;
    h.push_str("<header>\n<h1>nsconform conformance matrix</h1>\n<div>");
    for (v, n) in [
        (Verdict::Pass, s.pass),
        (Verdict::Fail, s.fail),
        (Verdict::Skip, s.skip),
        (Verdict::Error, s.error),
    ] {
        let _ = write!(h, "<span class=\"badge b-{v}\">{n} {v}</span>");
    }
    let _ = writeln!(h, "<span>{} trials</span></div>", s.total());
    if let Some(signal) = &report.interrupted {
        let _ = writeln!(
            h,
            "<p class=\"env\"><b>interrupted</b> by {}: only the trials that finished are shown</p>",
            esc(signal)
        );
    }
    let _ = writeln!(
        h,
        "<p class=\"env\">kernel <b>{}</b> {} · {} · target {} · uid {} · {}{}</p>",
        esc(&env.kernel_release),
        esc(&env.kernel_version),
        esc(&env.arch),
        esc(&env.target),
        env.uid,
        if env.privileged {
            "privileged"
        } else {
            "unprivileged"
        },
        if env.rootless { " · rootless" } else { "" }
    );
    h.push_str(
        "<div class=\"tools\"><label><input type=\"checkbox\" id=\"only-bad\"> only cases \
         with a failure or an error</label> · hover a cell for its reason, click it for \
         details (or open <code>matrix.html#&lt;trial id&gt;</code>)</div>\n</header>\n",
    );
}

fn columns(report: &Report) -> Vec<Column<'_>> {
    let mut doors: Vec<&str> = Vec::new();
    for t in &report.trials {
        if !doors.contains(&t.door.as_str()) {
            doors.push(&t.door);
        }
    }
    doors.sort_by_key(|d| {
        DOOR_ORDER
            .iter()
            .position(|o| o == d)
            .unwrap_or(DOOR_ORDER.len())
    });
    let mut cols = Vec::new();
    for target in targets(report) {
        for door in &doors {
            cols.push((target, *door));
        }
    }
    cols
}

fn matrix(h: &mut String, report: &Report) {
    let cols = columns(report);
    let targets = targets(report);
    let index: BTreeMap<(&str, &str, &str, &str), usize> = report
        .trials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                (
                    t.ty.as_str(),
                    t.case.as_str(),
                    t.target.as_str(),
                    t.door.as_str(),
                ),
                i,
            )
        })
        .collect();
    h.push_str("<table class=\"matrix\">\n<thead>\n");
    if targets.len() > 1 {
        h.push_str("<tr><th rowspan=\"2\">case</th>");
        for target in &targets {
            let span = cols.iter().filter(|c| c.0 == *target).count();
            let _ = write!(h, "<th colspan=\"{span}\">{}</th>", esc(target));
        }
        h.push_str("</tr>\n<tr class=\"doors\">");
    } else {
        h.push_str("<tr><th>case</th>");
    }
    for (_, door) in &cols {
        let _ = write!(h, "<th>{}</th>", esc(door));
    }
    h.push_str("</tr>\n</thead>\n<tbody>\n");
    for (ty, trials) in by_type(report) {
        type_row(h, ty, &trials, cols.len());
        let mut cases: Vec<&str> = Vec::new();
        for t in &trials {
            if !cases.contains(&t.case.as_str()) {
                cases.push(&t.case);
            }
        }
        for case in cases {
            let cells: Vec<Option<usize>> = cols
                .iter()
                .map(|(target, door)| index.get(&(ty, case, *target, *door)).copied())
                .collect();
            case_row(h, report, case, &cells);
        }
    }
    h.push_str("</tbody>\n</table>\n");
}

fn type_row(h: &mut String, ty: &str, trials: &[&TrialRecord], ncols: usize) {
    let mut s = Summary::default();
    trials.iter().for_each(|t| s.add(t.verdict));
    let _ = writeln!(
        h,
        "<tr class=\"type\"><th colspan=\"{}\">{}<span class=\"counts\">{}</span></th></tr>",
        ncols + 1,
        esc(ty),
        esc(&summary_text(&s))
    );
}

fn case_row(h: &mut String, report: &Report, case: &str, cells: &[Option<usize>]) {
    let bad = cells
        .iter()
        .flatten()
        .any(|&i| matches!(report.trials[i].verdict, Verdict::Fail | Verdict::Error));
    let _ = write!(
        h,
        "<tr class=\"row{}\"><th class=\"case\">{}</th>",
        if bad { " bad" } else { "" },
        esc(case)
    );
    for cell in cells {
        match cell {
            None => h.push_str("<td class=\"v-none\" title=\"not run\">–</td>"),
            Some(i) => {
                let t = &report.trials[*i];
                let _ = write!(
                    h,
                    "<td class=\"v-{}\" data-i=\"{i}\" data-id=\"{}\" tabindex=\"0\" title=\"{}\">{}</td>",
                    t.verdict,
                    esc(&t.id),
                    esc(&tooltip(t)),
                    t.verdict
                );
            }
        }
    }
    h.push_str("</tr>\n");
}

/// The hover text of a cell: the trial, its verdict, and why.
fn tooltip(t: &TrialRecord) -> String {
    let mut text = format!("{} on {}: {}", t.id, t.target, t.verdict);
    if let Some(reason) = &t.reason {
        text.push('\n');
        text.push_str(reason);
    }
    for d in t.diff.iter().take(10) {
        text.push('\n');
        text.push_str(&d.to_string());
    }
    if t.diff.len() > 10 {
        let _ = write!(text, "\n… and {} more differences", t.diff.len() - 10);
    }
    text
}

/// The trials' details as JSON that is safe inside a `<script>` element.
fn details_json(report: &Report) -> String {
    let details: Vec<serde_json::Value> = report
        .trials
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "target": t.target, "verdict": t.verdict,
                "reason": t.reason, "diff": t.diff, "stderr": t.stderr,
                "duration_ms": t.duration_ms,
            })
        })
        .collect();
    serde_json::to_string(&details)
        .expect("JSON values serialise")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
