//! qemu-system-x86_64 under watch: its own process group, killed with the
//! harness (PDEATHSIG), a boot timeout until the guest's /init says it runs,
//! then a silence timeout while trials go on; killed with its children and
//! reaped however it ends.

use std::io::{BufRead, BufReader, Read, Seek};

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::console::Console;
use super::protocol::DEBUG_EXIT_PORT;
use crate::sys::command::{die_with_caller, Group};

/// How to start the guest.
#[derive(Debug, Clone)]
pub struct Machine {
    pub qemu: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// Where the guest's second serial port (the report channel) is written.
    pub report: PathBuf,
    pub memory_mib: u32,
    pub cpus: u32,
    /// `tcg` or `kvm`.
    pub accel: String,
}

/// How long to wait.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    /// From the start of qemu until the guest's /init says it runs.
    pub boot: Duration,
    /// The longest the console may stay silent once the guest runs (every
    /// trial writes a line when it starts and when it ends).
    pub silence: Duration,
}

/// How the guest ended.
#[derive(Debug)]
pub enum Ending {
    /// qemu exited by itself.
    Exited(ExitStatus),
    /// The guest's /init did not say it runs in time; qemu was killed.
    BootTimeout(Duration),
    /// The console was silent too long; qemu was killed.
    Silent(Duration),
}

/// What a boot left: the console, how it ended, what qemu wrote on stderr.
#[derive(Debug)]
pub struct Boot {
    pub console: Console,
    /// From the start of qemu until the guest's /init said it runs.
    pub booted_after: Option<Duration>,
    pub ending: Ending,
    pub stderr: String,
    pub duration: Duration,
}

/// Why qemu could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartQemuError {
    /// The qemu binary could not be executed.
    #[error(
        "failed to start qemu {path}: {source} (install qemu-system-x86, or give --qemu PATH)"
    )]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A temporary file could not be made.
    #[error("failed to make a temporary file for qemu's stderr: {0}")]
    Temp(std::io::Error),
}

/// The kernel command line: the console on ttyS0, a panic ends the boot at
/// once, and /init's markers in the kernel log are never rate-limited.
pub const APPEND: &str = "console=ttyS0 panic=-1 printk.devkmsg=on rdinit=/init";

fn command(m: &Machine) -> Command {
    let mut cmd = Command::new(&m.qemu);
    cmd.args([
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-monitor",
        "none",
    ])
    .args(["-accel", &m.accel])
    .args(["-m", &m.memory_mib.to_string()])
    .args(["-smp", &m.cpus.to_string()])
    .arg("-kernel")
    .arg(&m.kernel)
    .arg("-initrd")
    .arg(&m.initrd)
    .args(["-append", APPEND])
    .args(["-serial", "stdio"])
    .arg("-serial")
    .arg(format!("file:{}", m.report.display()))
    .args([
        "-device",
        &format!("isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"),
    ]);
    cmd
}

fn spawn(m: &Machine, stderr: &std::fs::File) -> Result<Group, StartQemuError> {
    let mut cmd = command(m);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr.try_clone().map_err(StartQemuError::Temp)?);
    die_with_caller(&mut cmd);
    Group::spawn(&mut cmd).map_err(|source| StartQemuError::Spawn {
        path: m.qemu.clone(),
        source,
    })
}

/// Reads the console until qemu ends or a timeout passes.
fn follow(
    rx: &mpsc::Receiver<String>,
    watch: Watch,
    start: Instant,
    booted_after: &mut Option<Duration>,
) -> (Console, Option<Ending>) {
    let mut console = Console::default();
    let boot_deadline = start + watch.boot;
    loop {
        let wait = if console.ready {
            watch.silence
        } else {
            boot_deadline.saturating_duration_since(Instant::now())
        };
        match rx.recv_timeout(wait) {
            Ok(line) => {
                console.feed(&line);
                if console.ready && booted_after.is_none() {
                    *booted_after = Some(start.elapsed());
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return (console, None),
            Err(mpsc::RecvTimeoutError::Timeout) if console.ready => {
                return (console, Some(Ending::Silent(watch.silence)))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return (console, Some(Ending::BootTimeout(watch.boot)))
            }
        }
    }
}

/// Boots `machine` and watches it until it ends.
pub fn boot(machine: &Machine, watch: Watch) -> Result<Boot, StartQemuError> {
    let start = Instant::now();
    let mut err_file = tempfile::tempfile().map_err(StartQemuError::Temp)?;
    let mut qemu = spawn(machine, &err_file)?;
    let stdout = qemu.child().stdout.take();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let Some(out) = stdout else { return };
        for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
            if tx
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let mut booted_after = None;
    let (mut console, timed_out) = follow(&rx, watch, start, &mut booted_after);
    // Whatever happened, nothing of qemu outlives this call.
    let status = qemu.end();
    let _ = reader.join();
    for line in rx.try_iter() {
        console.feed(&line);
    }
    let mut stderr = String::new();
    let _ = err_file.rewind();
    let _ = err_file.take(64 << 10).read_to_string(&mut stderr);
    let ending = match (timed_out, status) {
        (Some(t), _) => t,
        (None, Ok(s)) => Ending::Exited(s),
        (None, Err(_)) => Ending::Silent(Duration::ZERO),
    };
    Ok(Boot {
        console,
        booted_after,
        ending,
        stderr,
        duration: start.elapsed(),
    })
}
