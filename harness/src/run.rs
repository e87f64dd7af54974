//! Running trials: choosing them, checking their requirements, running them
//! in parallel through a target, and judging them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::case::Privilege;
use crate::kver::KernelVersion;
use crate::matcher::Context;
use crate::plan::Door;
use crate::suite::{Entry, Problem, Suite};
use crate::verdict::{Environment, TrialRecord, Verdict};
use crate::{env, judge, target};

/// How to run trials.
#[derive(Debug, Clone)]
pub struct Config {
    pub probe: PathBuf,
    pub timeout: Duration,
    pub jobs: usize,
    pub environment: Environment,
}

/// Which trials to run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub types: Vec<String>,
    pub doors: Vec<String>,
    /// A substring of the trial id.
    pub case: Option<String>,
}

/// One thing to run: a case through a door, or a file that failed to load.
#[derive(Debug, Clone)]
pub enum Trial {
    Case { entry: Entry, door: Door },
    Broken(Problem),
}

impl Trial {
    pub fn id(&self) -> String {
        match self {
            Trial::Case { entry, door } => format!("{}::{}::{}", entry.ty, entry.name, door),
            Trial::Broken(p) => format!("{}::{}::-", p.ty, p.name),
        }
    }

    fn parts(&self) -> (String, String, String) {
        match self {
            Trial::Case { entry, door } => {
                (entry.ty.to_string(), entry.name.clone(), door.to_string())
            }
            Trial::Broken(p) => (p.ty.clone(), p.name.clone(), "-".into()),
        }
    }
}

impl Filter {
    fn keeps(&self, trial: &Trial) -> bool {
        let (ty, _, door) = trial.parts();
        (self.types.is_empty() || self.types.contains(&ty))
            && (self.doors.is_empty() || self.doors.contains(&door))
            && self
                .case
                .as_ref()
                .is_none_or(|c| trial.id().contains(c.as_str()))
    }
}

/// Every trial of the suite that the filter keeps. The runtime doors run
/// the cases whose doors are `"all"`, when the filter names them.
pub fn trials(suite: &Suite, filter: &Filter) -> Vec<Trial> {
    let runtime_doors: Vec<Door> = filter
        .doors
        .iter()
        .filter_map(|d| Door::from_name(d))
        .filter(|d| d.is_runtime())
        .collect();
    let cases = suite.entries.iter().flat_map(|entry| {
        let mut doors = entry.case.doors();
        if entry.case.doors == crate::case::Doors::All {
            doors.extend(&runtime_doors);
        }
        doors.into_iter().map(|door| Trial::Case {
            entry: entry.clone(),
            door,
        })
    });
    let broken = suite.problems.iter().cloned().map(Trial::Broken);
    cases.chain(broken).filter(|t| filter.keeps(t)).collect()
}

/// Why a case cannot run through `door` here, if it cannot.
pub fn unmet(entry: &Entry, door: Door, envm: &Environment) -> Option<String> {
    let req = &entry.case.requires;
    if req.privilege == Privilege::Root && !envm.privileged {
        return Some(format!(
            "needs CAP_SYS_ADMIN in the initial user namespace (running as uid {})",
            envm.uid
        ));
    }
    if let (Some(min), Some(have)) = (
        &req.kernel,
        KernelVersion::from_release(&envm.kernel_release),
    ) {
        if have < *min {
            return Some(format!(
                "needs Linux {min} or later; this is {}",
                envm.kernel_release
            ));
        }
    }
    let has = |f: &str| envm.features.get(f).copied().unwrap_or(false);
    for ty in entry.case.namespaces.types() {
        if !has(&format!("ns.{}", ty.name())) {
            return Some(format!(
                "the kernel has no {ty} namespaces ({} is off)",
                ty.kind().kconfig
            ));
        }
    }
    let (door_features, kernel_features): (Vec<&String>, Vec<&String>) =
        req.features.iter().partition(|f| f.starts_with("door."));
    if let Some(f) = kernel_features.iter().find(|f| !has(f)) {
        return Some(format!("the kernel lacks the feature {f}"));
    }
    if let Some(reason) = door_features
        .iter()
        .find_map(|f| crate::runtimes::lacks(door, f))
    {
        return Some(reason);
    }
    if !envm.privileged && !has("unprivileged_userns") {
        return Some(
            "running unprivileged, and ordinary users may not create user namespaces here".into(),
        );
    }
    if let Err(reason) = env::door_available(door, &envm.features) {
        return Some(reason);
    }
    if let Some(reason) = door
        .is_runtime()
        .then(|| crate::runtimes::unavailable(door, envm))
        .flatten()
    {
        return Some(reason);
    }
    plan_for(entry, door, envm).inexpressible()
}

/// The plan of a case through `door` here.
fn plan_for(entry: &Entry, door: Door, envm: &Environment) -> crate::plan::Plan {
    let mut plan = entry.case.plan(door, !envm.privileged);
    if door.is_runtime() {
        crate::runtimes::fill(&mut plan, envm);
    }
    plan
}

/// Run one trial and judge it.
pub fn execute(trial: &Trial, config: &Config) -> TrialRecord {
    let (ty, case, door) = trial.parts();
    let mut record = TrialRecord {
        id: trial.id(),
        ty,
        case,
        door,
        target: config.environment.target.clone(),
        verdict: Verdict::Error,
        reason: None,
        diff: Vec::new(),
        duration_ms: 0.0,
        views: None,
        stderr: String::new(),
    };
    let (entry, door) = match trial {
        Trial::Broken(p) => {
            record.reason = Some(p.message.clone());
            return record;
        }
        Trial::Case { entry, door } => (entry, *door),
    };
    if let Some(reason) = unmet(entry, door, &config.environment) {
        record.verdict = Verdict::Skip;
        record.reason = Some(reason);
        return record;
    }
    let plan = plan_for(entry, door, &config.environment);
    let run = target::host::run(&config.probe, &plan, config.timeout);
    record.duration_ms = run.duration.as_secs_f64() * 1000.0;
    record.stderr = run.stderr;
    let judgement = match run.outcome {
        Err(reason) => judge::Judgement::of(Verdict::Error, reason),
        Ok(outcome) => {
            let ctx = Context::new(&config.environment.kernel_release);
            let mut j = judge::judge(&outcome, &entry.fixture, &ctx);
            if door.is_runtime() {
                crate::runtimes::excuse_added(&mut j, &plan);
            }
            record.views = Some(judge::observed(&outcome));
            j
        }
    };
    record.verdict = judgement.verdict;
    record.reason = judgement.reason;
    record.diff = judgement.diff;
    if let Some(line) = not_isolated(&record.stderr) {
        record.verdict = Verdict::Fail;
        record.reason = Some(line);
    }
    record
}

/// The first complaint of the isolation guard in a probe's stderr: any
/// process of the probe that refused a change says so there.
fn not_isolated(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find(|l| l.contains("namespace not isolated"))
        .map(|l| l.trim_start_matches("nsconform-probe: ").to_string())
}

/// Run `trials` on `config.jobs` threads; `progress` sees each record as it
/// comes. Records come back in the order of `trials`.
pub fn run_all(
    trials: &[Trial],
    config: &Config,
    progress: &(dyn Fn(&TrialRecord) + Sync),
) -> Vec<TrialRecord> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TrialRecord>>> = Mutex::new(vec![None; trials.len()]);
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(trial) = trials.get(i) else { break };
                let record = execute(trial, config);
                progress(&record);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(record);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
