//! Known issues: documented non-conformances of a kernel version range, read
//! from `known-issues.json`. A failure that one covers is `xfail`; a covered
//! trial that passes is `xpass`. The fixture keeps the promise either way.

use std::path::Path;

use serde::Deserialize;

use crate::format_error::{FormatError, JsonPath};
use crate::kver::{KernelVersion, VersionRange};
use crate::verdict::{TrialRecord, Verdict};

/// One known non-conformance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIssue {
    /// A short name, such as `mnt-unbindable-copy`.
    pub id: String,
    /// Trial ids, or `<type>::<case>` for every door of a case.
    pub trials: Vec<String>,
    /// The kernel releases that have the issue.
    pub kernel: VersionRange,
    /// The JSON paths (or their prefixes) where the failure shows; a
    /// difference anywhere else is not covered. Empty: any difference.
    pub paths: Vec<String>,
    /// What the kernel does instead of what is documented.
    pub reason: String,
    /// Where it is documented or reported upstream.
    pub reference: String,
}

/// The file's form, before the kernel ranges are parsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuesFile {
    issues: Vec<RawIssue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssue {
    id: String,
    trials: Vec<String>,
    kernel: String,
    #[serde(default)]
    paths: Vec<String>,
    reason: String,
    reference: String,
}

impl KnownIssue {
    /// Whether it names the case `ty::case` (any of its doors).
    pub fn names_case(&self, ty: &str, case: &str) -> bool {
        let prefix = format!("{ty}::{case}");
        self.trials
            .iter()
            .any(|t| *t == prefix || t.strip_prefix(&prefix).is_some_and(|r| r.starts_with("::")))
    }

    fn covers_trial(&self, id: &str) -> bool {
        self.trials.iter().any(|t| {
            id == t
                || id
                    .strip_prefix(t.as_str())
                    .is_some_and(|r| r.starts_with("::"))
        })
    }

    fn covers_paths(&self, record: &TrialRecord) -> bool {
        self.paths.is_empty()
            || record
                .diff
                .iter()
                .all(|d| self.paths.iter().any(|p| under(&d.path, p)))
    }

    /// One line for reports: the id, the reason and the reference.
    pub fn describe(&self) -> String {
        format!(
            "known issue {} (Linux {}): {} [{}]",
            self.id, self.kernel, self.reason, self.reference
        )
    }
}

/// Whether the dotted `path` is `prefix` or lies below it.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('.'))
}

/// Reads the known issues in `text` (the contents of `path`).
pub fn parse(path: &Path, text: &str) -> Result<Vec<KnownIssue>, FormatError> {
    let file: IssuesFile =
        serde_json::from_str(text).map_err(|e| FormatError::from_json(path, &e))?;
    let mut out = Vec::new();
    for (i, raw) in file.issues.into_iter().enumerate() {
        let at = JsonPath::root().key("issues").index(i);
        let kernel = VersionRange::parse(&raw.kernel)
            .map_err(|m| FormatError::at_path(path, text, &at.key("kernel"), m))?;
        if raw.trials.is_empty() {
            let m = "names no trials".to_string();
            return Err(FormatError::at_path(path, text, &at.key("trials"), m));
        }
        out.push(KnownIssue {
            id: raw.id,
            trials: raw.trials,
            kernel,
            paths: raw.paths,
            reason: raw.reason,
            reference: raw.reference,
        });
    }
    Ok(out)
}

/// Reads `path`; a missing file is no known issues.
pub fn read(path: &Path) -> Result<Vec<KnownIssue>, FormatError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(FormatError::unreadable(path, &e)),
    }
}

/// Turns a judged `record` into `xfail` or `xpass` where one of `issues`
/// covers it on the kernel `release`.
pub fn apply(record: &mut TrialRecord, issues: &[KnownIssue], release: &str) {
    let Some(kernel) = KernelVersion::from_release(release) else {
        return;
    };
    let applies = |k: &&KnownIssue| k.covers_trial(&record.id) && k.kernel.contains(kernel);
    let Some(issue) = issues.iter().find(applies) else {
        return;
    };
    match record.verdict {
        Verdict::Fail if !record.diff.is_empty() && issue.covers_paths(record) => {
            record.verdict = Verdict::Xfail;
            record.known_issue = Some(issue.describe());
        }
        Verdict::Pass => {
            record.verdict = Verdict::Xpass;
            record.reason = Some(format!("passes, but {}", issue.describe()));
            record.known_issue = Some(issue.describe());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Difference;
    use serde_json::json;

    const FILE: &str = r#"{"issues": [{
  "id": "mnt-unbindable-copy",
  "trials": ["mnt::propagation-unbindable-two-ns"],
  "kernel": ">=6.17",
  "paths": ["inside.steps.0.second.unbindable", "inside.steps.0.second.bind"],
  "reason": "the copy is not unbindable",
  "reference": "Documentation/filesystems/sharedsubtree.rst"
}]}"#;

    fn record(verdict: Verdict, paths: &[&str]) -> TrialRecord {
        TrialRecord {
            id: "mnt::propagation-unbindable-two-ns::clone".into(),
            ty: "mnt".into(),
            case: "propagation-unbindable-two-ns".into(),
            door: "clone".into(),
            target: "host".into(),
            verdict,
            reason: None,
            skip: None,
            diff: paths
                .iter()
                .map(|p| Difference {
                    path: p.to_string(),
                    expected: json!(true),
                    observed: json!(false),
                })
                .collect(),
            duration_ms: 0.0,
            views: None,
            stderr: String::new(),
            checks: 1,
            known_issue: None,
        }
    }

    fn issues() -> Vec<KnownIssue> {
        parse(Path::new("known-issues.json"), FILE).unwrap()
    }

    #[test]
    fn a_covered_failure_is_xfail() {
        let mut r = record(Verdict::Fail, &["inside.steps.0.second.unbindable"]);
        apply(&mut r, &issues(), "6.18.44-fc");
        assert_eq!(r.verdict, Verdict::Xfail);
        assert!(r.known_issue.unwrap().contains("sharedsubtree.rst"));
    }

    #[test]
    fn a_failure_elsewhere_or_on_another_kernel_stays_a_failure() {
        let mut r = record(Verdict::Fail, &["inside.steps.0.first.bind"]);
        apply(&mut r, &issues(), "6.18.44");
        assert_eq!(r.verdict, Verdict::Fail);
        let mut r = record(Verdict::Fail, &["inside.steps.0.second.bind"]);
        apply(&mut r, &issues(), "6.16.1");
        assert_eq!(r.verdict, Verdict::Fail);
    }

    #[test]
    fn a_covered_pass_is_xpass() {
        let mut r = record(Verdict::Pass, &[]);
        apply(&mut r, &issues(), "6.19");
        assert_eq!(r.verdict, Verdict::Xpass);
        let mut r = record(Verdict::Skip, &[]);
        apply(&mut r, &issues(), "6.19");
        assert_eq!(r.verdict, Verdict::Skip);
    }

    #[test]
    fn names_cases_and_trials() {
        let i = &issues()[0];
        assert!(i.names_case("mnt", "propagation-unbindable-two-ns"));
        assert!(!i.names_case("mnt", "propagation-unbindable"));
        assert!(!i.covers_trial("mnt::propagation-unbindable-two-ns-x::clone"));
    }

    #[test]
    fn refuses_bad_files_with_the_position() {
        let bad = FILE.replace(">=6.17", "6.17");
        let err = parse(Path::new("known-issues.json"), &bad).unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(err.to_string().contains("needs an operator"), "{err}");
        let err = parse(Path::new("k.json"), r#"{"issues": [{"id": 1}]}"#).unwrap_err();
        assert!(err.to_string().starts_with("k.json:1:"), "{err}");
        assert!(read(Path::new("/nonexistent/known-issues.json"))
            .unwrap()
            .is_empty());
    }
}
