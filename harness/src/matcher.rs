//! The comparison of a fixture with an observed document, and its diff.
//!
//! The observed document is `{"door": {...}, "inside": {...}, "child": {...},
//! "unsharer": {...}, "host": {...}, "before": {"host": {...}}}`. Every
//! difference names its dotted path (`inside.uts.hostname`, array indices as
//! `.0`), the expected value with references resolved, and the observed
//! value (`null` when absent).

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::fixture::{Expect, Fixture, Matcher, Operand, Part, RefPath, Template, Term};
use crate::kver::KernelVersion;
use crate::verdict::Difference;

/// What a comparison needs besides the fixture and the observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The release of the kernel under test, as `uname -r` prints it.
    pub release: String,
    /// Its version, when the release has one.
    pub kernel: Option<KernelVersion>,
}

impl Context {
    pub fn new(release: &str) -> Context {
        Context {
            release: release.to_string(),
            kernel: KernelVersion::from_release(release),
        }
    }
}

/// Compares `observed` with `fixture`; no differences means the trial passes.
pub fn compare(fixture: &Fixture, observed: &Value, ctx: &Context) -> Vec<Difference> {
    let mut judge = Judge {
        doc: observed,
        ctx,
        out: Vec::new(),
    };
    for (name, expect) in fixture.sections() {
        judge.expect(expect, observed.get(name), name);
    }
    judge.out
}

/// A value with its references resolved, and whether they all were.
struct Resolved {
    value: Value,
    complete: bool,
}

impl Resolved {
    fn ok(value: Value) -> Resolved {
        Resolved {
            value,
            complete: true,
        }
    }
}

struct Judge<'a> {
    doc: &'a Value,
    ctx: &'a Context,
    out: Vec<Difference>,
}

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

impl Judge<'_> {
    fn differ(&mut self, path: &str, expected: Value, observed: Option<&Value>) {
        self.out.push(Difference {
            path: path.to_string(),
            expected,
            observed: observed.cloned().unwrap_or(Value::Null),
        });
    }

    fn expect(&mut self, e: &Expect, obs: Option<&Value>, path: &str) {
        match e {
            Expect::Scalar(v) => {
                if obs != Some(v) {
                    self.differ(path, v.clone(), obs);
                }
            }
            Expect::Str(t) => {
                let r = self.template(t);
                if !r.complete || obs != Some(&r.value) {
                    self.differ(path, r.value, obs);
                }
            }
            Expect::Array(items) => match obs {
                Some(Value::Array(a)) if a.len() == items.len() => {
                    for (i, (e, o)) in items.iter().zip(a).enumerate() {
                        self.expect(e, Some(o), &join(path, &i.to_string()));
                    }
                }
                _ => {
                    let want = self.render(e);
                    self.differ(path, want, obs);
                }
            },
            Expect::Object(fields) => match obs {
                Some(Value::Object(o)) => {
                    for (k, e) in fields {
                        self.expect(e, o.get(k), &join(path, k));
                    }
                }
                _ => {
                    let want = self.render(e);
                    self.differ(path, want, obs);
                }
            },
            Expect::Matcher(m) => self.matcher(m, obs, path),
        }
    }

    fn matcher(&mut self, m: &Matcher, obs: Option<&Value>, path: &str) {
        match m {
            Matcher::All(list) => list.iter().for_each(|e| self.expect(e, obs, path)),
            Matcher::Kernel(arms) => match self.ctx.kernel {
                Some(k) => {
                    if let Some((_, e)) = arms.iter().find(|(r, _)| r.contains(k)) {
                        self.expect(e, obs, path);
                    }
                }
                None if arms.is_empty() => {}
                None => {
                    let why = format!(
                        "$kernel, but the kernel release `{}` has no version",
                        self.ctx.release
                    );
                    self.differ(path, Value::String(why), obs);
                }
            },
            _ => {
                if !self.holds(m, obs) {
                    let want = self.render_matcher(m);
                    self.differ(path, want, obs);
                }
            }
        }
    }

    /// Whether `e` matches `obs` entirely.
    fn matches(&self, e: &Expect, obs: Option<&Value>) -> bool {
        let mut sub = Judge {
            doc: self.doc,
            ctx: self.ctx,
            out: Vec::new(),
        };
        sub.expect(e, obs, "");
        sub.out.is_empty()
    }

    /// Whether a leaf matcher holds; an unresolved reference never does.
    fn holds(&self, m: &Matcher, obs: Option<&Value>) -> bool {
        match m {
            Matcher::Eq(t) => {
                let r = self.term(t);
                r.complete && obs == Some(&r.value)
            }
            Matcher::Ne(t) => {
                let r = self.term(t);
                r.complete && obs.is_some_and(|o| *o != r.value)
            }
            Matcher::Any => obs.is_some(),
            Matcher::Absent => obs.is_none(),
            Matcher::Len(e) => {
                let len = match obs {
                    Some(Value::Array(a)) => a.len(),
                    Some(Value::String(s)) => s.len(),
                    Some(Value::Object(o)) => o.len(),
                    _ => return false,
                };
                self.matches(e, Some(&Value::from(len)))
            }
            Matcher::Contains(e) => self.contains(e, obs),
            Matcher::Regex(re) => matches!(obs, Some(Value::String(s)) if re.is_match(s)),
            Matcher::Lt(op) => self.order(op, obs, |o| o == Ordering::Less),
            Matcher::Lte(op) => self.order(op, obs, |o| o != Ordering::Greater),
            Matcher::Gt(op) => self.order(op, obs, |o| o == Ordering::Greater),
            Matcher::Gte(op) => self.order(op, obs, |o| o != Ordering::Less),
            Matcher::Kernel(_) | Matcher::All(_) => self.matches_matcher(m, obs),
        }
    }

    fn matches_matcher(&self, m: &Matcher, obs: Option<&Value>) -> bool {
        let mut sub = Judge {
            doc: self.doc,
            ctx: self.ctx,
            out: Vec::new(),
        };
        sub.matcher(m, obs, "");
        sub.out.is_empty()
    }

    fn contains(&self, e: &Expect, obs: Option<&Value>) -> bool {
        match obs {
            Some(Value::Array(a)) => a.iter().any(|x| self.matches(e, Some(x))),
            Some(Value::String(s)) => match e {
                Expect::Str(t) => {
                    let r = self.template(t);
                    matches!(r.value, Value::String(n) if r.complete && s.contains(&n))
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn order(&self, op: &Operand, obs: Option<&Value>, ok: fn(Ordering) -> bool) -> bool {
        let (Some(Value::Number(o)), Value::Number(bound)) = (obs, self.operand(op).value) else {
            return false;
        };
        compare_numbers(o, &bound).is_some_and(ok)
    }

    fn operand(&self, op: &Operand) -> Resolved {
        match op {
            Operand::Number(n) => Resolved::ok(Value::Number(n.clone())),
            Operand::Ref(r) => self.reference(r),
        }
    }

    fn reference(&self, r: &RefPath) -> Resolved {
        let mut at = self.doc;
        for seg in &r.segments {
            let next = match at {
                Value::Object(o) => o.get(seg),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(v) => at = v,
                None => {
                    return Resolved {
                        value: Value::String(format!("{r} (unresolved)")),
                        complete: false,
                    }
                }
            }
        }
        Resolved::ok(at.clone())
    }

    fn template(&self, t: &Template) -> Resolved {
        match t {
            Template::Plain(s) => Resolved::ok(Value::String(s.clone())),
            Template::Ref(r) => self.reference(r),
            Template::Interp { text, parts } => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => s.push_str(t),
                        Part::Ref(r) => match self.reference(r) {
                            Resolved {
                                value: Value::String(v),
                                complete: true,
                            } => s.push_str(&v),
                            Resolved {
                                value,
                                complete: true,
                            } => s.push_str(&value.to_string()),
                            _ => {
                                return Resolved {
                                    value: Value::String(format!("{text} (unresolved)")),
                                    complete: false,
                                }
                            }
                        },
                    }
                }
                Resolved::ok(Value::String(s))
            }
        }
    }

    fn term(&self, t: &Term) -> Resolved {
        match t {
            Term::Scalar(v) => Resolved::ok(v.clone()),
            Term::Str(t) => self.template(t),
            Term::Array(items) => {
                let rs: Vec<Resolved> = items.iter().map(|t| self.term(t)).collect();
                Resolved {
                    complete: rs.iter().all(|r| r.complete),
                    value: Value::Array(rs.into_iter().map(|r| r.value).collect()),
                }
            }
            Term::Object(fields) => {
                let mut complete = true;
                let mut map = Map::new();
                for (k, t) in fields {
                    let r = self.term(t);
                    complete &= r.complete;
                    map.insert(k.clone(), r.value);
                }
                Resolved {
                    value: Value::Object(map),
                    complete,
                }
            }
        }
    }

    /// The expectation as JSON, references resolved.
    fn render(&self, e: &Expect) -> Value {
        match e {
            Expect::Scalar(v) => v.clone(),
            Expect::Str(t) => self.template(t).value,
            Expect::Array(items) => Value::Array(items.iter().map(|e| self.render(e)).collect()),
            Expect::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, e)| (k.clone(), self.render(e)))
                    .collect(),
            ),
            Expect::Matcher(m) => self.render_matcher(m),
        }
    }

    fn render_matcher(&self, m: &Matcher) -> Value {
        let arg = match m {
            Matcher::Eq(t) | Matcher::Ne(t) => self.term(t).value,
            Matcher::Any | Matcher::Absent => Value::Bool(true),
            Matcher::Len(e) | Matcher::Contains(e) => self.render(e),
            Matcher::Regex(re) => Value::String(re.as_str().to_string()),
            Matcher::Lt(op) | Matcher::Lte(op) | Matcher::Gt(op) | Matcher::Gte(op) => {
                self.operand(op).value
            }
            Matcher::Kernel(arms) => Value::Object(
                arms.iter()
                    .map(|(r, e)| (r.as_str().to_string(), self.render(e)))
                    .collect(),
            ),
            Matcher::All(list) => Value::Array(list.iter().map(|e| self.render(e)).collect()),
        };
        let mut map = Map::new();
        map.insert(m.key().to_string(), arg);
        Value::Object(map)
    }
}

/// Orders two JSON numbers exactly when both are integers.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}
