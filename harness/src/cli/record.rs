//! `nsconform record CASE`: run a case once and print what it observed as a
//! fixture draft. It never writes into `fixtures/`: a person trims the
//! draft to what the kernel promises, and turns volatile values (inode
//! numbers, pids, clock readings) into references or matchers.

use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value};

use super::{Selection, EXIT_FAILED, EXIT_OK};
use crate::run::Trial;

#[derive(Args)]
pub struct RecordArgs {
    /// The case, as `<type>::<name>`.
    #[arg(value_name = "CASE")]
    which: String,
    #[command(flatten)]
    sel: Selection,
}

/// Keep, of a view, the sections of the case's namespace types, `ns` and `steps`.
fn trim(view: &Value, keep: &[String]) -> Value {
    let Some(map) = view.as_object() else {
        return view.clone();
    };
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| keep.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

pub fn main(args: &RecordArgs) -> anyhow::Result<u8> {
    let (suite, _) = args.sel.load()?;
    let (ty, name) = args
        .which
        .split_once("::")
        .unwrap_or(("", args.which.as_str()));
    let entry = suite
        .entries
        .iter()
        .find(|e| e.name == name && (ty.is_empty() || e.ty.name() == ty))
        .ok_or_else(|| anyhow::anyhow!("no case {:?} (try `nsconform list`)", args.which))?;
    let door = match args.sel.doors.first() {
        Some(d) => {
            crate::plan::Door::from_name(d).ok_or_else(|| anyhow::anyhow!("unknown door {d:?}"))?
        }
        None => entry.case.doors()[0],
    };
    let config = crate::run::Config {
        probe: super::probe_path(),
        timeout: Duration::from_secs(20),
        jobs: 1,
        environment: crate::env::probe("host"),
    };
    let record = crate::run::execute(
        &Trial::Case {
            entry: entry.clone(),
            door,
        },
        &config,
    );
    let Some(views) = record.views else {
        eprintln!(
            "nsconform: {} gave {}: {}",
            record.id,
            record.verdict,
            record.reason.unwrap_or_default()
        );
        return Ok(EXIT_FAILED);
    };
    let mut keep: Vec<String> = entry
        .case
        .namespaces
        .types()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    keep.extend(["ns".to_string(), "steps".to_string()]);
    let mut draft = Map::new();
    for p in &entry.case.observe {
        if let Some(v) = views.get(p.name()) {
            draft.insert(p.name().to_string(), trim(v, &keep));
        }
    }
    println!("{}", serde_json::to_string_pretty(&Value::Object(draft))?);
    eprintln!(
        "nsconform: a draft from {} ({}); review it before saving it as a fixture",
        record.id, record.verdict
    );
    Ok(EXIT_OK)
}
