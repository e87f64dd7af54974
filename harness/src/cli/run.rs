//! `nsconform run`: run the suite on this machine's kernel and write reports.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::report::{self, progress::Progress, Format};
use crate::run::{Config, Run};
use clap::Args;

use super::{Selection, EXIT_FAILED, EXIT_OK};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    sel: Selection,
    /// Trials to run at once (at least 1) [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Where to write the reports [default: ./reports/<timestamp>, linked from ./reports/latest].
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
    /// How many older runs to keep under ./reports besides the latest (without --report-dir).
    #[arg(long, value_name = "N", default_value_t = report::DEFAULT_KEEP)]
    keep: usize,
    /// Which reports to write: any of json,junit,ktap,md,html.
    #[arg(long, value_name = "LIST", default_value = "json,junit,ktap,md,html")]
    format: String,
    /// Seconds a trial may take before its probe is killed (at least 1).
    #[arg(long, value_name = "SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Observe every view section of every process, and keep whole views in
    /// report.json (by default a probe observes what the fixture judges, and
    /// the report keeps that, with whole views of failures and errors only).
    #[arg(long)]
    full_views: bool,
    #[command(flatten)]
    targets: super::targets::TargetArgs,
    /// Run a runtime door's program from PATH (`runc=/opt/runc`); repeatable.
    #[arg(long, value_name = "NAME=PATH")]
    runtime: Vec<String>,
}

/// The root of the default report directories: `./reports`.
const REPORT_ROOT: &str = "reports";

/// The directory to write into, made and checked writable before any trial
/// runs: the one given, or a new timestamped one under `./reports/`.
fn report_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match given {
        Some(dir) => dir.to_path_buf(),
        None => report::create_run_dir(Path::new(REPORT_ROOT))?,
    };
    report::check_writable(&dir)?;
    Ok(dir)
}

fn config(args: &RunArgs, filter: &crate::run::Filter) -> anyhow::Result<Config> {
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(2, |n| n.get()),
        usize::from,
    );
    let config = Config {
        probe: super::probe_path(),
        stand_in: None,
        timeout: Duration::from_secs(args.timeout),
        jobs,
        full_views: args.full_views,
        environment: super::host_environment(&args.sel, filter, &args.runtime)?,
    };
    if !config.probe.exists() {
        anyhow::bail!(
            "the probe is missing: {} (build the workspace first)",
            config.probe.display()
        );
    }
    Ok(config)
}

pub fn main(args: &RunArgs) -> anyhow::Result<u8> {
    let signals = super::signal::block()?;
    let formats = Format::parse_list(&args.format)?;
    let (suite, filter) = args.sel.load()?;
    let mut run = Run::new(&suite, &filter, config(args, &filter)?);
    args.targets.shard_of(&mut run);
    if run.trials.is_empty() {
        return Err(super::nothing_selected(&args.sel));
    }
    let dir = report_dir(args.report_dir.as_deref())?;
    let run = Arc::new(run);
    if !args.targets.host_only() {
        let common = super::targets::common(&args.sel, &run, &formats, dir);
        return super::targets::main(&args.targets, run, signals, &common);
    }
    if formats.contains(&Format::Json) {
        run.stream_json(&dir)?;
    }
    super::signal::stop_on(signals, &run);
    let progress = Mutex::new(Progress::stderr(run.trials.len(), args.quiet));
    run.run_all(&|r| {
        if let Ok(mut p) = progress.lock() {
            p.record(r);
        }
    });
    if let Ok(mut p) = progress.lock() {
        p.finish();
    }
    let report = run.report();
    for line in &report.kernel_log {
        eprintln!("nsconform: the kernel logged: {line}");
    }
    if let Some(written) = run.finish_json(&report) {
        written?;
    }
    let rest: Vec<Format> = formats.into_iter().filter(|f| *f != Format::Json).collect();
    report::write_all(&report, &dir, &rest)?;
    if args.report_dir.is_none() {
        let root = Path::new(REPORT_ROOT);
        report::point_latest(root, &dir)?;
        report::prune(root, &dir, args.keep)?;
    }
    let s = report.summary;
    eprintln!(
        "{} passed, {} failed, {} skipped, {} errored{}{}; {} checks judged; reports in {}",
        s.pass,
        s.fail,
        s.skip,
        s.error,
        known_counts(&s),
        match &report.interrupted {
            Some(sig) => format!(
                " ({sig}: stopped after {} of {} trials)",
                s.total(),
                run.trials.len()
            ),
            None => String::new(),
        },
        s.checks,
        dir.display()
    );
    if let Some(signal) = run.stopped() {
        return Ok(128u8.saturating_add(signal as u8));
    }
    let good = s.ok() && report.kernel_log.is_empty();
    Ok(if good { EXIT_OK } else { EXIT_FAILED })
}

/// `, N xfail, N xpass` when a known issue covered a trial.
fn known_counts(s: &crate::verdict::Summary) -> String {
    if s.xfail + s.xpass == 0 {
        return String::new();
    }
    format!(", {} xfail, {} xpass", s.xfail, s.xpass)
}
