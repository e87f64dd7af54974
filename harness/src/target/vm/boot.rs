//! One `vm:KERNEL` target: check the image, pack the initramfs, boot it,
//! and turn what came back into a report. Whatever breaks (not a kernel, no
//! qemu, no boot, a panic, a timeout) becomes an `error` verdict for every
//! trial, with the reason.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::console::Console;
use super::initramfs::{self, Contents};
use super::protocol::{self, GuestPlan, REPORT_BEGIN, REPORT_END};
use super::qemu::{self, Boot, Ending, Machine, Watch};
use super::{image, kconfig};
use crate::verdict::{Environment, Report, TrialRecord, Verdict};

/// How to run a `vm:` target.
#[derive(Debug, Clone)]
pub struct VmOptions {
    pub qemu: PathBuf,
    pub memory_mib: u32,
    pub cpus: u32,
    pub accel: String,
    /// More of the kernel command line, after [`qemu::APPEND`].
    pub append: String,
    pub boot_timeout: Duration,
    /// The time a trial may take inside the guest.
    pub trial_timeout: Duration,
    pub contents: Contents,
}

/// A finished `vm:` target: its report, and the guest's console.
#[derive(Debug)]
pub struct VmRun {
    pub report: Report,
    pub console: Vec<String>,
    /// From the start of qemu to the guest's /init running, where it got there.
    pub booted_after: Option<Duration>,
    /// From the start of qemu to its end.
    pub duration: Duration,
}

/// Every trial as an error with `reason`, on target `target`.
pub fn all_errors(target: &str, ids: &[String], reason: &str) -> Report {
    let records = ids
        .iter()
        .map(|id| TrialRecord {
            reason: Some(reason.to_string()),
            ..TrialRecord::new(id, target)
        })
        .collect();
    let environment = Environment {
        target: target.to_string(),
        ..Environment::default()
    };
    Report::new(environment, records)
}

/// The report between the framing lines of the report channel.
fn read_report(path: &Path) -> Option<Result<Report, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let start = text.find(REPORT_BEGIN)? + REPORT_BEGIN.len();
    let Some(len) = text[start..].find(REPORT_END) else {
        return Some(Err("the guest's report was cut off".into()));
    };
    let json = text[start..start + len].trim();
    Some(serde_json::from_str(json).map_err(|e| format!("the guest's report is not valid: {e}")))
}

/// Why a guest gave no report.
fn no_report_reason(boot: &Boot, qemu_path: &Path) -> String {
    let c = &boot.console;
    let last = c.last_line().unwrap_or("nothing").to_string();
    match &boot.ending {
        Ending::BootTimeout(t) => format!(
            "the guest did not boot within {}s (boot timeout); the last console line: {last:?}",
            t.as_secs_f64()
        ),
        Ending::Silent(t) => format!(
            "the guest fell silent for {}s while running {}; qemu was killed",
            t.as_secs(),
            c.running.join(", ")
        ),
        Ending::Exited(_) if c.panic.is_some() => format!(
            "the guest kernel panicked: {}",
            c.panic.as_deref().unwrap_or_default()
        ),
        Ending::Exited(s) if !c.ready => format!(
            "the kernel did not boot to /init (qemu {} exited with {s}); qemu said: {:?}; \
             the last console line: {last:?}",
            qemu_path.display(),
            boot.stderr.trim()
        ),
        Ending::Exited(s) if s.code() == Some(protocol::qemu_status(protocol::GUEST_BROKEN)) => {
            let said = c
                .lines
                .iter()
                .rev()
                .map(|l| super::console::message_of(l))
                .find(|l| l.starts_with("nsconform-guest:"))
                .unwrap_or("nothing");
            format!("the guest's /init failed: {said}")
        }
        Ending::Exited(s) => {
            format!("the guest ended without a report ({s}); the last console line: {last:?}")
        }
    }
}

/// Ties the console's alarms to the report: each trial running when the
/// kernel logged one fails with it, and every alarm is listed.
fn apply_alarms(report: &mut Report, console: &Console) {
    for alarm in &console.alarms {
        report.kernel_log.push(alarm.describe());
        for t in report
            .trials
            .iter_mut()
            .filter(|t| alarm.trials.contains(&t.id))
        {
            t.verdict = Verdict::Fail;
            t.reason = Some(format!(
                "the kernel logged during this trial: {}",
                alarm.message
            ));
        }
    }
    report.summary = crate::verdict::Summary::of(&report.trials);
}

/// Runs the trials `ids` on the kernel at `kernel`; until the guest says
/// its release, the target is named by the kernel's path.
pub fn run(kernel: &Path, kconfig_path: Option<&Path>, ids: &[String], opts: &VmOptions) -> VmRun {
    let label = format!("vm:{}", kernel.display());
    let fail = |reason: String| VmRun {
        report: all_errors(&label, ids, &reason),
        console: Vec::new(),
        booted_after: None,
        duration: Duration::ZERO,
    };
    if let Err(e) = image::check(kernel) {
        return fail(e.to_string());
    }
    if !opts.qemu.is_file() {
        return fail(format!(
            "qemu is missing: {} does not exist (install qemu-system-x86, run .ci/fetch-vm, or give --qemu PATH)",
            opts.qemu.display()
        ));
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return fail(format!("cannot make a temporary directory: {e}")),
    };
    let plan = GuestPlan {
        trials: ids.to_vec(),
        timeout_secs: opts.trial_timeout.as_secs().max(1),
        jobs: opts.cpus.max(1) as usize,
    };
    let initrd = dir.path().join("initramfs.cpio");
    if let Err(e) = initramfs::build(&opts.contents, &plan, &initrd) {
        return fail(e.to_string());
    }
    let machine = Machine {
        qemu: opts.qemu.clone(),
        kernel: kernel.to_path_buf(),
        initrd,
        report: dir.path().join("report.channel"),
        memory_mib: opts.memory_mib,
        cpus: opts.cpus.max(1),
        accel: opts.accel.clone(),
        append: opts.append.clone(),
    };
    let watch = Watch {
        boot: opts.boot_timeout,
        silence: opts.trial_timeout + Duration::from_secs(60),
    };
    let boot = match qemu::boot(&machine, watch) {
        Ok(b) => b,
        Err(e) => return fail(e.to_string()),
    };
    let mut report = match read_report(&machine.report) {
        Some(Ok(r)) => r,
        Some(Err(reason)) => all_errors(&label, ids, &reason),
        None => all_errors(&label, ids, &no_report_reason(&boot, &opts.qemu)),
    };
    apply_alarms(&mut report, &boot.console);
    // The guest's own /proc/config.gz, where it had one, is the running
    // kernel's; a .config given or found beside the image fills in otherwise.
    if let Some(path) = kconfig_path.filter(|_| report.environment.kconfig_hash.is_none()) {
        let config = kconfig::read(path);
        report.environment.kconfig = config.options;
        report.environment.kconfig_hash = config.hash;
    }
    VmRun {
        report,
        console: boot.console.lines,
        booted_after: boot.booted_after,
        duration: boot.duration,
    }
}
