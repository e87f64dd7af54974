//! Every case's fixture can fail: change one value it expects, and the
//! case's trial must fail with a difference at that path. A fixture that
//! cannot fail checks nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nsconform::run::{self, Config, Trial};
use nsconform::suite::Entry;
use nsconform::verdict::Verdict;
use serde_json::Value;

fn source_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// The dotted paths of the values a fixture expects that can be turned
/// into their opposite, in document order: plain values, references and
/// `$ne`/`$eq` matchers.
fn literal_paths(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) if map.keys().any(|k| OPPOSITE.iter().any(|(a, _)| a == k)) => {
            out.push(at.to_string())
        }
        Value::Object(map) if map.contains_key("$all") => {
            literal_paths(&map["$all"], &format!("{at}.$all"), out)
        }
        Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => {}
        Value::Object(map) => {
            for (k, child) in map {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                literal_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                literal_paths(child, &format!("{at}.{i}"), out);
            }
        }
        Value::String(s) if s.contains("${") && !(s.starts_with("${") && s.ends_with('}')) => {}
        _ => out.push(at.to_string()),
    }
}

/// Matchers and the matchers that say the opposite.
const OPPOSITE: [(&str, &str); 6] = [
    ("$ne", "$eq"),
    ("$eq", "$ne"),
    ("$gte", "$lt"),
    ("$lte", "$gt"),
    ("$gt", "$lte"),
    ("$lt", "$gte"),
];

/// The same document with the value at `path` made wrong.
fn mutate(doc: &Value, path: &str) -> Value {
    let mut doc = doc.clone();
    let mut here = &mut doc;
    for part in path.split('.') {
        here = match here {
            Value::Array(items) => &mut items[part.parse::<usize>().expect("an index")],
            other => &mut other[part],
        };
    }
    let wrong = match &*here {
        Value::String(s) if s.starts_with("${") => serde_json::json!({ "$ne": s }),
        Value::Object(m) => {
            let (key, arg) = m.iter().next().expect("a matcher");
            let opposite = OPPOSITE
                .iter()
                .find(|(a, _)| a == key)
                .map_or(key.as_str(), |(_, b)| b);
            serde_json::json!({ opposite: arg })
        }
        Value::Null => serde_json::json!({ "$ne": null }),
        Value::Bool(b) => Value::Bool(!*b),
        Value::Number(n) => Value::from(n.as_f64().unwrap_or(0.0) as i64 + 1000),
        Value::String(s) => Value::String(format!("{s}-not-this")),
        other => other.clone(),
    };
    *here = wrong;
    doc
}

/// The first door through which the case runs here.
fn runnable_door(entry: &Entry, config: &Config) -> Option<nsconform::plan::Door> {
    let env = &config.environment;
    entry
        .case
        .doors()
        .into_iter()
        .find(|d| run::unmet(&Trial::of(entry, *d, env), env).is_none())
}

/// Whether changing some expected value of `entry`'s fixture fails its trial.
fn can_fail(entry: &Entry, config: &Config) -> Result<(), String> {
    let Some(door) = runnable_door(entry, config) else {
        return Ok(());
    };
    let path = source_dir("fixtures")
        .join(entry.ty.name())
        .join(format!("{}.json", entry.name));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut paths = Vec::new();
    literal_paths(&doc, "", &mut paths);
    for p in paths.iter().take(6) {
        let text = serde_json::to_string_pretty(&mutate(&doc, p)).unwrap();
        let fixture = nsconform::fixture::parse_fixture(&path, &text).map_err(|e| e.to_string())?;
        let changed = Entry {
            fixture: Arc::new(fixture),
            ..entry.clone()
        };
        let record = run::execute(&Trial::of(&changed, door, &config.environment), config);
        if record.verdict == Verdict::Fail
            && record.diff.iter().any(|d| d.path.starts_with(p.as_str()))
        {
            return Ok(());
        }
    }
    Err(format!(
        "no change among {:?} made {}::{}::{door} fail",
        &paths[..paths.len().min(6)],
        entry.ty,
        entry.name
    ))
}

#[test]
fn every_fixture_can_fail() {
    let suite =
        nsconform::suite::load(&source_dir("cases"), &source_dir("fixtures")).expect("the suite");
    let config = Config {
        probe: PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe")),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 1,
        full_views: false,
        environment: nsconform::env::probe("host"),
    };
    let failures: Vec<String> = suite
        .entries
        .iter()
        .filter_map(|e| can_fail(e, &config).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} fixtures cannot fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
