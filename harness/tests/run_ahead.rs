//! What cannot run is known before it runs: `Run::ahead` (used by the
//! `cargo test` front end to ignore trials when they are listed) gives the
//! typed reason, and the record of such a trial is a skip of that class.

use std::path::PathBuf;
use std::time::Duration;

use nsconform::run::{Config, Filter, Run};
use nsconform::skip::{SkipClass, SkipReason};
use nsconform::verdict::{Environment, Verdict};

fn run_with(environment: Environment) -> Run {
    let suite = nsconform::suite::choose(None, None).expect("the built-in suite");
    run_of(&suite, environment)
}

fn run_of(suite: &nsconform::suite::Suite, environment: Environment) -> Run {
    let config = Config {
        probe: PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe")),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 1,
        full_views: false,
        environment,
    };
    Run::new(suite, &Filter::default(), config)
}

fn index(run: &Run, id: &str) -> usize {
    let found = run.trials.iter().position(|t| t.id() == id);
    found.unwrap_or_else(|| panic!("no trial {id}"))
}

#[test]
fn a_door_that_cannot_express_the_case_is_known_ahead() {
    // A case of its own: the built-in ones never offer clone(2) a time namespace.
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (sub, text) in [
        (
            "cases",
            r#"{"about": "A new time namespace through clone(2).", "namespaces": {"time": {}},
                "observe": ["inside"], "requires": {"features": ["ns.time"]}, "doors": ["clone"]}"#,
        ),
        (
            "fixtures",
            r#"{"inside": {"ns": {"time": {"$any": true}}}}"#,
        ),
    ] {
        let d = dir.path().join(sub).join("time");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("clone-time.json"), text).expect("write");
    }
    let suite = nsconform::suite::choose(
        Some(&dir.path().join("cases")),
        Some(&dir.path().join("fixtures")),
    )
    .expect("the suite of its own");
    assert!(suite.problems.is_empty(), "{:?}", suite.problems);
    let run = run_of(&suite, nsconform::env::probe("host"));
    let i = index(&run, "time::clone-time::clone");
    let reason = run.ahead(i).expect("clone(2) cannot take CLONE_NEWTIME");
    assert!(matches!(reason, SkipReason::Inexpressible(_)), "{reason:?}");
    assert_eq!(reason.class(), SkipClass::Door);
    let record = run.execute(i);
    assert_eq!(record.verdict, Verdict::Skip);
    assert_eq!(record.skip, Some(SkipClass::Door));
    assert_eq!(record.reason, Some(reason.to_string()));
}

#[test]
fn missing_privileges_and_features_are_known_ahead() {
    let mut environment = nsconform::env::probe("host");
    environment.privileged = false;
    environment.uid = 65534;
    environment
        .features
        .insert("unprivileged_userns".into(), false);
    environment.features.insert("ns.time".into(), false);
    let run = run_with(environment);
    assert!(!run.trials.is_empty());
    let mut classes = std::collections::BTreeSet::new();
    for (i, trial) in run.trials.iter().enumerate() {
        let reason = run.ahead(i);
        let class = reason.as_ref().map(SkipReason::class);
        assert!(
            matches!(
                class,
                Some(SkipClass::Privilege | SkipClass::Feature | SkipClass::Door)
            ),
            "{} would run: {reason:?}",
            trial.id()
        );
        classes.extend(class);
    }
    assert!(classes.contains(&SkipClass::Privilege) && classes.contains(&SkipClass::Feature));
}
