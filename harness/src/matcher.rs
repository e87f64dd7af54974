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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::parse_fixture;
    use rstest::rstest;
    use serde_json::json;
    use std::path::Path;

    fn observed() -> Value {
        json!({
            "door": {"syscall": "unshare", "errno": "EPERM"},
            "inside": {
                "uts": {"hostname": "nsconform-a", "domainname": "ns-unshare"},
                "ns": {"uts": 4026532001u64, "pid": 4026531836u64},
                "pid": {"nspid": [1, 57]},
                "net": {"links": [{"name": "lo", "up": false, "mtu": 65536}]},
                "ids": {"uid": 0, "gid": 0, "label": "id-0"},
                "steps": [{"step": "sethostname", "errno": "EPERM"}]
            },
            "host": {"uts": {"hostname": "vm"}, "ns": {"uts": 4026531838u64, "pid": 4026531836u64}},
            "before": {"host": {"uts": {"hostname": "vm"}}}
        })
    }

    /// The differences as `[path, expected, observed]` triples.
    fn diffs_on(fixture: &str, release: &str) -> Value {
        let f = parse_fixture(Path::new("f.json"), fixture).unwrap();
        let d = compare(&f, &observed(), &Context::new(release));
        Value::Array(
            d.into_iter()
                .map(|d| json!([d.path, d.expected, d.observed]))
                .collect(),
        )
    }

    fn diffs(fixture: &str) -> Value {
        diffs_on(fixture, "6.18.44-fc-v657")
    }

    #[rstest]
    #[case::literal(r#"{"inside": {"uts": {"hostname": "nsconform-a"}}}"#)]
    #[case::partial(r#"{"inside": {"net": {"links": [{"name": "lo"}]}}, "host": {}}"#)]
    #[case::reference(r#"{"host": {"uts": {"hostname": "${before.host.uts.hostname}"}}}"#)]
    #[case::reference_index(r#"{"inside": {"pid": {"nspid": ["${inside.pid.nspid.0}", 57]}}}"#)]
    #[case::interpolated(r#"{"inside": {"uts": {"domainname": "ns-${door.syscall}"}}}"#)]
    #[case::interpolated_number(r#"{"inside": {"ids": {"label": "id-${inside.ids.uid}"}}}"#)]
    #[case::eq(r#"{"inside": {"ns": {"pid": {"$eq": "${host.ns.pid}"}}}}"#)]
    #[case::eq_whole(
        r#"{"inside": {"net": {"$eq": {"links": [{"name": "lo", "up": false, "mtu": 65536}]}}}}"#
    )]
    #[case::ne(r#"{"inside": {"ns": {"uts": {"$ne": "${host.ns.uts}"}}}}"#)]
    #[case::any(r#"{"inside": {"ns": {"uts": {"$any": true}}}}"#)]
    #[case::absent(r#"{"inside": {"ns": {"time": {"$absent": true}}}}"#)]
    #[case::len_array(r#"{"inside": {"pid": {"nspid": {"$len": 2}}}}"#)]
    #[case::len_string(r#"{"inside": {"uts": {"hostname": {"$len": 11}}}}"#)]
    #[case::len_object(r#"{"inside": {"ids": {"$len": {"$gte": 3}}}}"#)]
    #[case::contains_array(
        r#"{"inside": {"net": {"links": {"$contains": {"name": "lo", "up": false}}}}}"#
    )]
    #[case::contains_string(r#"{"inside": {"uts": {"hostname": {"$contains": "conform"}}}}"#)]
    #[case::contains_ref(
        r#"{"inside": {"pid": {"nspid": {"$contains": "${inside.pid.nspid.1}"}}}}"#
    )]
    #[case::regex(r#"{"inside": {"uts": {"hostname": {"$regex": "^nsconform-[a-z]$"}}}}"#)]
    #[case::lt(r#"{"inside": {"pid": {"nspid": [{"$lt": 2}, {"$gt": "${inside.pid.nspid.0}"}]}}}"#)]
    #[case::lte_gte(r#"{"inside": {"ids": {"uid": {"$all": [{"$lte": 0}, {"$gte": -1.5}]}}}}"#)]
    #[case::big_numbers(r#"{"inside": {"ns": {"uts": {"$gt": "${host.ns.uts}"}}}}"#)]
    #[case::kernel(r#"{"door": {"errno": {"$kernel": {">=5.12": "EPERM", "<5.12": "EINVAL"}}}}"#)]
    #[case::kernel_none_matches(r#"{"door": {"errno": {"$kernel": {"<4.0": "EINVAL"}}}}"#)]
    #[case::all(r#"{"inside": {"uts": {"hostname": {"$all": [{"$regex": "^ns"}, {"$len": {"$lt": 64}}]}}}}"#)]
    #[case::expected_errors(
        r#"{"door": {"errno": "EPERM"}, "inside": {"steps": [{"errno": "EPERM"}]}}"#
    )]
    fn passes(#[case] fixture: &str) {
        assert_eq!(diffs(fixture), json!([]));
    }

    #[rstest]
    #[case::literal(r#"{"inside": {"uts": {"hostname": "x"}}}"#,
        json!([["inside.uts.hostname", "x", "nsconform-a"]]))]
    #[case::missing_key(r#"{"inside": {"uts": {"nodename": "x"}}}"#,
        json!([["inside.uts.nodename", "x", null]]))]
    #[case::missing_section(r#"{"child": {"uts": {}}}"#,
        json!([["child", {"uts": {}}, null]]))]
    #[case::not_an_object(r#"{"inside": {"pid": {"nspid": {"a": 1}}}}"#,
        json!([["inside.pid.nspid", {"a": 1}, [1, 57]]]))]
    #[case::strict_string(r#"{"inside": {"ids": {"uid": "0"}}}"#,
        json!([["inside.ids.uid", "0", 0]]))]
    #[case::strict_float(r#"{"inside": {"ids": {"uid": 0.0}}}"#,
        json!([["inside.ids.uid", 0.0, 0]]))]
    #[case::strict_bool(r#"{"inside": {"net": {"links": [{"up": 0}]}}}"#,
        json!([["inside.net.links.0.up", 0, false]]))]
    #[case::array_length(r#"{"inside": {"pid": {"nspid": [1]}}}"#,
        json!([["inside.pid.nspid", [1], [1, 57]]]))]
    #[case::array_element(r#"{"inside": {"pid": {"nspid": [1, 58]}}}"#,
        json!([["inside.pid.nspid.1", 58, 57]]))]
    #[case::reference(r#"{"inside": {"uts": {"hostname": "${host.uts.hostname}"}}}"#,
        json!([["inside.uts.hostname", "vm", "nsconform-a"]]))]
    #[case::interpolated(r#"{"inside": {"uts": {"domainname": "ns-${door.errno}"}}}"#,
        json!([["inside.uts.domainname", "ns-EPERM", "ns-unshare"]]))]
    #[case::eq(r#"{"inside": {"ns": {"uts": {"$eq": "${host.ns.uts}"}}}}"#,
        json!([["inside.ns.uts", {"$eq": 4026531838u64}, 4026532001u64]]))]
    #[case::eq_whole(r#"{"inside": {"net": {"$eq": {"links": [{"name": "lo"}]}}}}"#,
        json!([["inside.net", {"$eq": {"links": [{"name": "lo"}]}}, {"links": [{"name": "lo", "up": false, "mtu": 65536}]}]]))]
    #[case::ne(r#"{"host": {"ns": {"pid": {"$ne": "${inside.ns.pid}"}}}}"#,
        json!([["host.ns.pid", {"$ne": 4026531836u64}, 4026531836u64]]))]
    #[case::ne_absent(r#"{"host": {"ns": {"net": {"$ne": 1}}}}"#,
        json!([["host.ns.net", {"$ne": 1}, null]]))]
    #[case::any(r#"{"inside": {"nope": {"$any": true}}}"#,
        json!([["inside.nope", {"$any": true}, null]]))]
    #[case::absent(r#"{"inside": {"ids": {"uid": {"$absent": true}}}}"#,
        json!([["inside.ids.uid", {"$absent": true}, 0]]))]
    #[case::len(r#"{"inside": {"pid": {"nspid": {"$len": 3}}}}"#,
        json!([["inside.pid.nspid", {"$len": 3}, [1, 57]]]))]
    #[case::len_matcher(r#"{"inside": {"uts": {"hostname": {"$len": {"$gt": 64}}}}}"#,
        json!([["inside.uts.hostname", {"$len": {"$gt": 64}}, "nsconform-a"]]))]
    #[case::len_of_number(r#"{"inside": {"ids": {"uid": {"$len": 1}}}}"#,
        json!([["inside.ids.uid", {"$len": 1}, 0]]))]
    #[case::contains_array(r#"{"inside": {"net": {"links": {"$contains": {"name": "eth0"}}}}}"#,
        json!([["inside.net.links", {"$contains": {"name": "eth0"}}, [{"name": "lo", "up": false, "mtu": 65536}]]]))]
    #[case::contains_string(r#"{"inside": {"uts": {"hostname": {"$contains": "${host.uts.hostname}"}}}}"#,
        json!([["inside.uts.hostname", {"$contains": "vm"}, "nsconform-a"]]))]
    #[case::regex(r#"{"inside": {"uts": {"hostname": {"$regex": "^vm$"}}}}"#,
        json!([["inside.uts.hostname", {"$regex": "^vm$"}, "nsconform-a"]]))]
    #[case::regex_not_a_string(r#"{"inside": {"ids": {"uid": {"$regex": "0"}}}}"#,
        json!([["inside.ids.uid", {"$regex": "0"}, 0]]))]
    #[case::lt(r#"{"inside": {"pid": {"nspid": {"$len": {"$lt": "${inside.pid.nspid.0}"}}}}}"#,
        json!([["inside.pid.nspid", {"$len": {"$lt": 1}}, [1, 57]]]))]
    #[case::lte(r#"{"inside": {"pid": {"nspid": [1, {"$lte": 56}]}}}"#,
        json!([["inside.pid.nspid.1", {"$lte": 56}, 57]]))]
    #[case::gt(r#"{"inside": {"pid": {"nspid": [{"$gt": 1}, 57]}}}"#,
        json!([["inside.pid.nspid.0", {"$gt": 1}, 1]]))]
    #[case::gte_on_a_string(r#"{"inside": {"uts": {"hostname": {"$gte": 0}}}}"#,
        json!([["inside.uts.hostname", {"$gte": 0}, "nsconform-a"]]))]
    #[case::order_ref_not_a_number(r#"{"inside": {"ids": {"uid": {"$lt": "${door.errno}"}}}}"#,
        json!([["inside.ids.uid", {"$lt": "EPERM"}, 0]]))]
    #[case::kernel(r#"{"door": {"errno": {"$kernel": {">=5.12": "EINVAL", "<5.12": "EPERM"}}}}"#,
        json!([["door.errno", "EINVAL", "EPERM"]]))]
    #[case::kernel_first_wins(r#"{"door": {"errno": {"$kernel": {">=6.0": "EINVAL", ">=5.0": "EPERM"}}}}"#,
        json!([["door.errno", "EINVAL", "EPERM"]]))]
    #[case::all(r#"{"inside": {"ids": {"uid": {"$all": [{"$gt": 0}, {"$eq": 0}, {"$ne": 0}]}}}}"#,
        json!([["inside.ids.uid", {"$gt": 0}, 0], ["inside.ids.uid", {"$ne": 0}, 0]]))]
    #[case::unresolved(r#"{"host": {"uts": {"hostname": "${host.uts.hostnme}"}}}"#,
        json!([["host.uts.hostname", "${host.uts.hostnme} (unresolved)", "vm"]]))]
    #[case::unresolved_in_matcher(r#"{"inside": {"uts": {"hostname": {"$ne": "${host.uts.hostnme}"}}}}"#,
        json!([["inside.uts.hostname", {"$ne": "${host.uts.hostnme} (unresolved)"}, "nsconform-a"]]))]
    #[case::unresolved_in_text(r#"{"inside": {"uts": {"hostname": "nsconform-${child.x}"}}}"#,
        json!([["inside.uts.hostname", "nsconform-${child.x} (unresolved)", "nsconform-a"]]))]
    #[case::unresolved_index(r#"{"inside": {"ids": {"uid": {"$lte": "${inside.pid.nspid.9}"}}}}"#,
        json!([["inside.ids.uid", {"$lte": "${inside.pid.nspid.9} (unresolved)"}, 0]]))]
    #[case::expected_error(r#"{"door": {"syscall": "unshare", "errno": "EINVAL"}}"#,
        json!([["door.errno", "EINVAL", "EPERM"]]))]
    fn fails(#[case] fixture: &str, #[case] want: Value) {
        assert_eq!(diffs(fixture), want);
    }

    #[rstest]
    #[case("5.11.3", json!([]))]
    #[case("5.12.0-rc1", json!([["door.errno", "EINVAL", "EPERM"]]))]
    #[case("4.14.1", json!([]))]
    #[case("3.10.0-1160.el7", json!([["door.errno", "ENOSYS", "EPERM"]]))]
    #[case("garbage", json!([["door.errno", "$kernel, but the kernel release `garbage` has no version", "EPERM"]]))]
    fn kernel_ranges(#[case] release: &str, #[case] want: Value) {
        let f = r#"{"door": {"errno": {"$kernel": {
            ">=5.12": "EINVAL", ">=4.15 <5.12": "EPERM", "<4.0": "ENOSYS"}}}}"#;
        assert_eq!(diffs_on(f, release), want);
    }

    #[test]
    fn differences_display() {
        let d = compare(
            &parse_fixture(Path::new("f"), r#"{"host": {"uts": {"hostname": "x"}}}"#).unwrap(),
            &observed(),
            &Context::new("6.1"),
        );
        assert_eq!(
            d[0].to_string(),
            r#"host.uts.hostname: expected "x", observed "vm""#
        );
    }

    #[rstest]
    #[case(json!(1), json!(2), Some(Ordering::Less))]
    #[case(json!(-1), json!(18446744073709551615u64), Some(Ordering::Less))]
    #[case(json!(1.5), json!(1), Some(Ordering::Greater))]
    #[case(json!(2), json!(2.0), Some(Ordering::Equal))]
    fn orders_numbers(#[case] a: Value, #[case] b: Value, #[case] want: Option<Ordering>) {
        let (Value::Number(a), Value::Number(b)) = (a, b) else {
            unreachable!()
        };
        assert_eq!(compare_numbers(&a, &b), want);
    }
}
