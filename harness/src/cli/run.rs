//! `nsconform run`: run the suite on this machine's kernel and write reports.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::report::{self, progress::Progress, Format};
use crate::run::{self, Config};
use crate::verdict::Report;
use clap::Args;

use super::{Selection, EXIT_FAILED, EXIT_OK};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    sel: Selection,
    /// Trials to run at once [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Where to write the reports [default: reports/<timestamp>, linked from reports/latest].
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
    /// Which reports to write: any of json,junit,ktap,md,html.
    #[arg(long, value_name = "LIST", default_value = "json,junit,ktap,md,html")]
    format: String,
    /// Seconds a trial may take before its probe is killed.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    timeout: u64,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Run a runtime door's program from PATH (`runc=/opt/runc`); repeatable.
    #[arg(long, value_name = "NAME=PATH")]
    runtime: Vec<String>,
}

/// The directory to write into: the one given, or a new timestamped one
/// under `reports/` that `reports/latest` then points at.
fn report_dir(given: Option<&Path>) -> anyhow::Result<(PathBuf, bool)> {
    match given {
        Some(dir) => Ok((dir.to_path_buf(), false)),
        None => {
            let root = crate::suite::data_dir(None, "reports");
            Ok((report::create_run_dir(&root)?, true))
        }
    }
}

pub fn main(args: &RunArgs) -> anyhow::Result<u8> {
    let formats = Format::parse_list(&args.format)?;
    let (suite, filter) = args.sel.load()?;
    let trials = run::trials(&suite, &filter);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let config = Config {
        probe: super::probe_path(),
        timeout: Duration::from_secs(args.timeout),
        jobs,
        environment: crate::env::probe_with(
            "host",
            &super::runtime_overrides(&args.sel, &args.runtime)?,
        ),
    };
    if !config.probe.exists() {
        anyhow::bail!(
            "the probe is missing: {} (build the workspace first)",
            config.probe.display()
        );
    }
    let mut kernel_log = crate::kmsg::KernelLog::open();
    let progress = Mutex::new(Progress::stderr(trials.len(), args.quiet));
    let records = run::run_all(&trials, &config, &|r| {
        if let Ok(mut p) = progress.lock() {
            p.record(r);
        }
    });
    if let Ok(mut p) = progress.lock() {
        p.finish();
    }
    let mut report = Report::new(config.environment, records);
    report.kernel_log = kernel_log.as_mut().map(|k| k.alarms()).unwrap_or_default();
    for line in &report.kernel_log {
        eprintln!("nsconform: the kernel logged: {line}");
    }
    let (dir, latest) = report_dir(args.report_dir.as_deref())?;
    report::write_all(&report, &dir, &formats)?;
    if latest {
        report::point_latest(dir.parent().unwrap_or(Path::new(".")), &dir)?;
    }
    let s = report.summary;
    eprintln!(
        "{} passed, {} failed, {} skipped, {} errored; reports in {}",
        s.pass,
        s.fail,
        s.skip,
        s.error,
        dir.display()
    );
    let good = s.ok() && report.kernel_log.is_empty();
    Ok(if good { EXIT_OK } else { EXIT_FAILED })
}
