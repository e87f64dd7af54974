//! What a fixture judges: the paths it names, the observed values it reads
//! through its `${...}` references, and so what each process of a trial has to
//! observe for it and the part of the observed document a report keeps.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::fixture::{Expect, Fixture, Matcher, Operand, Part, RefPath, Template, Term};
use crate::plan::Process;
use crate::view::Selection;

/// The paths a fixture judges: down through objects, to the first value
/// that is not an object (a literal, a list, a matcher).
pub fn paths(fixture: &Fixture) -> Vec<Vec<String>> {
    fn walk(e: &Expect, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match e {
            Expect::Object(fields) => {
                for (k, v) in fields {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut out = Vec::new();
    for (section, e) in fixture.sections() {
        walk(e, &mut vec![section.to_string()], &mut out);
    }
    out
}

/// The references of a fixture, wherever they are.
pub fn references(fixture: &Fixture) -> Vec<&RefPath> {
    let mut out = Vec::new();
    for (_, e) in fixture.sections() {
        expect_refs(e, &mut out);
    }
    out
}

fn expect_refs<'a>(e: &'a Expect, out: &mut Vec<&'a RefPath>) {
    match e {
        Expect::Scalar(_) => {}
        Expect::Str(t) => template_refs(t, out),
        Expect::Array(items) => items.iter().for_each(|i| expect_refs(i, out)),
        Expect::Object(fields) => fields.iter().for_each(|(_, v)| expect_refs(v, out)),
        Expect::Matcher(m) => match m.as_ref() {
            Matcher::Eq(t) | Matcher::Ne(t) => term_refs(t, out),
            Matcher::Len(e) | Matcher::Contains(e) => expect_refs(e, out),
            Matcher::Lt(o) | Matcher::Lte(o) | Matcher::Gt(o) | Matcher::Gte(o) => {
                if let Operand::Ref(r) = o {
                    out.push(r);
                }
            }
            Matcher::Kernel(arms) => arms.iter().for_each(|(_, e)| expect_refs(e, out)),
            Matcher::All(parts) => parts.iter().for_each(|e| expect_refs(e, out)),
            Matcher::Any | Matcher::Absent | Matcher::Regex(_) => {}
        },
    }
}

fn term_refs<'a>(t: &'a Term, out: &mut Vec<&'a RefPath>) {
    match t {
        Term::Scalar(_) => {}
        Term::Str(t) => template_refs(t, out),
        Term::Array(items) => items.iter().for_each(|i| term_refs(i, out)),
        Term::Object(fields) => fields.iter().for_each(|(_, v)| term_refs(v, out)),
    }
}

fn template_refs<'a>(t: &'a Template, out: &mut Vec<&'a RefPath>) {
    match t {
        Template::Plain(_) => {}
        Template::Ref(r) => out.push(r),
        Template::Interp { parts, .. } => out.extend(parts.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Text(_) => None,
        })),
    }
}

/// Where a reference points inside a view: the segments after the process
/// (`host` for `before.host.…`); `None` for the door's result.
fn in_view(r: &RefPath) -> Option<&[String]> {
    match r.segments[0].as_str() {
        "door" => None,
        "before" => Some(r.segments.get(2..).unwrap_or(&[])),
        _ => Some(&r.segments[1..]),
    }
}

/// The process a fixture's section or a reference's first segment names
/// (`before` is the host's view before the door).
fn process_of(name: &str) -> Option<Process> {
    match name {
        "before" => Some(Process::Host),
        name => Process::from_name(name),
    }
}

/// What each of `viewed` has to observe for `fixture`, its references
/// included: the sections it reads, and of a section with parts (`ns`,
/// `net`, `ipc`) only the parts it names where it does not read the section
/// whole. A process that reads its whole view
/// (a section of it that is not an object, or a reference to the whole
/// view) is left out, and so observes everything.
pub fn sections(
    fixture: &Fixture,
    viewed: impl IntoIterator<Item = Process>,
) -> BTreeMap<Process, Selection> {
    let mut out: BTreeMap<Process, Option<Selection>> = (viewed.into_iter())
        .map(|p| (p, Some(Selection::default())))
        .collect();
    let mut read = |who: Option<Process>, path: &[String]| {
        let Some(slot) = who.and_then(|who| out.get_mut(&who)) else {
            return;
        };
        let Some(selection) = slot else { return };
        match path {
            [] => *slot = None,
            [section, part, ..] => selection.add_part(section, part),
            [section] => selection.add_named(section),
        }
    };
    for path in paths(fixture) {
        read(process_of(&path[0]), &path[1..]);
    }
    for r in references(fixture) {
        if let Some(path) = in_view(r) {
            read(process_of(&r.segments[0]), path);
        }
    }
    out.into_iter()
        .filter_map(|(who, s)| s.map(|s| (who, s)))
        .collect()
}

/// The part of `observed` that `fixture` judged: the door's result, every
/// value at a path it names and every value it references. What a report
/// keeps of a trial that passed.
pub fn kept(fixture: &Fixture, observed: &Value) -> Value {
    let mut out = Value::Object(Map::new());
    copy_at(observed, &mut out, &["door".to_string()]);
    for path in paths(fixture) {
        copy_at(observed, &mut out, &path);
    }
    for r in references(fixture) {
        copy_at(observed, &mut out, &r.segments);
    }
    out
}

/// Copy the value of `from` at `path` (object keys, array indices) into
/// `to` at the same path, making the objects on the way; an array on the
/// way is copied whole. Nothing when `from` has no value there.
fn copy_at(from: &Value, to: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        *to = from.clone();
        return;
    };
    let (Value::Object(src), Value::Object(dst)) = (from, &mut *to) else {
        *to = from.clone();
        return;
    };
    let Some(next) = src.get(first) else { return };
    let slot = dst
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if rest.is_empty() || !next.is_object() {
        *slot = next.clone();
    } else if slot.is_object() {
        copy_at(next, slot, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(text: &str) -> Fixture {
        crate::fixture::parse_fixture(std::path::Path::new("f.json"), text).expect("fixture")
    }

    const VIEWED: [Process; 3] = [Process::Inside, Process::Child, Process::Host];

    fn selected(text: &str) -> Value {
        serde_json::to_value(sections(&fixture(text), VIEWED)).expect("selections")
    }

    #[test]
    fn sections_come_from_paths_and_references() {
        let got = selected(
            r#"{"inside": {"uts": {"hostname": "a"}, "steps": []},
                "host": {"pid": {"pid": {"$ne": "${before.host.time.uptime}"}}},
                "child": {"ns": {"net": {"$eq": "${inside.net.links}"}}}}"#,
        );
        assert_eq!(
            got,
            json!({"inside": ["uts", "net.links"], "child": ["ns.net"], "host": ["pid", "time"]})
        );
    }

    #[test]
    fn net_and_ipc_are_read_part_by_part_until_they_are_read_whole() {
        let got = selected(
            r#"{"inside": {"net": {"links": [], "addresses": []}, "ipc": {"shm": []}},
                "child": {"ipc": {"sysctl": {"kernel.shmmax": "${inside.ipc.sysctl.kernel.shmmax}"}},
                          "net": {"nonsense": 1}},
                "host": {"net": "${before.host.net}", "ipc": {"msg": []}}}"#,
        );
        assert_eq!(
            got,
            json!({
                "inside": ["net.addresses", "net.links", "ipc.shm", "ipc.sysctl"],
                "child": ["ipc.sysctl"],
                "host": ["net", "ipc.msg"]
            })
        );
    }

    #[test]
    fn ns_is_read_link_by_link_until_it_is_read_whole() {
        let got = selected(
            r#"{"inside": {"ns": {"uts": {"$ne": "${host.ns.uts}"}, "pid_for_children": 1}},
                "child": {"ns": {"uts": "${inside.ns.uts}"}, "uts": "${inside.ns}"},
                "host": {"ns": "${before.host.ns}"}}"#,
        );
        assert_eq!(
            got,
            json!({"inside": ["ns"], "child": ["uts", "ns.uts"], "host": ["ns"]})
        );
    }

    #[test]
    fn a_whole_view_needs_every_section() {
        let any = selected(r#"{"inside": {"$any": true}}"#);
        assert_eq!(any, json!({"child": [], "host": []}), "inside observes all");
        let whole = selected(r#"{"inside": {"uts": {"$eq": "${before.host}"}}}"#);
        assert_eq!(
            whole,
            json!({"inside": ["uts"], "child": []}),
            "host observes all"
        );
        let door = selected(r#"{"door": {"errno": "EPERM"}}"#);
        assert_eq!(door, json!({"inside": [], "child": [], "host": []}));
    }

    #[test]
    fn kept_holds_what_was_judged() {
        let f = fixture(
            r#"{"inside": {"uts": {"hostname": "a"}, "mnt": {"mounts": {"$len": 3}}},
                "host": {"uts": {"hostname": "${before.host.uts.hostname}"}}}"#,
        );
        let observed = json!({
            "door": {},
            "inside": {"uts": {"hostname": "a", "domainname": "x"},
                       "mnt": {"mounts": [1, 2, 3], "root": "/"}, "pid": {"pid": 1}},
            "host": {"uts": {"hostname": "h", "domainname": "y"}},
            "before": {"host": {"uts": {"hostname": "h"}, "pid": {"pid": 9}}}
        });
        assert_eq!(
            kept(&f, &observed),
            json!({
                "door": {},
                "inside": {"uts": {"hostname": "a"}, "mnt": {"mounts": [1, 2, 3]}},
                "host": {"uts": {"hostname": "h"}},
                "before": {"host": {"uts": {"hostname": "h"}}}
            })
        );
    }
}
