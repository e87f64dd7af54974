//! Running trials: choosing them, checking their requirements, running them
//! through a target, and judging them. One [`Run`] is used by the CLI and
//! by the `cargo test` front end alike.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::case::Privilege;
use crate::kmsg::KernelLog;
use crate::kver::KernelVersion;
use crate::matcher::Context;
use crate::plan::{Door, Plan};
use crate::report::stream::JsonStream;
use crate::report::ReportError;
use crate::skip::SkipReason;
use crate::suite::{Entry, Problem, Suite, SuiteId};
use crate::verdict::{Environment, Report, TrialRecord, Verdict};
use crate::{env, judge, target};

/// How to run trials.
#[derive(Debug, Clone)]
pub struct Config {
    pub probe: PathBuf,
    /// A program run in the probe's place for each trial (a probe that
    /// hangs, crashes or lies, in the harness's tests); `None` in a real run.
    pub stand_in: Option<PathBuf>,
    pub timeout: Duration,
    pub jobs: usize,
    pub environment: Environment,
    /// Observe every view section and keep whole views in the records,
    /// not only what the fixtures judge (`record`, `run --full-views`).
    pub full_views: bool,
}

/// Which trials to run. Files that failed to load are kept whatever the
/// filter: a broken file is an error in every run.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub types: Vec<String>,
    pub doors: Vec<String>,
    /// A substring of the trial id, or a pattern where `*` matches anything.
    pub case: Option<String>,
}

/// One thing to run: a case through a door (with its plan, built once), or
/// a file that failed to load.
#[derive(Debug, Clone)]
pub enum Trial {
    Case {
        entry: Entry,
        door: Door,
        plan: Arc<Plan>,
    },
    Broken(Problem),
}

impl Trial {
    pub fn id(&self) -> String {
        let (ty, case, door) = self.parts();
        format!("{ty}::{case}::{door}")
    }

    fn parts(&self) -> (String, String, String) {
        match self {
            Trial::Case { entry, door, .. } => {
                (entry.ty.to_string(), entry.name.clone(), door.to_string())
            }
            Trial::Broken(p) => (p.ty.clone(), p.name.clone(), "-".into()),
        }
    }

    /// The trial of `entry` through `door`, planned for `environment`: its
    /// probe observes the view sections the fixture judges.
    pub fn of(entry: &Entry, door: Door, environment: &Environment) -> Trial {
        let mut plan = entry.case.plan(door, !environment.privileged);
        plan.sections = Some(crate::judged::sections(&entry.fixture, plan.viewed()));
        if door.is_runtime() {
            crate::runtimes::fill(&mut plan, environment);
        }
        Trial::Case {
            entry: entry.clone(),
            door,
            plan: Arc::new(plan),
        }
    }
}

impl Trial {
    /// This trial with a probe that observes whole views.
    pub fn with_full_views(mut self) -> Trial {
        if let Trial::Case { plan, .. } = &mut self {
            Arc::make_mut(plan).sections = None;
        }
        self
    }
}

impl Filter {
    fn keeps(&self, trial: &Trial) -> bool {
        let Trial::Case { entry, door, .. } = trial else {
            return true;
        };
        (self.types.is_empty() || self.types.iter().any(|t| t == entry.ty.name()))
            && (self.doors.is_empty() || self.doors.iter().any(|d| d == door.name()))
            && self
                .case
                .as_ref()
                .is_none_or(|c| id_matches(c, &trial.id()))
    }
}

impl Filter {
    /// The runtime doors the filter names: they run only when named.
    pub fn runtime_doors(&self) -> Vec<Door> {
        (self.doors.iter())
            .filter_map(|d| Door::from_name(d))
            .filter(|d| d.is_runtime())
            .collect()
    }
}

/// Whether `id` matches `pattern`: a substring, or with `*`, a whole-id glob.
fn id_matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        return id.contains(pattern);
    }
    let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
    regex::Regex::new(&format!("^{}$", parts.join(".*"))).is_ok_and(|re| re.is_match(id))
}

/// Every trial of the suite that the filter keeps, planned for `environment`.
/// The runtime doors run only when the filter names them: then every case
/// whose doors are `"all"`, and those that name them.
pub fn trials(suite: &Suite, filter: &Filter, environment: &Environment) -> Vec<Trial> {
    let runtime_doors = filter.runtime_doors();
    let cases = suite.entries.iter().flat_map(|entry| {
        let mut doors: Vec<Door> = (entry.case.doors().into_iter())
            .filter(|d| !d.is_runtime() || runtime_doors.contains(d))
            .collect();
        if entry.case.doors == crate::case::Doors::All {
            doors.extend(&runtime_doors);
        }
        doors
            .into_iter()
            .map(|door| Trial::of(entry, door, environment))
    });
    let broken = suite.problems.iter().cloned().map(Trial::Broken);
    cases.chain(broken).filter(|t| filter.keeps(t)).collect()
}

/// Why a case cannot run here at all, whatever the door.
fn unmet_by_case(entry: &Entry, envm: &Environment) -> Option<SkipReason> {
    let req = &entry.case.requires;
    if req.privilege == Privilege::Root && !envm.privileged {
        return Some(SkipReason::NeedsRoot { uid: envm.uid });
    }
    if let Some(reason) = userns_refused(entry, envm) {
        return Some(reason);
    }
    let has = |f: &str| envm.features.get(f).copied().unwrap_or(false);
    if let Some(ty) =
        (entry.case.namespaces.types().into_iter()).find(|ty| !has(&format!("ns.{}", ty.name())))
    {
        return Some(SkipReason::NoNamespace { ty });
    }
    if let Some(f) = (req.features.iter())
        .filter(|f| !f.starts_with("door."))
        .find(|f| !has(f))
    {
        return Some(env::missing(f));
    }
    // After the features: where a probe found what is missing, the skip
    // names it rather than the version that brought it.
    let have = KernelVersion::from_release(&envm.kernel_release);
    if let (Some(need), Some(have)) = (&req.kernel, have) {
        if have < *need {
            return Some(SkipReason::KernelTooOld {
                need: *need,
                have: envm.kernel_release.clone(),
            });
        }
    }
    if !envm.privileged && !has("unprivileged_userns") {
        return Some(SkipReason::NoUnprivilegedUserns);
    }
    None
}

/// Why the user namespaces a case needs cannot be had here: rootless runs
/// need one for every case, and `user.max_user_namespaces = 0` stops root too.
fn userns_refused(entry: &Entry, envm: &Environment) -> Option<SkipReason> {
    let refusal = env::userns_refusal(&envm.features)?;
    let max_zero = envm.features.get(env::USERNS_RESTRICTIONS[0]).copied() == Some(true);
    let needs = !envm.privileged || (max_zero && entry.case.namespaces.user.is_some());
    needs.then_some(SkipReason::UsernsRestricted(refusal))
}

/// Why a trial cannot run here, if it cannot: known before it runs.
pub fn unmet(trial: &Trial, envm: &Environment) -> Option<SkipReason> {
    let Trial::Case { entry, door, plan } = trial else {
        return None;
    };
    unmet_by_case(entry, envm)
        .or_else(|| env::door_available(*door, &envm.features).err())
        .or_else(|| crate::runtimes::unmet(entry, *door, envm))
        .or_else(|| plan.inexpressible().map(SkipReason::Inexpressible))
}

/// Run one trial and judge it.
pub fn execute(trial: &Trial, config: &Config) -> TrialRecord {
    let mut record = TrialRecord::new(&trial.id(), &config.environment.target);
    let (entry, plan) = match trial {
        Trial::Broken(p) => {
            record.reason = Some(p.error.to_string());
            return record;
        }
        Trial::Case { entry, plan, .. } => (entry, plan),
    };
    if let Some(reason) = unmet(trial, &config.environment) {
        record.set_skip(&reason);
        return record;
    }
    let run = target::host::run(
        &config.probe,
        config.stand_in.as_deref(),
        plan,
        config.timeout,
    );
    record.duration_ms = run.duration.as_secs_f64() * 1000.0;
    record.stderr = run.stderr;
    let judgement = match run.outcome {
        Err(e) => judge::Judgement::of(Verdict::Error, e.to_string()),
        Ok(mut outcome) => {
            let ctx = Context::new(&config.environment.kernel_release);
            let observed = judge::observed(&mut outcome);
            let mut j = judge::judge(&outcome, &observed, &entry.fixture, &ctx);
            if plan.door.is_runtime() {
                crate::runtimes::excuse_added(&mut j, plan);
            }
            record.views = Some(observed);
            j
        }
    };
    record.verdict = judgement.verdict;
    record.reason = judgement.reason;
    record.skip = judgement.skip;
    record.diff = judgement.diff;
    if record.verdict.judged() {
        record.checks = entry.fixture.checks();
    }
    crate::known_issue::apply(&mut record, &entry.known_issues, &config.environment);
    if !config.full_views {
        keep_judged(&mut record, &entry.fixture);
    }
    record
}

/// Keep of a record's views only what its fixture judged, unless it failed
/// or broke: then they stay whole, to be read.
fn keep_judged(record: &mut TrialRecord, fixture: &crate::fixture::Fixture) {
    if matches!(
        record.verdict,
        Verdict::Fail | Verdict::Error | Verdict::Xfail
    ) {
        return;
    }
    if let Some(views) = &record.views {
        record.views = Some(crate::judged::kept(fixture, views));
    }
}

/// The records of the trials that finished: each one streamed to
/// report.json as it comes when a stream is open (and then kept without its
/// views, all the other report formats need), or kept whole.
struct Records {
    kept: Vec<Option<TrialRecord>>,
    json: Option<JsonStream>,
}

impl Records {
    fn new(trials: usize) -> Records {
        Records {
            kept: vec![None; trials],
            json: None,
        }
    }

    /// Take in the record of trial `i`; its views go to the stream, if any.
    fn keep(&mut self, i: usize, mut record: TrialRecord) {
        if let Some(json) = &mut self.json {
            let views = record.views.take();
            json.trial(
                i,
                TrialRecord {
                    views,
                    ..record.clone()
                },
            );
        }
        if let Some(slot) = self.kept.get_mut(i) {
            *slot = Some(record);
        }
    }
}

/// A run: its trials, scheduled on threads or by a test runner, the records
/// of those that finished, the kernel log watched meanwhile, and a stop.
pub struct Run {
    pub config: Config,
    pub trials: Vec<Trial>,
    suite: SuiteId,
    records: Mutex<Records>,
    next: AtomicUsize,
    /// The signal that stopped the run, or 0.
    stopped_by: AtomicI32,
    kernel_log: Mutex<Option<KernelLog>>,
}

impl Run {
    /// A run of the trials of `suite` that `filter` keeps.
    pub fn new(suite: &Suite, filter: &Filter, config: Config) -> Run {
        let mut trials = trials(suite, filter, &config.environment);
        if config.full_views {
            trials = trials.into_iter().map(Trial::with_full_views).collect();
        }
        Run {
            records: Mutex::new(Records::new(trials.len())),
            trials,
            config,
            suite: suite.id.clone(),
            next: AtomicUsize::new(0),
            stopped_by: AtomicI32::new(0),
            kernel_log: Mutex::new(KernelLog::open()),
        }
    }

    /// Why trial `i` cannot run here, when that is known before it runs.
    pub fn ahead(&self, i: usize) -> Option<SkipReason> {
        unmet(&self.trials[i], &self.config.environment)
    }

    /// Run and judge trial `i`, keep its record unless the run was stopped
    /// meanwhile, and return it.
    pub fn execute(&self, i: usize) -> TrialRecord {
        let record = execute(&self.trials[i], &self.config);
        if self.stopped().is_none() {
            self.records().keep(i, record.clone());
        }
        record
    }

    fn records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write report.json into `dir` as the trials finish, from now on; the
    /// records kept for [`Run::report`] then have no views.
    pub fn stream_json(&self, dir: &Path) -> Result<(), ReportError> {
        let env = &self.config.environment;
        let json = JsonStream::create(dir, env, Some(&self.suite))?;
        self.records().json = Some(json);
        Ok(())
    }

    /// End the report.json that [`Run::stream_json`] started with the tail
    /// of `report` (this run's [`Run::report`]); its path, if one was started.
    pub fn finish_json(&self, report: &Report) -> Option<Result<PathBuf, ReportError>> {
        let json = self.records().json.take()?;
        Some(json.finish(&crate::report::json::tail_of(report)))
    }

    /// Keep only the trials `keep` keeps (a shard, or the trials a guest was
    /// given).
    pub fn retain(&mut self, keep: impl Fn(&Trial) -> bool) {
        self.trials.retain(keep);
        self.records = Mutex::new(Records::new(self.trials.len()));
    }

    /// Run every trial on `config.jobs` threads until done or stopped;
    /// `progress` sees each record as it comes.
    pub fn run_all(&self, progress: &(dyn Fn(&TrialRecord) + Sync)) {
        self.run_all_marked(&|_| {}, progress);
    }

    /// [`Run::run_all`], where `start` also sees each trial as it begins (a
    /// guest marks its kernel log with it, so that what the kernel logs is
    /// tied to the trials running then).
    pub fn run_all_marked(
        &self,
        start: &(dyn Fn(&Trial) + Sync),
        progress: &(dyn Fn(&TrialRecord) + Sync),
    ) {
        std::thread::scope(|s| {
            for _ in 0..self.config.jobs.max(1) {
                s.spawn(|| {
                    while self.stopped().is_none() {
                        let i = self.next.fetch_add(1, Ordering::SeqCst);
                        if i >= self.trials.len() {
                            break;
                        }
                        start(&self.trials[i]);
                        let record = self.execute(i);
                        if self.stopped().is_none() {
                            progress(&record);
                        }
                    }
                    target::spawner::release();
                });
            }
        });
    }

    /// Stop the run because of `signal`: no trial starts from now on, and
    /// every probe running is killed (and reaped by the thread running it).
    pub fn stop(&self, signal: i32) {
        let _ = (self.stopped_by).compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        target::host::stop_all();
    }

    /// The signal that stopped the run, if one did.
    pub fn stopped(&self) -> Option<i32> {
        match self.stopped_by.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    /// The report of the trials that finished, in the order of the trials.
    /// The records are moved into it: a run is reported once.
    pub fn report(&self) -> Report {
        let records = std::mem::take(&mut self.records().kept);
        let mut report = Report::new(
            self.config.environment.clone(),
            records.into_iter().flatten().collect(),
        );
        report.suite = Some(self.suite.clone());
        report.interrupted = self.stopped().map(signal_name);
        if let Ok(mut log) = self.kernel_log.lock() {
            report.kernel_log = log.as_mut().map(KernelLog::alarms).unwrap_or_default();
        }
        report
    }
}

/// A signal's name (`SIGINT`), or its number.
fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| signal.to_string())
}
