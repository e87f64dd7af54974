//! `/init` of a guest: prepare the root, read the plan the host left in the
//! initramfs, run those trials, send the report, power off.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use super::{channel, root};
use crate::run::{self, Config, Trial};
use crate::target::vm::protocol::{self, GuestPlan};
use crate::verdict::{Report, TrialRecord, Verdict};

/// Whether this process is a kernel's first process, so `nsconform` is a
/// guest's `/init`.
pub fn is_init() -> bool {
    std::process::id() == 1
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

/// The trials of the plan, in the suite's order.
fn planned(plan: &GuestPlan) -> anyhow::Result<Vec<Trial>> {
    let suite = crate::suite::load(
        Path::new(protocol::CASES_DIR),
        Path::new(protocol::FIXTURES_DIR),
    )
    .map_err(anyhow::Error::msg)?;
    let wanted: std::collections::HashSet<&str> = plan.trials.iter().map(String::as_str).collect();
    let all = run::trials(&suite, &run::Filter::default());
    Ok(all
        .into_iter()
        .filter(|t| wanted.contains(t.id().as_str()))
        .collect())
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
    let trials = planned(&plan)?;
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let config = Config {
        probe: Path::new("/").join(protocol::PROBE_PATH),
        timeout: Duration::from_secs(plan.timeout_secs),
        jobs: plan.jobs,
        environment: crate::env::probe(&format!("vm:{release}")),
    };
    let records = run::run_all_marked(
        &trials,
        &config,
        &|t| channel::mark(&format!("{}{}", protocol::START, t.id())),
        &|r| channel::mark(&format!("{}{}", protocol::DONE, r.id)),
    );
    let report = Report::new(config.environment, records.into_iter().map(slim).collect());
    channel::send(&report)?;
    Ok(if report.summary.ok() {
        protocol::GUEST_OK
    } else {
        protocol::GUEST_FAILED
    })
}
