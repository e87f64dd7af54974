//! Every combination of namespace types through every door: the probe must
//! answer without breaking, and `inside` must be in a new namespace of
//! exactly the types asked for, sharing every other one with the host.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use nsconform::kind::NsType;
use nsconform::plan::{Door, Namespaces, Plan, Process};

fn namespaces(mask: usize) -> Namespaces {
    let mut ns = serde_json::Map::new();
    for (i, ty) in NsType::all().enumerate() {
        if mask & (1 << i) != 0 {
            ns.insert(ty.name().into(), serde_json::json!({}));
        }
    }
    serde_json::from_value(serde_json::Value::Object(ns)).expect("namespaces")
}

/// What is wrong with the outcome of `plan`, if anything.
fn check(probe: &Path, plan: &Plan) -> Option<String> {
    let run = nsconform::target::host::run(probe, None, plan, Duration::from_secs(20));
    let outcome = match run.outcome {
        Ok(o) => o,
        Err(e) => return Some(format!("{e}\n{}", run.stderr)),
    };
    if let Some(skip) = &outcome.skip {
        return plan
            .inexpressible()
            .is_none()
            .then(|| format!("unexpected skip: {skip}"));
    }
    if !outcome.errors.is_empty() || outcome.door.errno.is_some() || !outcome.guard.is_empty() {
        return Some(format!(
            "{:?} {:?} {:?}",
            outcome.errors, outcome.door, outcome.guard
        ));
    }
    let (inside, host) = (&outcome.views["inside"]["ns"], &outcome.views["host"]["ns"]);
    for ty in NsType::all() {
        let new = inside[ty.name()] != host[ty.name()];
        if new != plan.namespaces.has(ty) {
            return Some(format!("{ty}: inside is in a new namespace: {new}"));
        }
    }
    None
}

#[test]
fn every_combination_through_every_door() {
    let probe = Path::new(env!("CARGO_BIN_EXE_nsconform-probe"));
    let outer_userns = !nsconform::env::privileged();
    let plans: Vec<Plan> = (1..256)
        .flat_map(|mask| {
            Door::ALL.into_iter().map(move |door| Plan {
                door,
                namespaces: namespaces(mask),
                steps: Vec::new(),
                child_steps: Vec::new(),
                observe: vec![Process::Inside, Process::Host],
                sections: None,
                outer_userns,
                runtime: None,
            })
        })
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(plan) = plans.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if let Some(why) = check(probe, plan) {
                        let types: Vec<_> = plan.namespaces.types();
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{} {types:?}: {why}", plan.door));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} plans went wrong:\n{}",
        failures.len(),
        plans.len(),
        failures.join("\n")
    );
}
