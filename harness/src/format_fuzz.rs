//! Property tests: garbled case and fixture text never panics the parsers,
//! the locator or the matcher, and every refusal carries a position.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use crate::case::parse_case;
use crate::fixture::parse_fixture;
use crate::format_error::{locate, FormatError, JsonPath};
use crate::matcher::{compare, Context};

const CASE: &str = r#"{
  "about": "A hostname set inside a new UTS namespace is seen inside, and not outside.",
  "namespaces": { "uts": {}, "mnt": {}, "user": {"uid_map": [[0, "caller", 1]]} },
  "steps": [ { "sethostname": "nsconform-a" }, { "mkdir": "/tmp/a" },
             { "mount": {"fstype": "bind", "source": "/tmp/a", "target": "/tmp/a"} } ],
  "child_steps": [],
  "observe": ["inside", "host"],
  "requires": { "privilege": "userns", "kernel": "5.6", "features": ["ns.time"] },
  "doors": ["unshare", "clone3"],
  "tags": { "man": ["uts_namespaces(7)"], "ltp": ["utsname01"] }
}"#;

const FIXTURE: &str = r#"{
  "inside": { "uts": { "hostname": "nsconform-a", "x": {"$len": {"$gte": 1}} },
              "ns":  { "uts": { "$ne": "${host.ns.uts}" } },
              "pid": { "nspid": [1, {"$gt": "${inside.pid.nspid.0}"}] },
              "net": { "links": {"$contains": {"name": "lo"}} } },
  "host":   { "uts": { "hostname": "a-${before.host.uts.hostname}",
                       "d": {"$all": [{"$regex": "^a"}, {"$any": true}, {"$absent": true}]} } },
  "door":   { "errno": { "$kernel": { ">=5.12": "EPERM", ">=4.15 <5.12": {"$eq": null} } } }
}"#;

/// Characters that make JSON interesting to break.
const ALPHABET: &[char] = &[
    '{', '}', '[', ']', '"', ':', ',', '$', '.', '\\', '\n', ' ', '0', '9', '-', 'e', 'a', '/',
    'é', '\u{0}',
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(Index),
    Insert(Index, char),
    Replace(Index, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop::sample::select(ALPHABET);
    prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), ch.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<Index>(), ch).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        if chars.is_empty() {
            break;
        }
        match e {
            Edit::Delete(i) => {
                chars.remove(i.index(chars.len()));
            }
            Edit::Insert(i, c) => chars.insert(i.index(chars.len()), *c),
            Edit::Replace(i, c) => {
                let at = i.index(chars.len());
                chars[at] = *c;
            }
        }
    }
    chars.into_iter().collect()
}

fn json() -> impl Strategy<Value = Value> {
    let strings = prop::sample::select(vec![
        "EPERM",
        "${host.ns.uts}",
        "${inside.a.0}",
        "x${inside.a}y",
        "${bad",
        ">=5.12",
        "(",
        "^a.*$",
        "all",
        "inside",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        strings.prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    let keys = prop::sample::select(vec![
        "$eq",
        "$ne",
        "$any",
        "$absent",
        "$len",
        "$contains",
        "$regex",
        "$lt",
        "$lte",
        "$gt",
        "$gte",
        "$kernel",
        "$all",
        "$x",
        "a",
        "0",
        "uts",
        ">=5.12",
        "<4 >=3.1",
        "errno",
    ]);
    leaf.prop_recursive(4, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..4).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn observed() -> impl Strategy<Value = Value> {
    (json(), json(), json(), json()).prop_map(|(door, inside, host, before)| {
        serde_json::json!({"door": door, "inside": inside, "host": host, "before": {"host": before}})
    })
}

fn positioned(e: &FormatError) {
    assert!(e.line >= 1, "{e}");
    let _ = e.to_string();
}

proptest! {
    #[test]
    fn random_text_never_panics(text in ".{0,200}") {
        if let Err(e) = parse_case(Path::new("c.json"), &text) { positioned(&e); }
        if let Err(e) = parse_fixture(Path::new("f.json"), &text) { positioned(&e); }
    }

    #[test]
    fn mutated_case_never_panics(edits in prop::collection::vec(edit(), 1..8)) {
        let text = mutate(CASE, &edits);
        if let Err(e) = parse_case(Path::new("c.json"), &text) { positioned(&e); }
    }

    #[test]
    fn mutated_fixture_never_panics(edits in prop::collection::vec(edit(), 1..8), obs in observed()) {
        let text = mutate(FIXTURE, &edits);
        match parse_fixture(Path::new("f.json"), &text) {
            Ok(f) => { compare(&f, &obs, &Context::new("5.13.0")); }
            Err(e) => positioned(&e),
        }
    }

    #[test]
    fn random_fixtures_compare_without_panic(inside in json(), obs in observed(), release in ".{0,10}") {
        let text = serde_json::json!({"inside": inside, "door": inside}).to_string();
        match parse_fixture(Path::new("f.json"), &text) {
            Ok(f) => { compare(&f, &obs, &Context::new(&release)); }
            Err(e) => positioned(&e),
        }
    }

    #[test]
    fn locate_never_panics(edits in prop::collection::vec(edit(), 0..8), keys in prop::collection::vec("[a-z0-9]{1,3}", 0..5)) {
        let text = mutate(CASE, &edits);
        let mut path = JsonPath::root();
        for k in &keys {
            path = match k.parse::<usize>() {
                Ok(n) => path.index(n),
                Err(_) => path.key(k),
            };
        }
        let (line, column) = locate(&text, &path);
        prop_assert!(line >= 1 && column >= 1);
    }
}

#[test]
fn the_seeds_are_valid() {
    parse_case(Path::new("c.json"), CASE).unwrap();
    parse_fixture(Path::new("f.json"), FIXTURE).unwrap();
}
