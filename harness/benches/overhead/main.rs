//! What the harness costs on top of the kernel. In one run:
//!
//! - for each door, and for a cheap type (uts, once with the three
//!   processes of most trials and once, `uts 2p`, with two: a case whose
//!   fixture judges no `child`), a costly one (net) and all types at once:
//!   one trial through the harness (`run::execute`) against
//!   a raw baseline in the same run (the door's syscalls with the same
//!   flags, an exec of the static probe, a wait), and their ratio; and
//!   against the probe alone on the trial's plan (the same kernel work as
//!   the trial: its steps, the views its fixture judges, its other
//!   processes), which splits the ratio into what the trial's own work
//!   costs beyond the raw baseline and what the harness adds to it; and
//!   against the probe alone on the plan emptied of its steps and views
//!   (`shape`: the trial's processes, doing nothing), which splits the
//!   trial's own work into its processes and what is done in them; and for
//!   each of the four, the page faults of a round (on this kind of machine
//!   a process costs mostly its page faults, so they say why a ratio is
//!   what it is; the harness's are a mean over a second pass of rounds,
//!   the start of the spawner that forks the trials' probes included, as
//!   its children count only once it is reaped);
//! - the whole suite through `nsconform run` with `--jobs 1` and with one
//!   job per core: wall time, peak RSS, trials per second, and the cost per
//!   trial over the first and the last tenth of the run;
//! - the same for a suite of ten times as many trials (copies of every case).
//!
//! It prints a table and writes the same figures as JSON. It measures and
//! asserts nothing about time. `cargo bench --bench overhead`; settings:
//! `NSCONFORM_BENCH_N` (rounds per trial, 40), `NSCONFORM_BENCH_SCALE`
//! (copies in the large suite, 10; 0 leaves it out), `NSCONFORM_BENCH_SUITES`
//! (0 leaves out the whole-suite runs), `NSCONFORM_BENCH_JSON`
//! (where the JSON goes), `NSCONFORM_BENCH_BIN` (a directory holding other
//! `nsconform` and `nsconform-probe` binaries to measure).

mod baseline;
mod rounds;
mod suite;

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::resource::{getrusage, UsageWho};
use nsconform::plan::Door;
use nsconform::run::{self, Config, Filter, Trial};
use nsconform::verdict::Verdict;
use rounds::{Mark, Medians, Rounds};
use serde::Serialize;

/// The cases measured door by door: a label and the case's id. `uts 2p`
/// judges `inside` and the host only, so its trial has two processes (the
/// supervisor and `inside`), one fewer than the others.
const CASES: [(&str, &str); 4] = [
    ("uts", "uts::hostname-isolated"),
    ("uts 2p", "uts::copied-from-creator"),
    ("net", "net::new-has-only-lo-down"),
    ("all", "net::isolated-with-all-namespaces"),
];

/// One row of the door table. Four measures of the same trial, medians
/// of the rounds in ms: through the harness; the raw baseline (the door's
/// syscalls, an exec of the probe on an empty plan, a wait); the probe
/// alone on the trial's plan, started and waited for by this small process
/// (the kernel work of the trial that the raw baseline leaves out: the
/// steps, the views the fixture judges, the trial's other processes); and
/// the probe alone on that plan without its steps and views (the trial's
/// processes: the supervisor and its guard, the door, `inside`, `child`).
#[derive(Debug, Serialize)]
struct DoorRow {
    types: &'static str,
    trial: String,
    door: String,
    harness_ms: f64,
    raw_ms: Option<f64>,
    /// Harness over raw: the figure.
    ratio: Option<f64>,
    alone_ms: Option<f64>,
    /// The probe alone on the plan without steps and views.
    shape_ms: Option<f64>,
    /// The shape over raw: what the trial's processes cost beyond the door,
    /// the exec and the wait.
    shape_over_raw: Option<f64>,
    /// Harness over the probe alone: what the harness itself adds, the
    /// same kernel work on both sides.
    harness_over_alone: Option<f64>,
    /// The probe alone over raw: what the trial's own work costs beyond
    /// the door, the exec and the wait.
    alone_over_raw: Option<f64>,
    /// Medians of the page faults of a round (the bench process's and
    /// those of every process the round started), for each measure; and
    /// the harness's over the raw baseline's.
    harness_faults: Option<u64>,
    raw_faults: Option<u64>,
    faults_ratio: Option<f64>,
    alone_faults: Option<u64>,
    shape_faults: Option<u64>,
    verdict: String,
    note: Option<String>,
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn source_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// The binaries to measure: those built with this bench, or others.
fn binaries() -> (PathBuf, PathBuf) {
    match std::env::var_os("NSCONFORM_BENCH_BIN") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            (dir.join("nsconform"), dir.join("nsconform-probe"))
        }
        None => (
            PathBuf::from(env!("CARGO_BIN_EXE_nsconform")),
            PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe")),
        ),
    }
}

/// A memfd holding the plan of `trial`, for the probe alone; `emptied`,
/// without its steps and view sections (the processes stay).
fn plan_file(trial: &Trial, emptied: bool) -> Option<std::os::fd::OwnedFd> {
    let Trial::Case { plan, .. } = trial else {
        return None;
    };
    let mut plan = plan.as_ref().clone();
    if emptied {
        plan.steps.clear();
        plan.child_steps.clear();
        let nothing = nsconform::view::Selection::default();
        plan.sections = Some(plan.viewed().map(|p| (p, nothing.clone())).collect());
    }
    let fd = rustix::fs::memfd_create("overhead-plan", rustix::fs::MemfdFlags::CLOEXEC).ok()?;
    let text = serde_json::to_vec(&plan).ok()?;
    rustix::io::write(&fd, &text).ok()?;
    Some(fd)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?.max(1e-9))
}

/// Rounds of the probe alone on one plan, or what failed.
struct Alone {
    plan: Option<std::os::fd::OwnedFd>,
    rounds: Rounds,
    error: Option<String>,
}

impl Alone {
    fn new(trial: &Trial, emptied: bool) -> Alone {
        Alone {
            plan: plan_file(trial, emptied),
            rounds: Rounds::default(),
            error: None,
        }
    }

    fn round(&mut self, raw: &baseline::Raw) {
        let start = Mark::now();
        match self.plan.as_ref().map(|p| raw.alone(p)) {
            Some(Ok(())) => self.rounds.push(start),
            Some(Err(e)) => self.error = Some(e),
            None => self.error = Some("no plan".into()),
        }
    }

    fn medians(self) -> (Option<Medians>, Option<String>) {
        let failed = self.error.is_some();
        (self.rounds.medians(failed), self.error)
    }
}

/// `n` rounds of the trial, of its raw baseline, of the probe alone and of
/// its shape, interleaved so that all see the same load.
fn measure(trial: &Trial, config: &Config, raw: &baseline::Raw, door: Door, n: usize) -> DoorRow {
    let (mut h, mut r) = (Rounds::default(), Rounds::default());
    let mut verdict = Verdict::Error;
    let mut raw_error = None;
    let (mut alone, mut shape) = (Alone::new(trial, false), Alone::new(trial, true));
    for _ in 0..n + 1 {
        let start = Mark::now();
        verdict = run::execute(trial, config).verdict;
        h.push(start);
        let start = Mark::now();
        match raw.once(door) {
            Ok(()) => r.push(start),
            Err(e) => raw_error = Some(e),
        }
        alone.round(raw);
        shape.round(raw);
    }
    let mut harness = h.medians(false);
    // A round's trial processes are the spawner's children, reaped by it:
    // their faults count here only once the spawner is reaped.
    nsconform::target::spawner::release();
    if let Some(m) = harness.as_mut() {
        let round = || drop(run::execute(trial, config));
        m.faults = rounds::mean_faults(n, round, nsconform::target::spawner::release);
    }
    let raw = r.medians(raw_error.is_some());
    let (alone, alone_error) = alone.medians();
    let (shape, shape_error) = shape.medians();
    let ms = |m: &Option<Medians>| m.as_ref().map(|m| m.ms);
    let faults = |m: &Option<Medians>| m.as_ref().map(|m| m.faults);
    let harness_ms = ms(&harness).unwrap_or(0.0);
    let (raw_ms, alone_ms, shape_ms) = (ms(&raw), ms(&alone), ms(&shape));
    let fair = verdict == Verdict::Pass;
    DoorRow {
        types: "",
        trial: trial.id(),
        door: door.to_string(),
        harness_ms,
        raw_ms,
        ratio: ratio(Some(harness_ms), raw_ms),
        alone_ms,
        shape_ms,
        shape_over_raw: ratio(shape_ms, raw_ms),
        harness_over_alone: ratio(Some(harness_ms), alone_ms),
        alone_over_raw: ratio(alone_ms, raw_ms),
        harness_faults: faults(&harness),
        raw_faults: faults(&raw),
        faults_ratio: ratio(
            faults(&harness).map(|f| f as f64),
            faults(&raw).map(|f| f as f64),
        ),
        alone_faults: faults(&alone),
        shape_faults: faults(&shape),
        verdict: format!("{verdict:?}").to_lowercase(),
        note: (raw_error.or(alone_error).or(shape_error))
            .or((!fair).then(|| "not a pass: not a fair measure".into())),
    }
}

fn door_table(probe: &Path, n: usize) -> Vec<DoorRow> {
    let suite = nsconform::suite::load(&source_dir("cases"), &source_dir("fixtures"))
        .expect("the suite loads");
    let config = Config {
        probe: probe.to_path_buf(),
        stand_in: None,
        timeout: Duration::from_secs(20),
        jobs: 1,
        full_views: false,
        // Syscall doors only: no runtime is started (nor counted in the
        // largest child's RSS below).
        environment: nsconform::env::probe_with("host", None),
    };
    let trials = run::trials(&suite, &Filter::default(), &config.environment);
    let mut rows = Vec::new();
    for (types, case) in CASES {
        let Some(entry) = suite
            .entries
            .iter()
            .find(|e| format!("{}::{}", e.ty, e.name) == case)
        else {
            eprintln!("overhead: no case {case}");
            continue;
        };
        let raw = baseline::Raw::new(probe, entry.case.namespaces.types()).expect("/dev/null");
        for door in Door::ALL {
            let id = format!("{case}::{door}");
            let Some(trial) = trials.iter().find(|t| t.id() == id) else {
                continue;
            };
            let mut row = measure(trial, &config, &raw, door, n);
            row.types = types;
            rows.push(row);
        }
    }
    rows
}

fn print_doors(rows: &[DoorRow]) {
    println!(
        "\n{:<6} {:<12} {:>11} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>23} {:>10}  verdict",
        "types",
        "door",
        "harness ms",
        "raw ms",
        "ratio",
        "shape ms",
        "shape/raw",
        "alone ms",
        "h/alone",
        "alone/raw",
        "faults h/raw/shape/alone",
        "h/raw flt"
    );
    let ms = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.3}"));
    let x = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.2}x"));
    let n = |v: Option<u64>| v.map_or("n/a".into(), |v| v.to_string());
    for r in rows {
        let faults = [
            r.harness_faults,
            r.raw_faults,
            r.shape_faults,
            r.alone_faults,
        ]
        .map(n);
        let note = r
            .note
            .as_deref()
            .map_or(String::new(), |n| format!("  ({n})"));
        println!(
            "{:<6} {:<12} {:>11.3} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>23} {:>10}  {}{note}",
            r.types,
            r.door,
            r.harness_ms,
            ms(r.raw_ms),
            x(r.ratio),
            ms(r.shape_ms),
            x(r.shape_over_raw),
            ms(r.alone_ms),
            x(r.harness_over_alone),
            x(r.alone_over_raw),
            faults.join("/"),
            x(r.faults_ratio),
            r.verdict
        );
    }
}

fn print_suites(runs: &[suite::SuiteRun]) {
    println!(
        "\n{:<10} {:>4} {:>6} {:>8} {:>9} {:>10} {:>9} {:>9} {:>6}",
        "suite", "jobs", "trials", "wall s", "trials/s", "peak MiB", "1st 10%", "last 10%", "ratio"
    );
    for s in runs {
        println!(
            "{:<10} {:>4} {:>6} {:>8.2} {:>9.1} {:>10.1} {:>9.3} {:>9.3} {:>5.2}x{}",
            s.label,
            s.jobs,
            s.trials,
            s.wall_s,
            s.trials_per_s,
            s.peak_rss_kib as f64 / 1024.0,
            s.first_tenth_ms,
            s.last_tenth_ms,
            s.last_over_first,
            if s.exit_status > 1 {
                format!("  (exit {})", s.exit_status)
            } else {
                String::new()
            }
        );
        for id in &s.not_passed {
            println!("           not a pass, so not a fair measure: {id}");
        }
    }
}

fn suite_runs(nsconform: &Path, scale: usize) -> Vec<suite::SuiteRun> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (cases, fixtures) = (source_dir("cases"), source_dir("fixtures"));
    let mut runs = vec![
        suite::run(nsconform, &cases, &fixtures, 1, "full"),
        suite::run(nsconform, &cases, &fixtures, cores, "full"),
    ];
    if scale > 0 {
        let (_dir, c, f) = suite::copies(&cases, &fixtures, scale);
        runs.push(suite::run(nsconform, &c, &f, cores, &format!("{scale}x")));
    }
    runs
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = setting("NSCONFORM_BENCH_N", 40);
    let scale = setting("NSCONFORM_BENCH_SCALE", 10);
    let (nsconform, probe) = binaries();
    println!(
        "overhead: {n} rounds per door (medians), probe {}",
        probe.display()
    );
    let doors = door_table(&probe, n);
    print_doors(&doors);
    let probe_peak = getrusage(UsageWho::RUSAGE_CHILDREN).map_or(-1, |u| u.max_rss());
    // An upper bound: a child's ru_maxrss counts its parent's pages until it execs.
    println!(
        "largest probe: at most {:.1} MiB peak RSS",
        probe_peak as f64 / 1024.0
    );
    let runs = if setting("NSCONFORM_BENCH_SUITES", 1) > 0 {
        suite_runs(&nsconform, scale)
    } else {
        Vec::new()
    };
    print_suites(&runs);
    let figures = serde_json::json!({
        "rounds": n,
        "doors": doors,
        "largest_probe_rss_kib": probe_peak,
        "suites": runs,
    });
    let out = std::env::var_os("NSCONFORM_BENCH_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("overhead.json"));
    match std::fs::write(
        &out,
        serde_json::to_string_pretty(&figures).unwrap_or_default(),
    ) {
        Ok(()) => println!("\nfigures: {}", out.display()),
        Err(e) => eprintln!("overhead: cannot write {}: {e}", out.display()),
    }
}
