//! Judging: from a probe's outcome and a case's fixture to a verdict.

use serde_json::{json, Value};

use crate::fixture::{Expect, Fixture};
use crate::matcher::{self, Context};
use crate::plan::Outcome;
use crate::skip::{SkipClass, SkipReason};
use crate::verdict::{Difference, Verdict};

/// A verdict with its reason and differences.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub verdict: Verdict,
    pub reason: Option<String>,
    /// For a skip: which kind of requirement the reason names.
    pub skip: Option<SkipClass>,
    pub diff: Vec<Difference>,
}

impl Judgement {
    pub fn of(verdict: Verdict, reason: impl Into<String>) -> Judgement {
        Judgement {
            verdict,
            reason: Some(reason.into()),
            skip: None,
            diff: Vec::new(),
        }
    }

    pub fn skip(reason: &SkipReason) -> Judgement {
        Judgement {
            verdict: Verdict::Skip,
            reason: Some(reason.to_string()),
            skip: Some(reason.class()),
            diff: Vec::new(),
        }
    }

    pub fn pass() -> Judgement {
        Judgement {
            verdict: Verdict::Pass,
            reason: None,
            skip: None,
            diff: Vec::new(),
        }
    }
}

/// The errno values that mean "this kernel does not have it".
const MISSING: [&str; 3] = ["ENOSYS", "EOPNOTSUPP", "ENOTSUP"];

/// The document a fixture is compared with: the door result and the views,
/// moved out of `outcome` (they are not copied).
pub fn observed(outcome: &mut Outcome) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert("door".into(), json!(outcome.door));
    doc.extend(std::mem::take(&mut outcome.views));
    Value::Object(doc)
}

/// Whether a fixture section names `key` at its top level.
fn mentions(section: Option<&Expect>, key: &str) -> bool {
    matches!(section, Some(Expect::Object(fields)) if fields.iter().any(|(k, _)| k == key))
}

fn section<'a>(fixture: &'a Fixture, process: &str) -> Option<&'a Expect> {
    fixture
        .sections()
        .find(|(n, _)| *n == process)
        .map(|(_, e)| e)
}

/// `what` failed with `errno`: a skip when the kernel lacks it, else a fail.
fn failed(what: String, errno: &str) -> Judgement {
    let errno = errno.to_string();
    if MISSING.contains(&errno.as_str()) {
        Judgement::skip(&SkipReason::Unsupported { what, errno })
    } else {
        Judgement::of(Verdict::Fail, format!("{what} failed with {errno}"))
    }
}

/// A failed door syscall that the fixture did not expect.
fn door_failure(outcome: &Outcome, fixture: &Fixture) -> Option<Judgement> {
    let errno = outcome.door.errno.as_deref()?;
    if fixture.door.is_some() {
        return None;
    }
    let syscall = outcome.door.syscall.as_deref().unwrap_or("the door");
    Some(failed(syscall.to_string(), errno))
}

/// A step that failed where the fixture says nothing about the steps.
fn step_failure(observed: &Value, fixture: &Fixture) -> Option<Judgement> {
    for (process, view) in observed.as_object().into_iter().flatten() {
        if mentions(section(fixture, process), "steps") {
            continue;
        }
        let steps = view.get("steps").and_then(Value::as_array);
        for (i, step) in steps.into_iter().flatten().enumerate() {
            let Some(errno) = step.get("errno").and_then(Value::as_str) else {
                continue;
            };
            let name = step.get("step").and_then(Value::as_str).unwrap_or("?");
            return Some(failed(format!("{process}: step {i} ({name})"), errno));
        }
    }
    None
}

/// A sysctl a step would have written that this kernel does not have: the
/// step says it is `missing` instead of writing.
/// `observed` holds the views (the outcome's were moved into it).
fn missing_sysctl(observed: &Value) -> Option<Judgement> {
    let steps = observed
        .as_object()?
        .values()
        .filter_map(|v| v.get("steps")?.as_array());
    let name = steps
        .flatten()
        .find_map(|step| step.get("missing")?.as_str())?;
    Some(Judgement::skip(&SkipReason::NoSysctl(name.to_string())))
}

/// A change the isolation guard refused, in any process of the probe: the
/// trial fails, whatever else went wrong after (the refusing process may
/// have sent no view), since the namespace the case asked for was not new.
fn refused(outcome: &Outcome) -> Option<Judgement> {
    let g = outcome.guard.first()?;
    Some(Judgement::of(
        Verdict::Fail,
        format!("{}: {}", g.process, g.message),
    ))
}

/// Judge one outcome against its fixture; `observed` is [`observed`] of it
/// (which took its views).
pub fn judge(outcome: &Outcome, observed: &Value, fixture: &Fixture, ctx: &Context) -> Judgement {
    if let Some(j) = refused(outcome) {
        return j;
    }
    if let Some(reason) = &outcome.skip {
        return Judgement::skip(&SkipReason::Inexpressible(reason.clone()));
    }
    if let Some(j) = missing_sysctl(observed) {
        return j;
    }
    if !outcome.errors.is_empty() {
        return Judgement::of(Verdict::Error, outcome.errors.join("; "));
    }
    if let Some(j) = door_failure(outcome, fixture).or_else(|| step_failure(observed, fixture)) {
        return j;
    }
    let diff = matcher::compare(fixture, observed, ctx);
    match diff.first() {
        None => Judgement::pass(),
        Some(first) => {
            let more = match diff.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            Judgement {
                verdict: Verdict::Fail,
                reason: Some(format!("{first}{more}")),
                skip: None,
                diff,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;

    fn judged(steps: serde_json::Value) -> Judgement {
        let path = std::path::Path::new("fixtures/net/x.json");
        let fixture = crate::fixture::parse_fixture(
            path,
            r#"{"inside": {"steps": [{"step": "net.sysctl", "ok": true, "value": "1"}]}}"#,
        )
        .expect("fixture");
        let mut outcome = Outcome::default();
        outcome
            .views
            .insert("inside".into(), json!({ "steps": steps }));
        let doc = observed(&mut outcome);
        judge(
            &outcome,
            &doc,
            &fixture,
            &crate::matcher::Context::new("6.18.0"),
        )
    }

    #[test]
    fn a_missing_sysctl_is_a_skip_naming_it() {
        let j = judged(
            json!([{"step": "net.sysctl", "ok": true, "missing": "net.ipv6.conf.all.forwarding"}]),
        );
        assert_eq!(j.verdict, Verdict::Skip);
        assert_eq!(j.skip, Some(crate::skip::SkipClass::Feature));
        assert!(j.reason.unwrap().contains("net.ipv6.conf.all.forwarding"));
    }

    #[test]
    fn a_written_sysctl_is_judged() {
        let j = judged(json!([{"step": "net.sysctl", "ok": true, "value": "0"}]));
        assert_eq!(j.verdict, Verdict::Fail);
    }
}
