//! `nsconform record CASE`: run a case once and print what it observed as a
//! fixture draft. It never writes into `fixtures/`: a person trims the
//! draft to what the kernel promises, and turns volatile values (inode
//! numbers, pids, clock readings) into references or matchers.

use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value};

use super::{Selection, EXIT_FAILED, EXIT_OK};
use std::sync::Arc;

use crate::case::read_case;
use crate::fixture::Fixture;
use crate::kind::NsType;
use crate::plan::Door;
use crate::run::Trial;
use crate::suite::{Entry, LoadError, Suite};

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

/// The case named `which` (`<type>::<name>`, or a name): one of the suite's,
/// or a case file that has no fixture yet (judged by an empty fixture).
fn find(suite: &Suite, which: &str) -> anyhow::Result<Entry> {
    let (ty, name) = which.split_once("::").unwrap_or(("", which));
    let named = |t: &str, n: &str| n == name && (ty.is_empty() || t == ty);
    if let Some(e) = suite.entries.iter().find(|e| named(e.ty.name(), &e.name)) {
        return Ok(e.clone());
    }
    let unpaired = suite.problems.iter().find_map(|p| match &p.error {
        LoadError::NoFixture { case, .. } if named(&p.ty, &p.name) => Some((p, case)),
        _ => None,
    });
    let Some((problem, path)) = unpaired else {
        anyhow::bail!(
            "no case {which:?} (try `nsconform list`; for a case of your own tree, add --cases DIR)"
        );
    };
    let ty = NsType::from_name(&problem.ty)
        .ok_or_else(|| anyhow::anyhow!("{}: unknown namespace type", path.display()))?;
    Ok(Entry {
        ty,
        name: problem.name.clone(),
        case: Arc::new(read_case(path)?),
        fixture: Arc::new(Fixture::default()),
        known_issues: Arc::new([]),
    })
}

pub fn main(args: &RecordArgs) -> anyhow::Result<u8> {
    let (suite, filter) = args.sel.load()?;
    let entry = find(&suite, &args.which)?;
    let door = match args.sel.doors.first() {
        Some(d) => Door::from_name(d).ok_or_else(|| anyhow::anyhow!("unknown door {d:?}"))?,
        None => entry.case.doors()[0],
    };
    // The door recorded, named or the case's first, decides whether the
    // runtimes are asked.
    let filter = crate::run::Filter {
        doors: vec![door.name().to_string()],
        ..filter
    };
    let config = crate::run::Config {
        probe: super::probe_path(),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 1,
        full_views: true,
        environment: super::host_environment(&args.sel, &filter, &[])?,
    };
    let trial = Trial::of(&entry, door, &config.environment).with_full_views();
    let record = crate::run::execute(&trial, &config);
    // The one trial is done: its spawner is killed and reaped now, not
    // left to die with this process.
    crate::target::spawner::release();
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
    super::out::print(&serde_json::to_string_pretty(&Value::Object(draft))?)?;
    eprintln!(
        "nsconform: a draft from {} ({}); review it before saving it as a fixture",
        record.id, record.verdict
    );
    Ok(EXIT_OK)
}
