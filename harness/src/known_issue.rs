//! Known issues: documented non-conformances of a kernel version range or of
//! a runtime's version range, read from `known-issues.json`. A failure that
//! one covers is `xfail`; a covered trial that passes is `xpass`. The fixture
//! keeps the promise either way.

use std::path::Path;

use serde::Deserialize;

use crate::format_error::{FormatError, JsonPath};
use crate::kver::{KernelVersion, VersionRange};
use crate::verdict::{Environment, TrialRecord, Verdict};

/// One known non-conformance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIssue {
    /// A short name, such as `mnt-unbindable-copy`.
    pub id: String,
    /// Trial ids, or `<type>::<case>` for every door of a case.
    pub trials: Vec<String>,
    /// The kernel releases that have the issue; none: every kernel.
    pub kernel: Option<VersionRange>,
    /// The runtime releases that have the issue; none: any door.
    pub runtime: Option<RuntimeRange>,
    /// The JSON paths (or their prefixes) where the failure shows; a
    /// difference anywhere else is not covered. Empty: any difference.
    pub paths: Vec<String>,
    /// What the kernel or runtime does instead of what is documented.
    pub reason: String,
    /// Where it is documented or reported upstream.
    pub reference: String,
}

/// A runtime and the range of its versions, such as runc `>=1.1.0 <1.2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeRange {
    /// The program's name as its `--version` line begins (`runc`, `crun`,
    /// `youki`, `bubblewrap`).
    pub name: String,
    pub version: VersionRange,
}

impl RuntimeRange {
    /// Whether the `--version` line a report's environment records for a
    /// door names this runtime in this range.
    fn contains(&self, version_line: &str) -> bool {
        let Some((name, version)) = runtime_version(version_line) else {
            return false;
        };
        name == self.name && self.version.contains(version)
    }
}

/// The program name and the version of a `--version` line: its first word
/// and its first word that begins with a digit (`runc version 1.1.5+ds1;
/// commit: ...` is runc 1.1.5).
fn runtime_version(line: &str) -> Option<(&str, KernelVersion)> {
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let version = words.find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    Some((name, KernelVersion::from_release(version)?))
}

/// The file's form, before the version ranges are parsed.
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
    #[serde(default)]
    kernel: Option<String>,
    #[serde(default)]
    runtime: Option<String>,
    #[serde(default)]
    version: Option<String>,
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
        let failed = failed_paths(record);
        !failed.is_empty()
            && (self.paths.is_empty()
                || failed
                    .iter()
                    .all(|f| self.paths.iter().any(|p| under(f, p))))
    }

    /// Whether it holds for a trial through `door` in `env`.
    fn holds_in(&self, door: &str, env: &Environment) -> bool {
        let kernel_ok = self.kernel.as_ref().is_none_or(|range| {
            KernelVersion::from_release(&env.kernel_release).is_some_and(|k| range.contains(k))
        });
        let runtime_ok = self.runtime.as_ref().is_none_or(|rt| {
            (env.doors.iter())
                .find(|d| d.name == door)
                .and_then(|d| d.version.as_deref())
                .is_some_and(|line| rt.contains(line))
        });
        kernel_ok && runtime_ok
    }

    /// One line for reports: the id, the ranges, the reason and the reference.
    pub fn describe(&self) -> String {
        let mut ranges = Vec::new();
        if let Some(k) = &self.kernel {
            ranges.push(format!("Linux {k}"));
        }
        if let Some(rt) = &self.runtime {
            ranges.push(format!("{} {}", rt.name, rt.version));
        }
        format!(
            "known issue {} ({}): {} [{}]",
            self.id,
            ranges.join(", "),
            self.reason,
            self.reference
        )
    }
}

/// Where a failed `record` differs: its diff's paths, or `door.errno` when
/// the door itself failed (a runtime that refused the container) before
/// anything could be compared.
fn failed_paths(record: &TrialRecord) -> Vec<&str> {
    if !record.diff.is_empty() {
        return record.diff.iter().map(|d| d.path.as_str()).collect();
    }
    let door_failed = (record.views.as_ref())
        .and_then(|v| v.pointer("/door/errno"))
        .is_some_and(|e| !e.is_null());
    if door_failed {
        vec!["door.errno"]
    } else {
        Vec::new()
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
        let fail = |key: &str, m: String| FormatError::at_path(path, text, &at.key(key), m);
        let range = |key: &str, t: &str| VersionRange::parse(t).map_err(|m| fail(key, m));
        let kernel = raw
            .kernel
            .as_deref()
            .map(|t| range("kernel", t))
            .transpose()?;
        let runtime = match (raw.runtime, raw.version.as_deref()) {
            (Some(name), Some(v)) => Some(RuntimeRange {
                name,
                version: range("version", v)?,
            }),
            (None, None) => None,
            (Some(_), None) => return Err(fail("runtime", "needs a `version` range".into())),
            (None, Some(_)) => return Err(fail("version", "needs a `runtime`".into())),
        };
        if kernel.is_none() && runtime.is_none() {
            return Err(fail(
                "id",
                "needs a `kernel` or a `runtime` and `version`".into(),
            ));
        }
        if raw.trials.is_empty() {
            return Err(fail("trials", "names no trials".into()));
        }
        out.push(KnownIssue {
            id: raw.id,
            trials: raw.trials,
            kernel,
            runtime,
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
/// covers it in `env` (its kernel release, its doors' runtime versions).
pub fn apply(record: &mut TrialRecord, issues: &[KnownIssue], env: &Environment) {
    let applies = |k: &&KnownIssue| k.covers_trial(&record.id) && k.holds_in(&record.door, env);
    let Some(issue) = issues.iter().find(applies) else {
        return;
    };
    match record.verdict {
        Verdict::Fail if issue.covers_paths(record) => {
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
    use crate::verdict::{Difference, DoorInfo};
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
            verdict,
            diff: paths
                .iter()
                .map(|p| Difference {
                    path: p.to_string(),
                    expected: json!(true),
                    observed: json!(false),
                })
                .collect(),
            checks: 1,
            ..TrialRecord::new("mnt::propagation-unbindable-two-ns::clone", "host")
        }
    }

    const RUNTIME: &str = r#"{"issues": [{
  "id": "runc-domainname",
  "trials": ["mnt::propagation-unbindable-two-ns::runc"],
  "runtime": "runc",
  "version": ">=1.1.0 <1.2",
  "paths": ["inside.steps.0.second.unbindable"],
  "reason": "r",
  "reference": "x"
}]}"#;

    fn env(release: &str, door: &str, version: &str) -> Environment {
        Environment {
            kernel_release: release.into(),
            doors: vec![DoorInfo {
                name: door.into(),
                available: true,
                version: Some(version.into()),
                ..DoorInfo::default()
            }],
            ..Environment::default()
        }
    }

    fn kernel(release: &str) -> Environment {
        env(release, "clone", "")
    }

    fn runc_record(verdict: Verdict) -> TrialRecord {
        let mut r = record(verdict, &["inside.steps.0.second.unbindable"]);
        r.id = "mnt::propagation-unbindable-two-ns::runc".into();
        r.door = "runc".into();
        r
    }

    fn issues() -> Vec<KnownIssue> {
        parse(Path::new("known-issues.json"), FILE).unwrap()
    }

    #[test]
    fn a_covered_failure_is_xfail() {
        let mut r = record(Verdict::Fail, &["inside.steps.0.second.unbindable"]);
        apply(&mut r, &issues(), &kernel("6.18.44-fc"));
        assert_eq!(r.verdict, Verdict::Xfail);
        assert!(r.known_issue.unwrap().contains("sharedsubtree.rst"));
    }

    #[test]
    fn a_failure_elsewhere_or_on_another_kernel_stays_a_failure() {
        let mut r = record(Verdict::Fail, &["inside.steps.0.first.bind"]);
        apply(&mut r, &issues(), &kernel("6.18.44"));
        assert_eq!(r.verdict, Verdict::Fail);
        let mut r = record(Verdict::Fail, &["inside.steps.0.second.bind"]);
        apply(&mut r, &issues(), &kernel("6.16.1"));
        assert_eq!(r.verdict, Verdict::Fail);
    }

    #[test]
    fn a_covered_pass_is_xpass() {
        let mut r = record(Verdict::Pass, &[]);
        apply(&mut r, &issues(), &kernel("6.19"));
        assert_eq!(r.verdict, Verdict::Xpass);
        let mut r = record(Verdict::Skip, &[]);
        apply(&mut r, &issues(), &kernel("6.19"));
        assert_eq!(r.verdict, Verdict::Skip);
    }

    #[test]
    fn a_runtime_range_is_matched_against_the_doors_version() {
        let issues = parse(Path::new("known-issues.json"), RUNTIME).unwrap();
        let line = "runc version 1.1.5+ds1; commit: 1.1.5+ds1-1+deb12u1; spec: 1.0.2-dev";
        let mut r = runc_record(Verdict::Fail);
        apply(&mut r, &issues, &env("6.18", "runc", line));
        assert_eq!(r.verdict, Verdict::Xfail);
        assert!(r.known_issue.unwrap().contains("(runc >=1.1.0 <1.2)"));
        for (door, line) in [
            ("runc", "runc version 1.2.0; spec: 1.2.0"),
            ("runc", "crun version 1.1.5"),
            ("crun", line),
        ] {
            let mut r = runc_record(Verdict::Fail);
            apply(&mut r, &issues, &env("6.18", door, line));
            assert_eq!(r.verdict, Verdict::Fail, "{door}: {line}");
        }
        let mut r = runc_record(Verdict::Pass);
        apply(&mut r, &issues, &env("6.18", "runc", "runc version 1.1.12"));
        assert_eq!(r.verdict, Verdict::Xpass);
    }

    #[test]
    fn a_door_that_failed_shows_at_door_errno() {
        let text = RUNTIME.replace("inside.steps.0.second.unbindable", "door.errno");
        let issues = parse(Path::new("known-issues.json"), &text).unwrap();
        let env = env("6.18", "runc", "runc version 1.1.5");
        let mut r = runc_record(Verdict::Fail);
        r.diff.clear();
        r.views = Some(json!({"door": {"syscall": "runtime", "errno": "exit status 1"}}));
        apply(&mut r, &issues, &env);
        assert_eq!(r.verdict, Verdict::Xfail);
        let mut r = runc_record(Verdict::Fail);
        r.diff.clear();
        apply(&mut r, &issues, &env);
        assert_eq!(
            r.verdict,
            Verdict::Fail,
            "nothing differed, nothing is covered"
        );
    }

    #[test]
    fn reads_the_version_of_a_version_line() {
        let v = |l| runtime_version(l).map(|(n, v)| (n, v.to_string()));
        assert_eq!(
            v("crun version 1.8.1; commit: f8a0"),
            Some(("crun", "1.8.1".into()))
        );
        assert_eq!(v("bubblewrap 0.8.0"), Some(("bubblewrap", "0.8".into())));
        assert_eq!(v("youki version 0.7.0"), Some(("youki", "0.7".into())));
        assert_eq!(v("youki"), None);
    }

    #[test]
    fn refuses_a_runtime_without_its_range_and_an_issue_without_either() {
        let k = |t: &str| parse(Path::new("k.json"), t).unwrap_err().to_string();
        let no_version = RUNTIME.replace(r#""version": ">=1.1.0 <1.2","#, "");
        assert!(k(&no_version).contains("needs a `version` range"));
        let no_runtime = RUNTIME.replace(r#""runtime": "runc","#, "");
        assert!(k(&no_runtime).contains("needs a `runtime`"));
        let neither = no_version.replace(r#""runtime": "runc","#, "");
        assert!(k(&neither).contains("needs a `kernel` or a `runtime`"));
        let bad = RUNTIME.replace("<1.2", "1.2");
        let err = parse(Path::new("k.json"), &bad).unwrap_err();
        assert_eq!(err.line, 5, "{err}");
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
