//! `nsconform run --target ...`: the suite on several targets at once (the
//! host and kernels booted under qemu), a report per target and one matrix;
//! and `--shard K/N`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use nix::sys::signal::SigSet;

use crate::report::{self, Format};
use crate::run::{Run, Trial};
use crate::shard::Shard;
use crate::target::vm::{self, initramfs::Contents, VmOptions};
use crate::verdict::Report;

use super::{Selection, EXIT_FAILED, EXIT_OK};

/// Where and how to run: flags of `nsconform run`.
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// Where to run: `host`, or `vm:KERNEL` to boot a bzImage/vmlinuz under
    /// qemu, or `vm:7.2` for the newest cached vmlinuz-7.2* (repeatable;
    /// several run in parallel) [default: host].
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// The qemu-system-x86_64 to use [default: $NSCONFORM_QEMU, then PATH,
    /// then .cache/vm/bin/ of the source tree].
    #[arg(long, value_name = "PATH")]
    pub qemu: Option<PathBuf>,
    /// Memory of each guest, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub memory: u32,
    /// CPUs of each guest (and trials at once inside it).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub cpus: u32,
    /// Seconds a guest may take to boot to its /init.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub boot_timeout: u64,
    /// A guest kernel's .config (repeatable, in the order of the vm:
    /// targets), where the guest has no /proc/config.gz [default:
    /// config-<release> beside vmlinuz-<release>, or the tree's .config for
    /// arch/x86/boot/bzImage].
    #[arg(long, value_name = "FILE")]
    pub kconfig: Vec<PathBuf>,
    /// More of the guest kernel's command line, after the suite's own (a
    /// later `rdinit=` or `panic=` wins); e.g. `--append "kasan.fault=panic"`.
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub append: Option<String>,
    /// qemu's accelerator: tcg, or kvm where a guest really runs with it.
    #[arg(long, value_name = "ACCEL", default_value = "tcg")]
    pub accel: String,
    /// Only the trials of shard K of N (by a hash of the trial id).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// One target to run on.
#[derive(Debug, Clone)]
enum Target {
    Host,
    Vm {
        kernel: PathBuf,
        kconfig: Option<PathBuf>,
    },
}

/// What `nsconform run` settled before the targets run.
pub struct Common<'a> {
    pub sel: &'a Selection,
    pub timeout: Duration,
    pub formats: &'a [Format],
    pub dir: PathBuf,
}

/// The settings of `run` that every target shares.
pub fn common<'a>(
    sel: &'a Selection,
    run: &Run,
    formats: &'a [Format],
    dir: PathBuf,
) -> Common<'a> {
    Common {
        sel,
        timeout: run.config.timeout,
        formats,
        dir,
    }
}

impl TargetArgs {
    /// Leaves in `run` only the trials of this shard.
    pub fn shard_of(&self, run: &mut Run) {
        if let Some(s) = self.shard {
            run.retain(|t| s.keeps(&t.id()));
        }
    }

    /// Whether only the host is asked for (the plain `nsconform run`).
    pub fn host_only(&self) -> bool {
        self.targets.iter().all(|t| t == "host")
    }

    fn parse(&self) -> anyhow::Result<Vec<Target>> {
        let mut configs = self.kconfig.iter();
        let mut out = Vec::new();
        for t in &self.targets {
            if t == "host" {
                out.push(Target::Host);
            } else if let Some(path) = t.strip_prefix("vm:") {
                let kernel = kernel_of(path);
                let kconfig = configs
                    .next()
                    .cloned()
                    .or_else(|| vm::kconfig::beside(&kernel));
                out.push(Target::Vm { kernel, kconfig });
            } else {
                anyhow::bail!("unknown target {t:?}: give host or vm:KERNEL-IMAGE");
            }
        }
        Ok(out)
    }

    /// The qemu to use.
    fn qemu(&self) -> PathBuf {
        if let Some(q) = &self.qemu {
            return q.clone();
        }
        if let Some(q) = std::env::var_os("NSCONFORM_QEMU") {
            return PathBuf::from(q);
        }
        let name = "qemu-system-x86_64";
        let on_path = std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|c| c.is_file())
        });
        // .cache/vm of the current directory, else of the source tree.
        let cached = [
            Path::new("."),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("..").as_path(),
        ]
        .map(|top| top.join(".cache/vm/bin").join(name));
        on_path
            .or_else(|| cached.iter().find(|c| c.is_file()).cloned())
            .unwrap_or_else(|| cached[1].clone())
    }

    fn vm_options(&self, c: &Common) -> VmOptions {
        VmOptions {
            qemu: self.qemu(),
            memory_mib: self.memory,
            cpus: self.cpus.max(1),
            accel: self.accel.clone(),
            append: self.append.clone().unwrap_or_default(),
            boot_timeout: Duration::from_secs(self.boot_timeout),
            trial_timeout: c.timeout,
            contents: Contents {
                nsconform: std::env::current_exe().unwrap_or_default(),
                probe: super::probe_path(),
                cases: c.sel.cases.clone(),
                fixtures: c.sel.fixtures.clone(),
            },
        }
    }
}

/// The image `vm:NAME` boots: the file NAME, else (a bare version such as
/// `7.2`) the newest `vmlinuz-NAME*` of $NSCONFORM_VM_KERNELS, then of
/// .cache/vm/kernels of the current directory and of the source tree.
fn kernel_of(name: &str) -> PathBuf {
    let path = PathBuf::from(name);
    if path.exists() || name.contains('/') {
        return path;
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("NSCONFORM_VM_KERNELS")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(PathBuf::from(".cache/vm/kernels"));
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/vm/kernels"));
    vm::image::cached(name, &dirs).unwrap_or(path)
}

/// The host's report, as a plain run makes it.
fn host_report(run: &Run) -> Report {
    run.run_all(&|_| {});
    run.report()
}

/// A directory name for a target: `host`, `vm-6.1.0-57-cloud-amd64`.
fn slug(target: &str) -> String {
    let name = target
        .strip_prefix("vm:")
        .map_or(target.to_string(), |rest| {
            let base = Path::new(rest)
                .file_name()
                .map_or(rest.into(), |b| b.to_string_lossy().into_owned());
            format!("vm-{}", base.trim_start_matches("vmlinuz-"))
        });
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs one target and writes its report under `c.dir`.
fn run_one(target: &Target, run: &Run, args: &TargetArgs, c: &Common) -> anyhow::Result<Report> {
    let start = Instant::now();
    let (report, console, booted) = match target {
        Target::Host => (host_report(run), None, None),
        Target::Vm { kernel, kconfig } => {
            let ids: Vec<String> = run.trials.iter().map(Trial::id).collect();
            let run = vm::run(kernel, kconfig.as_deref(), &ids, &args.vm_options(c));
            (run.report, Some(run.console), run.booted_after)
        }
    };
    let dir = c.dir.join(slug(&report.environment.target));
    report::write_all(&report, &dir, c.formats)?;
    if let Some(lines) = console {
        std::fs::write(dir.join("console.log"), lines.join("\n") + "\n")?;
    }
    let s = report.summary;
    let boot = booted.map_or(String::new(), |b| {
        format!(" (booted to /init in {:.1}s)", b.as_secs_f64())
    });
    eprintln!(
        "{}: {} passed, {} failed, {} skipped, {} errored in {:.1}s{boot}; reports in {}",
        report.environment.target,
        s.pass,
        s.fail,
        s.skip,
        s.error,
        start.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(report)
}

/// Runs `trials` on every target, in parallel up to the core count, writes a
/// report per target and the matrix of all.
pub fn main(args: &TargetArgs, run: Arc<Run>, signals: SigSet, c: &Common) -> anyhow::Result<u8> {
    let targets = args.parse()?;
    stop_on(signals, &run);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let at_once = (cores / args.cpus.max(1) as usize).max(1);
    let reports: Mutex<Vec<(usize, Report)>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<anyhow::Error>> = Mutex::new(Vec::new());
    for wave in targets
        .iter()
        .enumerate()
        .collect::<Vec<_>>()
        .chunks(at_once)
    {
        std::thread::scope(|s| {
            for (i, target) in wave {
                let (reports, failures) = (&reports, &failures);
                let run = &run;
                s.spawn(move || match run_one(target, run, args, c) {
                    Ok(r) => reports.lock().map(|mut v| v.push((*i, r))).unwrap_or(()),
                    Err(e) => failures.lock().map(|mut v| v.push(e)).unwrap_or(()),
                });
            }
        });
    }
    if let Some(e) = failures.into_inner().unwrap_or_default().into_iter().next() {
        return Err(e);
    }
    let mut reports = reports.into_inner().unwrap_or_default();
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<Report> = reports.into_iter().map(|(_, r)| r).collect();
    let good = reports
        .iter()
        .all(|r| r.summary.ok() && r.kernel_log.is_empty());
    let merged = crate::merge::merge(reports)?;
    write_matrix(&merged, &c.dir)?;
    Ok(if good { EXIT_OK } else { EXIT_FAILED })
}

/// A thread of its own waits for SIGINT or SIGTERM, stops the host's
/// trials and ends the process: every qemu dies with it (PDEATHSIG).
fn stop_on(set: SigSet, run: &Arc<Run>) {
    let run = Arc::clone(run);
    std::thread::spawn(move || {
        if let Ok(signal) = set.wait() {
            eprintln!("\nnsconform: {signal}: stopping every target");
            run.stop(signal as i32);
            std::process::exit(128 + signal as i32);
        }
    });
}

/// `matrix.md` and `matrix.html` of a merged report, into `dir`.
pub fn write_matrix(merged: &Report, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("matrix.md"), crate::matrix::markdown(merged))?;
    let mut html = Vec::new();
    Format::Html.write(merged, &mut html)?;
    std::fs::write(dir.join("matrix.html"), html)?;
    eprintln!(
        "matrix of {} targets in {}",
        crate::verdict::targets(&merged.trials).len(),
        dir.join("matrix.md").display()
    );
    Ok(())
}
