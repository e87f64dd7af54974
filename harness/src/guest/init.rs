//! `/init` of a guest: prepare the root, read the plan the host left in the
//! initramfs, run those trials, send the report, power off.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use super::{channel, root};
use std::collections::HashSet;

use crate::run::{Config, Filter, Run};
use crate::target::vm::protocol::{self, GuestPlan};
use crate::verdict::{TrialRecord, Verdict};

/// Whether `nsconform` is the `/init` of a guest the host packed: the
/// kernel's first process, started as `/init`, beside a plan. (As the first
/// process of a container it is none of that, and runs its command line.)
pub fn is_init() -> bool {
    let arg0 = std::env::args_os().next();
    std::process::id() == 1
        && arg0.is_some_and(|a| a == "/init")
        && Path::new("/").join(protocol::PLAN_PATH).is_file()
}

/// Runs the guest; never returns.
pub fn main() -> std::process::ExitCode {
    let code = match run_guest() {
        Ok(code) => code,
        Err(e) => {
            let line = format!("nsconform-guest: {e:#}");
            eprintln!("{line}");
            channel::mark(&line);
            protocol::GUEST_BROKEN
        }
    };
    channel::exit(code)
}

fn read_plan() -> anyhow::Result<GuestPlan> {
    let text = std::fs::read_to_string(protocol::PLAN_PATH)
        .with_context(|| format!("cannot read /{}", protocol::PLAN_PATH))?;
    serde_json::from_str(&text).with_context(|| format!("/{} is not a plan", protocol::PLAN_PATH))
}

/// The suite packed into the initramfs.
fn suite() -> anyhow::Result<crate::suite::Suite> {
    let cases = Path::new(protocol::CASES_DIR);
    let fixtures = Path::new(protocol::FIXTURES_DIR);
    Ok(crate::suite::load(cases, fixtures)?)
}

/// The views of a trial that passed or was skipped stay in the guest: the
/// report channel is a serial port, and they say nothing a verdict does not.
fn slim(mut record: TrialRecord) -> TrialRecord {
    if matches!(record.verdict, Verdict::Pass | Verdict::Skip) {
        record.views = None;
    }
    record
}

fn run_guest() -> anyhow::Result<u8> {
    root::prepare()?;
    channel::mark(protocol::READY);
    let plan = read_plan()?;
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let config = Config {
        probe: Path::new("/").join(protocol::PROBE_PATH),
        stand_in: None,
        timeout: Duration::from_secs(plan.timeout_secs),
        jobs: plan.jobs,
        full_views: false,
        environment: crate::env::probe(&format!("vm:{release}")),
    };
    let mut run = Run::new(&suite()?, &Filter::default(), config);
    let wanted: HashSet<&str> = plan.trials.iter().map(String::as_str).collect();
    run.retain(|t| wanted.contains(t.id().as_str()));
    run.run_all_marked(
        &|t| channel::mark(&format!("{}{}", protocol::START, t.id())),
        &|r| channel::mark(&format!("{}{}", protocol::DONE, r.id)),
    );
    let mut report = run.report();
    // The host reads the kernel log from the console, trial by trial.
    report.kernel_log.clear();
    report.trials = std::mem::take(&mut report.trials)
        .into_iter()
        .map(slim)
        .collect();
    channel::send(&report)?;
    Ok(if report.summary.ok() {
        protocol::GUEST_OK
    } else {
        protocol::GUEST_FAILED
    })
}
