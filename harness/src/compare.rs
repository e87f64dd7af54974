//! Comparison of two reports: which trials changed verdict, which only one
//! report holds, and which view fields differ.
//!
//! Trials are matched by id, and also by target unless each report holds a single
//! target (so that a run on one kernel compares with a run on another). For trials in
//! both reports, the `views` are flattened to dotted paths (`inside.uts.hostname`,
//! `inside.mnt.mounts[3].fstype`) and compared leaf by leaf, except for the few fields
//! that differ between any two runs (see [`VOLATILE`]). By default only the
//! fields a fixture judges are compared ([`ViewScope::Judged`]); a list of
//! strings (capabilities, mount options) is compared as a set.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::suite::Suite;
use crate::verdict::{Report, TrialRecord, Verdict};

/// Which view fields to compare.
#[derive(Debug, Clone)]
pub enum ViewScope {
    /// Every field that is not volatile.
    All,
    /// Only the fields under the paths each case's fixture names, by
    /// `(type, case)`; trials of cases not found compare no view field.
    Judged(BTreeMap<(String, String), Vec<Vec<String>>>),
}

impl ViewScope {
    /// The fields the fixtures of `suite` judge.
    pub fn judged_by(suite: &Suite) -> ViewScope {
        let paths = suite.entries.iter().map(|e| {
            let key = (e.ty.name().to_string(), e.name.clone());
            (key, crate::judged::paths(&e.fixture))
        });
        ViewScope::Judged(paths.collect())
    }

    fn keeps(&self, trial: &TrialRecord, path: &[String]) -> bool {
        match self {
            ViewScope::All => true,
            ViewScope::Judged(map) => map
                .get(&(trial.ty.clone(), trial.case.clone()))
                .is_some_and(|ps| ps.iter().any(|p| path.starts_with(p))),
        }
    }
}

/// A trial that only one of the two reports holds.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlyIn {
    pub id: String,
    pub target: String,
    pub verdict: Verdict,
}

/// View fields ignored by the comparison, as paths below the process name (`inside`,
/// `host`, ...); `*` stands for any one key or index, and a pattern also covers
/// everything below it:
///
/// - `ns.*.ino`: namespace inode numbers are allocated afresh in every run;
/// - `pid.{pid,ppid,sid,pgid,nspid,proc_self,visible}`: process ids;
/// - `time.{monotonic,boottime,realtime,uptime}`: clock readings;
/// - `mnt.mounts.*.{id,parent}`: mount ids.
pub const VOLATILE: &[&[&str]] = &[
    &["ns", "*", "ino"],
    &["pid", "pid"],
    &["pid", "ppid"],
    &["pid", "sid"],
    &["pid", "pgid"],
    &["pid", "nspid"],
    &["pid", "proc_self"],
    &["pid", "visible"],
    &["time", "monotonic"],
    &["time", "boottime"],
    &["time", "realtime"],
    &["time", "uptime"],
    &["mnt", "mounts", "*", "id"],
    &["mnt", "mounts", "*", "parent"],
];

/// A trial of both reports whose verdict differs.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictChange {
    pub id: String,
    pub target: String,
    /// The verdict in A; `None` when A has no such trial.
    pub a: Option<Verdict>,
    pub b: Option<Verdict>,
    pub reason_a: Option<String>,
    pub reason_b: Option<String>,
}

/// One view field that differs between the two reports for the same trial.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewChange {
    pub id: String,
    pub target: String,
    /// Dotted path inside the trial's views, starting with the process name.
    pub path: String,
    /// The value in A; `null` when absent.
    pub a: Value,
    pub b: Value,
}

/// What differs between report A and report B.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    pub verdicts: Vec<VerdictChange>,
    pub views: Vec<ViewChange>,
    /// Trials present in both reports.
    pub common: usize,
    pub only_a: Vec<OnlyIn>,
    pub only_b: Vec<OnlyIn>,
}

impl Comparison {
    /// Whether any trial of both reports changed verdict.
    pub fn verdicts_differ(&self) -> bool {
        !self.verdicts.is_empty()
    }

    /// Whether nothing at all differs.
    pub fn is_empty(&self) -> bool {
        self.verdicts.is_empty()
            && self.views.is_empty()
            && self.only_a.is_empty()
            && self.only_b.is_empty()
    }

    /// A Markdown account of the differences.
    pub fn to_markdown(&self) -> String {
        let mut md = String::from("# nsconform comparison: A against B\n\n");
        let _ = writeln!(
            md,
            "{} trials in both; {} verdicts differ; {} view fields differ; \
             {} trials only in A, {} only in B.\n",
            self.common,
            self.verdicts.len(),
            self.views.len(),
            self.only_a.len(),
            self.only_b.len()
        );
        only_in(&mut md, "A", &self.only_a);
        only_in(&mut md, "B", &self.only_b);
        if !self.verdicts.is_empty() {
            md.push_str("## Verdicts that differ\n\n| trial | target | A | B | why |\n");
            md.push_str("|:--|:--|:--|:--|:--|\n");
            for c in &self.verdicts {
                let why = [&c.reason_a, &c.reason_b]
                    .iter()
                    .zip(["A", "B"])
                    .filter_map(|(r, side)| r.as_ref().map(|r| format!("{side}: {}", cell(r))))
                    .collect::<Vec<_>>()
                    .join("; ");
                let _ = writeln!(
                    md,
                    "| `{}` | `{}` | {} | {} | {why} |",
                    cell(&c.id),
                    cell(&c.target),
                    verdict_cell(c.a),
                    verdict_cell(c.b)
                );
            }
            md.push('\n');
        }
        if !self.views.is_empty() {
            md.push_str("## View fields that differ\n\n| trial | path | A | B |\n");
            md.push_str("|:--|:--|:--|:--|\n");
            for c in &self.views {
                let _ = writeln!(
                    md,
                    "| `{}` | `{}` | `{}` | `{}` |",
                    cell(&c.id),
                    cell(&c.path),
                    cell(&c.a.to_string()),
                    cell(&c.b.to_string())
                );
            }
            md.push('\n');
        }
        md
    }
}

fn only_in(md: &mut String, side: &str, trials: &[OnlyIn]) {
    if trials.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Trials only in {side}\n\n| trial | target | verdict |"
    );
    md.push_str("|:--|:--|:--|\n");
    for t in trials {
        let _ = writeln!(
            md,
            "| `{}` | `{}` | **{}** |",
            cell(&t.id),
            cell(&t.target),
            t.verdict
        );
    }
    md.push('\n');
}

fn verdict_cell(v: Option<Verdict>) -> String {
    v.map_or("(absent)".to_string(), |v| format!("**{v}**"))
}

fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('`', "'")
}

/// Compares report A with report B, the view fields of `scope`.
pub fn compare(a: &Report, b: &Report, scope: &ViewScope) -> Comparison {
    let by_target = distinct_targets(a) > 1 || distinct_targets(b) > 1;
    let key = |t: &TrialRecord| {
        let target = if by_target {
            t.target.clone()
        } else {
            String::new()
        };
        (t.id.clone(), target)
    };
    let ta: BTreeMap<_, &TrialRecord> = a.trials.iter().map(|t| (key(t), t)).collect();
    let tb: BTreeMap<_, &TrialRecord> = b.trials.iter().map(|t| (key(t), t)).collect();
    let mut out = Comparison::default();
    let mut keys: Vec<_> = ta.keys().chain(tb.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        match (ta.get(&k).copied(), tb.get(&k).copied()) {
            (Some(x), Some(y)) => {
                out.common += 1;
                if x.verdict != y.verdict {
                    out.verdicts.push(VerdictChange {
                        id: x.id.clone(),
                        target: x.target.clone(),
                        a: Some(x.verdict),
                        b: Some(y.verdict),
                        reason_a: x.reason.clone(),
                        reason_b: y.reason.clone(),
                    });
                }
                out.views.extend(view_changes(x, y, scope));
            }
            (Some(x), None) => out.only_a.push(only(x)),
            (None, Some(y)) => out.only_b.push(only(y)),
            (None, None) => {}
        }
    }
    out
}

fn only(t: &TrialRecord) -> OnlyIn {
    OnlyIn {
        id: t.id.clone(),
        target: t.target.clone(),
        verdict: t.verdict,
    }
}

fn distinct_targets(r: &Report) -> usize {
    crate::verdict::targets(&r.trials).len()
}

fn view_changes(x: &TrialRecord, y: &TrialRecord, scope: &ViewScope) -> Vec<ViewChange> {
    // A report that kept no views of a trial (a guest's report keeps only
    // those of failures and errors) has nothing to compare them with.
    if x.views.is_none() || y.views.is_none() {
        return Vec::new();
    }
    let (fa, fb) = (
        flatten_views(x.views.as_ref()),
        flatten_views(y.views.as_ref()),
    );
    let mut paths: Vec<&Vec<String>> = fa.keys().chain(fb.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| !is_volatile(p) && scope.keeps(x, p))
        .filter_map(|p| {
            let (va, vb) = (fa.get(p), fb.get(p));
            (va != vb).then(|| ViewChange {
                id: x.id.clone(),
                target: x.target.clone(),
                path: render(p),
                a: va.cloned().unwrap_or(Value::Null),
                b: vb.cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// The leaves of `views`, by path segments (object keys, and array indices as `[i]`).
fn flatten_views(views: Option<&Value>) -> BTreeMap<Vec<String>, Value> {
    let mut out = BTreeMap::new();
    if let Some(v) = views {
        flatten(v, &mut Vec::new(), &mut out);
    }
    out
}

fn flatten(v: &Value, path: &mut Vec<String>, out: &mut BTreeMap<Vec<String>, Value>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(k.clone());
                flatten(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
            let mut set: Vec<&Value> = items.iter().collect();
            set.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            set.dedup();
            out.insert(
                path.clone(),
                Value::Array(set.into_iter().cloned().collect()),
            );
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                flatten(v, path, out);
                path.pop();
            }
        }
        leaf => {
            out.insert(path.clone(), leaf.clone());
        }
    }
}

/// Whether a path (process name first) falls under one of [`VOLATILE`].
pub fn is_volatile(path: &[String]) -> bool {
    let below = path.get(1..).unwrap_or(&[]);
    VOLATILE.iter().any(|pattern| {
        pattern.len() <= below.len()
            && pattern
                .iter()
                .zip(below)
                .all(|(p, seg)| *p == "*" || *p == seg)
    })
}

fn render(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        if !s.is_empty() && !seg.starts_with('[') {
            s.push('.');
        }
        s.push_str(seg);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn segs(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[rstest]
    #[case("inside.ns.uts.ino", true)]
    #[case("inside.ns.uts.dev", false)]
    #[case("host.pid.nspid.[1]", true)]
    #[case("inside.time.monotonic", true)]
    #[case("inside.time.offsets.monotonic.[0]", false)]
    #[case("inside.mnt.mounts.[3].id", true)]
    #[case("inside.mnt.mounts.[3].fstype", false)]
    #[case("inside.uts.hostname", false)]
    fn volatile_fields(#[case] path: &str, #[case] want: bool) {
        assert_eq!(is_volatile(&segs(path)), want, "{path}");
    }

    #[test]
    fn paths_render_with_indices() {
        let flat = flatten_views(Some(
            &json!({"inside": {"mnt": {"mounts": [{"fstype": "proc"}]}}}),
        ));
        let paths: Vec<String> = flat.keys().map(|p| render(p)).collect();
        assert_eq!(paths, ["inside.mnt.mounts[0].fstype"]);
    }
}
