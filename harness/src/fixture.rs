//! Fixtures: the expected views and outcomes of a case, a JSON file
//! `fixtures/<type>/<name>.json`. Partial: only what a fixture names is
//! compared. Values are literals, references (`${host.ns.uts}`) or matchers
//! (`{"$ne": ...}`), checked when the file is read so that a mistake is
//! reported with its line and column.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Number, Value};

use crate::format_error::{line_column, FormatError};
use crate::kver::VersionRange;

/// The expectations of one case, by section of the observed document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// The door's syscall: `{"syscall": "unshare", "errno": "EPERM"}` when it failed.
    #[serde(default, deserialize_with = "some")]
    pub door: Option<Expect>,
    #[serde(default, deserialize_with = "some")]
    pub inside: Option<Expect>,
    #[serde(default, deserialize_with = "some")]
    pub child: Option<Expect>,
    #[serde(default, deserialize_with = "some")]
    pub unsharer: Option<Expect>,
    #[serde(default, deserialize_with = "some")]
    pub host: Option<Expect>,
    /// The holder whose namespaces a runtime door's container joins by path.
    #[serde(default, deserialize_with = "some")]
    pub holder: Option<Expect>,
}

fn some<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Expect>, D::Error> {
    Expect::deserialize(d).map(Some)
}

impl Fixture {
    /// The sections named, in a fixed order.
    pub fn sections(&self) -> impl Iterator<Item = (&'static str, &Expect)> {
        [
            ("door", &self.door),
            ("inside", &self.inside),
            ("child", &self.child),
            ("unsharer", &self.unsharer),
            ("host", &self.host),
            ("holder", &self.holder),
        ]
        .into_iter()
        .filter_map(|(name, e)| e.as_ref().map(|e| (name, e)))
    }

    /// The number of leaf expectations: the checks a trial judges.
    pub fn checks(&self) -> usize {
        self.sections().map(|(_, e)| e.checks()).sum()
    }
}

impl Expect {
    /// Leaves below this expectation; a matcher is one check (`$all`, the
    /// sum of its parts).
    pub fn checks(&self) -> usize {
        match self {
            Expect::Scalar(_) | Expect::Str(_) => 1,
            Expect::Array(items) => items.iter().map(Expect::checks).sum(),
            Expect::Object(fields) => fields.iter().map(|(_, e)| e.checks()).sum(),
            Expect::Matcher(m) => match m.as_ref() {
                Matcher::All(parts) => parts.iter().map(Expect::checks).sum(),
                _ => 1,
            },
        }
    }
}

/// Reads a fixture from `text` (the contents of `path`), refusing unknown
/// sections, unknown matchers and ill-typed matcher arguments with the line
/// and column.
pub fn parse_fixture(path: &Path, text: &str) -> Result<Fixture, FormatError> {
    let fixture = serde_json::from_str(text).map_err(|e| FormatError::from_json(path, &e))?;
    require_object(path, text, "a fixture")?;
    Ok(fixture)
}

/// Reads and parses the fixture file at `path`.
pub fn read_fixture(path: &Path) -> Result<Fixture, FormatError> {
    let text = std::fs::read_to_string(path).map_err(|e| FormatError::unreadable(path, &e))?;
    parse_fixture(path, &text)
}

/// Refuses a document that is not a JSON object (serde would take an
/// array for a struct, field by field).
pub(crate) fn require_object(path: &Path, text: &str, what: &str) -> Result<(), FormatError> {
    let at = text.len() - text.trim_start().len();
    if text[at..].starts_with('{') {
        return Ok(());
    }
    let (line, column) = line_column(text, at);
    Err(FormatError {
        file: path.to_path_buf(),
        line,
        column,
        message: format!("{what} is a JSON object"),
    })
}

/// What a fixture expects of one value.
#[derive(Debug, Clone)]
pub enum Expect {
    /// `null`, a boolean or a number: equal, of the same type.
    Scalar(Value),
    /// A string: literal text, a reference, or text with references in it.
    Str(Template),
    /// Element-wise, same length.
    Array(Vec<Expect>),
    /// Partial: only the keys named are compared.
    Object(Vec<(String, Expect)>),
    Matcher(Box<Matcher>),
}

/// A matcher: an object with exactly one `$` key.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Exactly equal (whole objects, not partial).
    Eq(Term),
    /// Present, and not equal.
    Ne(Term),
    /// Present, with any value.
    Any,
    Absent,
    /// The length of an array, string (in bytes) or object.
    Len(Expect),
    /// An array with an element that matches, or a string with a substring.
    Contains(Expect),
    Regex(regex::Regex),
    Lt(Operand),
    Lte(Operand),
    Gt(Operand),
    Gte(Operand),
    /// The expectation of the first range that holds the kernel under test.
    Kernel(Vec<(VersionRange, Expect)>),
    All(Vec<Expect>),
}

/// The matcher names, for messages.
pub const MATCHERS: &str =
    "$eq, $ne, $any, $absent, $len, $contains, $regex, $lt, $lte, $gt, $gte, $kernel, $all";

impl Matcher {
    /// The key that names it, such as `$ne`.
    pub fn key(&self) -> &'static str {
        match self {
            Matcher::Eq(_) => "$eq",
            Matcher::Ne(_) => "$ne",
            Matcher::Any => "$any",
            Matcher::Absent => "$absent",
            Matcher::Len(_) => "$len",
            Matcher::Contains(_) => "$contains",
            Matcher::Regex(_) => "$regex",
            Matcher::Lt(_) => "$lt",
            Matcher::Lte(_) => "$lte",
            Matcher::Gt(_) => "$gt",
            Matcher::Gte(_) => "$gte",
            Matcher::Kernel(_) => "$kernel",
            Matcher::All(_) => "$all",
        }
    }
}

/// A plain JSON value whose strings may hold references (the argument of
/// `$eq` and `$ne`).
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Scalar(Value),
    Str(Template),
    Array(Vec<Term>),
    Object(Vec<(String, Term)>),
}

/// A number, or a reference to one (the argument of `$lt` and the like).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(Number),
    Ref(RefPath),
}

/// A string of a fixture.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Plain(String),
    /// Exactly `"${a.b.c}"`: the referenced value, of any type.
    Ref(RefPath),
    /// Text with references in it, replaced by their values as text.
    Interp {
        text: String,
        parts: Vec<Part>,
    },
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Ref(RefPath),
}

/// The roots a reference may start from.
pub const ROOTS: [&str; 7] = [
    "door", "inside", "child", "unsharer", "host", "before", "holder",
];

/// A reference to an observed value: `host.ns.uts`, `inside.pid.nspid.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct RefPath {
    /// As written, without `${` and `}`.
    pub text: String,
    pub segments: Vec<String>,
}

/// Why a string of a fixture is not a valid reference or template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// `${a..b}`: a part of the path is empty.
    #[error("reference `${{{0}}}` has an empty part")]
    EmptyPart(String),
    /// The path starts with none of the processes a fixture may name.
    #[error("reference `${{{0}}}` starts with none of {roots}", roots = ROOTS.join(", "))]
    UnknownRoot(String),
    /// `${` without its `}`.
    #[error("unterminated reference in `{0}`")]
    Unterminated(String),
}

impl RefPath {
    pub fn parse(text: &str) -> Result<RefPath, RefError> {
        let segments: Vec<String> = text.split('.').map(str::to_string).collect();
        if segments.iter().any(String::is_empty) {
            return Err(RefError::EmptyPart(text.to_string()));
        }
        if !ROOTS.contains(&segments[0].as_str()) {
            return Err(RefError::UnknownRoot(text.to_string()));
        }
        Ok(RefPath {
            text: text.to_string(),
            segments,
        })
    }
}

impl fmt::Display for RefPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${{{}}}", self.text)
    }
}

impl Template {
    pub fn parse(s: &str) -> Result<Template, RefError> {
        if !s.contains("${") {
            return Ok(Template::Plain(s.to_string()));
        }
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| RefError::Unterminated(s.to_string()))?;
            parts.push(Part::Ref(RefPath::parse(&after[..end])?));
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        match parts.as_slice() {
            [Part::Ref(r)] => Ok(Template::Ref(r.clone())),
            _ => Ok(Template::Interp {
                text: s.to_string(),
                parts,
            }),
        }
    }
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ExpectVisitor)
    }
}

struct ExpectVisitor;

impl<'de> Visitor<'de> for ExpectVisitor {
    type Value = Expect;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value or a matcher")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Expect, E> {
        Ok(Expect::Scalar(Value::Null))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Expect, E> {
        Ok(Expect::Scalar(v.into()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Expect, E> {
        Ok(Expect::Scalar(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Expect, E> {
        Ok(Expect::Scalar(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Expect, E> {
        Number::from_f64(v)
            .map(|n| Expect::Scalar(Value::Number(n)))
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Expect, E> {
        Template::parse(v).map(Expect::Str).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Expect, A::Error> {
        let mut items = Vec::new();
        while let Some(e) = seq.next_element()? {
            items.push(e);
        }
        Ok(Expect::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Expect, A::Error> {
        visit_expect_map(map)
    }
}

/// An object: a matcher when its one key starts with `$`, else partial.
fn visit_expect_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Expect, A::Error> {
    let Some(first) = map.next_key::<String>()? else {
        return Ok(Expect::Object(Vec::new()));
    };
    if first.starts_with('$') {
        let matcher = matcher_value(&first, &mut map)?;
        if let Some(next) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a matcher is an object with exactly one key, but `{first}` is followed by `{next}`"
            )));
        }
        return Ok(Expect::Matcher(Box::new(matcher)));
    }
    let mut fields = vec![(first, map.next_value::<Expect>()?)];
    while let Some(key) = map.next_key::<String>()? {
        if key.starts_with('$') {
            return Err(de::Error::custom(format!(
                "matcher `{key}` among other keys: a matcher is an object with exactly one key"
            )));
        }
        if fields.iter().any(|(k, _)| *k == key) {
            return Err(de::Error::custom(format!("duplicate key `{key}`")));
        }
        let value = map.next_value::<Expect>()?;
        fields.push((key, value));
    }
    Ok(Expect::Object(fields))
}

/// Reads the argument of the matcher named `key`, with its own type.
fn matcher_value<'de, A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Matcher, A::Error> {
    Ok(match key {
        "$eq" => Matcher::Eq(map.next_value()?),
        "$ne" => Matcher::Ne(map.next_value()?),
        "$any" => {
            map.next_value::<True>()?;
            Matcher::Any
        }
        "$absent" => {
            map.next_value::<True>()?;
            Matcher::Absent
        }
        "$len" => Matcher::Len(map.next_value::<LenArg>()?.0),
        "$contains" => Matcher::Contains(map.next_value()?),
        "$regex" => Matcher::Regex(map.next_value::<RegexArg>()?.0),
        "$lt" => Matcher::Lt(map.next_value()?),
        "$lte" => Matcher::Lte(map.next_value()?),
        "$gt" => Matcher::Gt(map.next_value()?),
        "$gte" => Matcher::Gte(map.next_value()?),
        "$kernel" => Matcher::Kernel(map.next_value::<KernelArms>()?.0),
        "$all" => Matcher::All(map.next_value()?),
        _ => {
            return Err(de::Error::custom(format!(
                "unknown matcher `{key}`, expected one of {MATCHERS}"
            )))
        }
    })
}

/// The argument `true` of `$any` and `$absent`.
struct True;

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = True;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<True, E> {
                if v {
                    Ok(True)
                } else {
                    Err(E::invalid_value(de::Unexpected::Bool(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The argument of `$len`: a length, or a matcher on the length.
struct LenArg(Expect);

impl<'de> Deserialize<'de> for LenArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LenArg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a length (a whole number) or a matcher")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenArg, E> {
                Ok(LenArg(Expect::Scalar(v.into())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LenArg, A::Error> {
                match visit_expect_map(map)? {
                    m @ Expect::Matcher(_) => Ok(LenArg(m)),
                    _ => Err(de::Error::custom(
                        "$len takes a length (a whole number) or a matcher, not an object",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The argument of `$regex`, compiled.
struct RegexArg(regex::Regex);

impl<'de> Deserialize<'de> for RegexArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RegexArg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a regular expression (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RegexArg, E> {
                regex::Regex::new(v)
                    .map(RegexArg)
                    .map_err(|e| E::custom(format!("bad $regex: {e}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The argument of `$kernel`: ranges, in order, with their expectations.
struct KernelArms(Vec<(VersionRange, Expect)>);

impl<'de> Deserialize<'de> for KernelArms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KernelArms;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of kernel ranges such as \">=5.12\" to expectations")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KernelArms, A::Error> {
                let mut arms = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let range = VersionRange::parse(&key).map_err(de::Error::custom)?;
                    arms.push((range, map.next_value()?));
                }
                Ok(KernelArms(arms))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Operand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Operand;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a reference such as \"${host.pid.max}\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Operand, E> {
                Ok(Operand::Number(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Operand, E> {
                Ok(Operand::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Operand, E> {
                Number::from_f64(v)
                    .map(Operand::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Operand, E> {
                match Template::parse(v) {
                    Ok(Template::Ref(r)) => Ok(Operand::Ref(r)),
                    Err(e) => Err(E::custom(e)),
                    Ok(_) => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TermVisitor)
    }
}

struct TermVisitor;

impl<'de> Visitor<'de> for TermVisitor {
    type Value = Term;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Term, E> {
        Ok(Term::Scalar(Value::Null))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Term, E> {
        Ok(Term::Scalar(v.into()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Term, E> {
        Ok(Term::Scalar(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Term, E> {
        Ok(Term::Scalar(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Term, E> {
        Number::from_f64(v)
            .map(|n| Term::Scalar(Value::Number(n)))
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Term, E> {
        Template::parse(v).map(Term::Str).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Term, A::Error> {
        let mut items = Vec::new();
        while let Some(t) = seq.next_element()? {
            items.push(t);
        }
        Ok(Term::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Term, A::Error> {
        let mut fields: Vec<(String, Term)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let value = map.next_value()?;
            fields.push((key, value));
        }
        Ok(Term::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn parse(text: &str) -> Result<Fixture, FormatError> {
        parse_fixture(Path::new("fixtures/uts/x.json"), text)
    }

    const UTS: &str = r#"{
  "inside": { "uts": { "hostname": "nsconform-a" },
              "ns":  { "uts": { "$ne": "${host.ns.uts}" } } },
  "host":   { "uts": { "hostname": "${before.host.uts.hostname}" } },
  "door":   { "errno": { "$kernel": { ">=5.12": "EPERM", "<5.12": "EINVAL" } } }
}"#;

    #[test]
    fn parses_the_example() {
        let f = parse(UTS).unwrap();
        let names: Vec<&str> = f.sections().map(|(n, _)| n).collect();
        assert_eq!(names, ["door", "inside", "host"]);
        let Some(Expect::Object(inside)) = &f.inside else {
            panic!("{:?}", f.inside)
        };
        assert_eq!(inside[0].0, "uts");
        let Expect::Object(ns) = &inside[1].1 else {
            panic!()
        };
        let Expect::Matcher(m) = &ns[0].1 else {
            panic!()
        };
        let Matcher::Ne(Term::Str(Template::Ref(r))) = m.as_ref() else {
            panic!("{m:?}")
        };
        assert_eq!(r.segments, ["host", "ns", "uts"]);
    }

    #[rstest]
    #[case("plain", Template::Plain("plain".into()))]
    #[case("${inside.pid.nspid.0}", Template::Ref(RefPath::parse("inside.pid.nspid.0").unwrap()))]
    #[case("a-${host.uts.hostname}", Template::Interp {
        text: "a-${host.uts.hostname}".into(),
        parts: vec![Part::Text("a-".into()), Part::Ref(RefPath::parse("host.uts.hostname").unwrap())],
    })]
    #[case("${door.errno}${door.syscall}", Template::Interp {
        text: "${door.errno}${door.syscall}".into(),
        parts: vec![
            Part::Ref(RefPath::parse("door.errno").unwrap()),
            Part::Ref(RefPath::parse("door.syscall").unwrap()),
        ],
    })]
    #[case("$ alone, { and } too", Template::Plain("$ alone, { and } too".into()))]
    fn parses_templates(#[case] text: &str, #[case] want: Template) {
        assert_eq!(Template::parse(text), Ok(want));
    }

    #[rstest]
    #[case("${host.uts")]
    #[case("x ${}")]
    #[case("${outside.uts}")]
    #[case("${host..uts}")]
    fn refuses_templates(#[case] text: &str) {
        assert!(Template::parse(text).is_err());
    }

    #[rstest]
    #[case::invalid_json("{\n  \"inside\": {\"uts\": }\n}", 2, 21, "expected value")]
    #[case::unknown_section(
        "{\n  \"inside\": {},\n  \"outside\": {}\n}",
        3,
        11,
        "unknown field `outside`, expected one of `door`, `inside`, `child`, `unsharer`, `host`"
    )]
    #[case::before_is_not_a_section("{\"before\": {}}", 1, 9, "unknown field `before`")]
    #[case::unknown_matcher(
        "{\"inside\": {\n  \"uts\": {\"$neq\": 1}}}",
        2,
        16,
        "unknown matcher `$neq`, expected one of $eq"
    )]
    #[case::two_matchers(
        "{\"inside\": {\n  \"a\": {\"$gt\": 1, \"$lt\": 3}}}",
        2,
        23,
        "a matcher is an object with exactly one key, but `$gt` is followed by `$lt`"
    )]
    #[case::matcher_among_keys(
        "{\"inside\": {\n  \"a\": {\"b\": 1, \"$lt\": 3}}}",
        2,
        21,
        "matcher `$lt` among other keys"
    )]
    #[case::len_string(
        "{\"inside\": {\n  \"a\": {\"$len\": \"x\"}}}",
        2,
        19,
        "invalid type: string \"x\", expected a length (a whole number) or a matcher"
    )]
    #[case::len_negative(
        "{\"inside\": {\"a\": {\"$len\": -1}}}",
        1,
        28,
        "invalid type: integer `-1`, expected a length"
    )]
    #[case::len_object(
        "{\"inside\": {\"a\": {\"$len\": {\"b\": 1}}}}",
        1,
        34,
        "$len takes a length (a whole number) or a matcher, not an object"
    )]
    #[case::lt_text(
        "{\"inside\": {\n  \"a\": {\"$lt\": \"abc\"}}}",
        2,
        20,
        "invalid type: string \"abc\", expected a number or a reference"
    )]
    #[case::lt_interp(
        "{\"inside\": {\"a\": {\"$gte\": \"x${host.a}\"}}}",
        1,
        38,
        "invalid type: string \"x${host.a}\", expected a number"
    )]
    #[case::lt_bool(
        "{\"inside\": {\"a\": {\"$lte\": true}}}",
        1,
        30,
        "invalid type: boolean `true`, expected a number"
    )]
    #[case::any_false(
        "{\"inside\": {\"a\": {\"$any\": false}}}",
        1,
        31,
        "invalid value: boolean `false`, expected true"
    )]
    #[case::absent_one(
        "{\"inside\": {\"a\": {\"$absent\": 1}}}",
        1,
        30,
        "invalid type: integer `1`, expected true"
    )]
    #[case::bad_regex("{\"inside\": {\"a\": {\"$regex\": \"(\"}}}", 1, 31, "bad $regex")]
    #[case::regex_number(
        "{\"inside\": {\"a\": {\"$regex\": 3}}}",
        1,
        29,
        "invalid type: integer `3`, expected a regular expression"
    )]
    #[case::bad_range(
        "{\"door\": {\"errno\": {\"$kernel\": {\n  \"5.12\": \"EPERM\"}}}}",
        2,
        8,
        "`5.12` in kernel range `5.12` needs an operator"
    )]
    #[case::kernel_list(
        "{\"door\": {\"errno\": {\"$kernel\": [1]}}}",
        1,
        32,
        "invalid type: sequence, expected an object of kernel ranges"
    )]
    #[case::all_object(
        "{\"door\": {\"$all\": {}}}",
        1,
        18,
        "invalid type: map, expected a sequence"
    )]
    #[case::bad_ref(
        "{\"host\": {\"a\":\n \"${hots.uts}\"}}",
        2,
        14,
        "reference `${hots.uts}` starts with none of door, inside"
    )]
    #[case::unterminated(
        "{\"host\": {\"a\": {\"$eq\": \"${host.uts\"}}}",
        1,
        35,
        "unterminated reference"
    )]
    #[case::duplicate_key("{\"host\": {\"a\": 1,\n \"a\": 2}}", 2, 4, "duplicate key `a`")]
    #[case::duplicate_section("{\"host\": {},\n \"host\": {}}", 2, 7, "duplicate field `host`")]
    #[case::not_an_object("  [{}]", 1, 3, "a fixture is a JSON object")]
    #[case::empty("", 1, 0, "EOF while parsing a value")]
    fn refuses(#[case] text: &str, #[case] line: usize, #[case] column: usize, #[case] msg: &str) {
        let err = parse(text).unwrap_err();
        assert!(err.message.starts_with(msg), "{err}");
        assert_eq!((err.line, err.column), (line, column), "{err}");
        assert!(err.to_string().starts_with("fixtures/uts/x.json:"), "{err}");
    }

    #[rstest]
    #[case(r#"{"$eq": {"$weird": 1}}"#)]
    #[case(r#"{"$len": {"$gt": 2}}"#)]
    #[case(r#"{"$contains": {"name": "lo"}}"#)]
    #[case(r#"{"$all": [{"$any": true}, {"$ne": null}]}"#)]
    #[case(r#"{"$kernel": {}}"#)]
    #[case(r#"{"$lt": "${host.pid.max}"}"#)]
    #[case(r#"{"$gte": -1.5}"#)]
    #[case(r#"{}"#)]
    fn accepts(#[case] expect: &str) {
        parse(&format!("{{\"inside\": {{\"a\": {expect}}}}}")).unwrap();
    }

    #[test]
    fn null_section_is_an_expectation() {
        let f = parse(r#"{"child": null}"#).unwrap();
        assert!(matches!(f.child, Some(Expect::Scalar(Value::Null))));
    }
}
