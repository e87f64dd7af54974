//! The harness's overhead per trial, against a raw fork+exec+wait baseline
//! measured in the same run; and the peak memory of the harness and of its
//! children. Prints numbers; asserts nothing about time.
//!
//! `cargo bench --bench overhead` (set `NSCONFORM_BENCH_N` for more rounds).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};
use nsconform::run::{self, Config, Filter, Trial};
use nsconform::verdict::Verdict;

/// The trials measured: one namespace, and (nearly) all of them at once.
const TRIALS: [&str; 3] = [
    "uts::hostname-isolated::clone",
    "net::isolated-with-all-namespaces::clone",
    "net::isolated-with-all-namespaces::unshare",
];

fn source_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn rounds() -> u32 {
    std::env::var("NSCONFORM_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// The mean of `n` calls of `f`.
fn mean(n: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

/// Start `program` with `args` and wait for it.
fn spawn_wait(program: &Path, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(status.is_ok(), "cannot run {}", program.display());
}

/// Peak resident set sizes in KiB: this process, its reaped children.
fn peak_rss() -> (i64, i64) {
    let of = |who| getrusage(who).map(|u| u.max_rss()).unwrap_or(-1);
    (of(UsageWho::RUSAGE_SELF), of(UsageWho::RUSAGE_CHILDREN))
}

fn trial(id: &str, trials: &[Trial]) -> Trial {
    let found = trials.iter().find(|t| t.id() == id);
    found.cloned().unwrap_or_else(|| panic!("no trial {id}"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = rounds();
    let probe = PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe"));
    let suite = nsconform::suite::load(&source_dir("cases"), &source_dir("fixtures"))
        .expect("the suite loads");
    let config = Config {
        probe: probe.clone(),
        timeout: Duration::from_secs(20),
        jobs: 1,
        environment: nsconform::env::probe("host"),
    };
    let trials = run::trials(&suite, &Filter::default(), &config.environment);
    println!("overhead: {n} rounds each, one at a time");
    let base = mean(n, || spawn_wait(Path::new("/bin/true"), &[]));
    println!("  baseline fork+exec+wait /bin/true: {:>9.3} ms", ms(base));
    // The static probe reading an empty plan: its start-up, no namespaces.
    let probe_base = mean(n, || spawn_wait(&probe, &[]));
    println!(
        "  baseline fork+exec+wait probe (empty plan): {:>9.3} ms  ({:.1}x /bin/true)",
        ms(probe_base),
        ratio(probe_base, base)
    );
    for id in TRIALS {
        let t = trial(id, &trials);
        let mut verdict = None;
        let each = mean(n, || verdict = Some(run::execute(&t, &config).verdict));
        let note = match verdict {
            Some(Verdict::Pass) => String::new(),
            v => format!("  (verdict {v:?}: not a fair measure)"),
        };
        println!(
            "  run::execute {id}: {:>9.3} ms  ({:.1}x /bin/true, {:.1}x the probe){note}",
            ms(each),
            ratio(each, base),
            ratio(each, probe_base)
        );
    }
    let (own, children) = peak_rss();
    println!("  peak RSS: harness {own} KiB, largest child {children} KiB");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
