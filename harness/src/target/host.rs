//! The host target: run the probe on this machine's kernel, in its own
//! process group, with a timeout; kill the whole group when it is over.

use std::collections::BTreeSet;
use std::io::{Read, Seek, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{ProbeError, ProbeRun};
use crate::plan::{Outcome, Plan};

/// The default time a trial may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest file a probe and its processes may write (its output included).
const MAX_FILE: libc::rlim_t = 64 << 20;

/// The most of a probe's output that is kept.
const MAX_OUTPUT: u64 = 16 << 20;

/// Start the probe in a new process group, killed if the harness dies.
/// Its standard input is a file holding the plan, so that a probe that never
/// reads it cannot block the harness before the timeout runs.
fn spawn(
    probe: &Path,
    plan: std::fs::File,
    stdout: &std::fs::File,
    stderr: &std::fs::File,
) -> std::io::Result<Child> {
    let mut cmd = Command::new(probe);
    cmd.stdin(Stdio::from(plan))
        .stdout(stdout.try_clone()?)
        .stderr(stderr.try_clone()?)
        .process_group(0);
    // SAFETY: the closure runs between fork and exec and calls only prctl and
    // setrlimit, which are async-signal-safe.

    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            );
            // A runaway probe may not fill the disk through its output files.
            let limit = libc::rlimit {
                rlim_cur: MAX_FILE,
                rlim_max: MAX_FILE,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    cmd.spawn()
}

/// Wait for `child` until `timeout`; `false` when it is still running.
fn wait_until(child: &Child, timeout: Duration) -> bool {
    let pid = rustix::process::Pid::from_raw(child.id() as i32);
    let Some(pid) = pid else { return true };
    let Ok(fd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) else {
        return true;
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [rustix::event::PollFd::new(
            &fd,
            rustix::event::PollFlags::IN,
        )];
        let ts = rustix::time::Timespec::try_from(left).unwrap_or_default();
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return true,
        }
    }
}

/// The process groups of the probes running now, so that a stopped run can
/// kill them all; and whether the run is stopping (no probe may start then).
static LIVE: Mutex<(BTreeSet<i32>, bool)> = Mutex::new((BTreeSet::new(), false));

fn live() -> std::sync::MutexGuard<'static, (BTreeSet<i32>, bool)> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Note a started probe's group; kill it at once when the run is stopping.
/// Returns whether it may run.
fn register(pgid: i32) -> bool {
    let mut live = live();
    if live.1 {
        kill_group(pgid);
        return false;
    }
    live.0.insert(pgid);
    true
}

/// Forget a probe's group once it is reaped; returns whether the run is stopping.
fn unregister(pgid: i32) -> bool {
    let mut live = live();
    live.0.remove(&pgid);
    live.1
}

/// Stop the run: kill the group of every probe running now, and of every
/// probe that starts from now on. Each one is still reaped by the thread
/// that started it.
pub fn stop_all() {
    let mut live = live();
    live.1 = true;
    for pgid in &live.0 {
        kill_group(*pgid);
    }
}

/// Kill the probe's process group (the probe and every descendant that did
/// not leave it; those that did die with their parent or their pid
/// namespace's init).
fn kill_group(pgid: i32) {
    let pgid = nix::unistd::Pid::from_raw(pgid);
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
}

fn read_back(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(MAX_OUTPUT).read_to_string(&mut text);
    text
}

/// Run `plan` through the probe at `probe`, for at most `timeout`.
pub fn run(probe: &Path, plan: &Plan, timeout: Duration) -> ProbeRun {
    let start = Instant::now();
    let (outcome, stderr) = match run_inner(probe, plan, timeout) {
        Ok(answer) => answer,
        Err(e) => (Err(e), String::new()),
    };
    ProbeRun {
        outcome,
        stderr,
        duration: start.elapsed(),
    }
}

type Answer = (Result<Outcome, ProbeError>, String);

fn temp(what: &'static str) -> Result<std::fs::File, ProbeError> {
    tempfile::tempfile().map_err(|cause| ProbeError::TempFile { what, cause })
}

fn run_inner(probe: &Path, plan: &Plan, timeout: Duration) -> Result<Answer, ProbeError> {
    let mut out = temp("make a temporary file")?;
    let mut err = temp("make a temporary file")?;
    let text = serde_json::to_vec(plan).map_err(ProbeError::Encode)?;
    let mut input = temp("make a temporary file")?;
    input
        .write_all(&text)
        .and_then(|()| input.rewind())
        .map_err(|cause| ProbeError::TempFile {
            what: "write the plan",
            cause,
        })?;
    let mut child = spawn(probe, input, &out, &err).map_err(|cause| ProbeError::Spawn {
        path: probe.to_path_buf(),
        cause,
    })?;
    let pgid = child.id() as i32;
    let finished = register(pgid) && wait_until(&child, timeout);
    kill_group(pgid);
    let status = child.wait().map_err(ProbeError::Wait);
    if plan.door.is_runtime() {
        crate::door::runtime::sweep(child.id());
    }
    let stopping = unregister(pgid);
    let status = status?;
    let stdout = read_back(&mut out);
    let stderr = read_back(&mut err);
    if stopping {
        return Ok((Err(ProbeError::Interrupted), stderr));
    }
    if !finished {
        return Ok((Err(ProbeError::Timeout(timeout)), stderr));
    }
    if let Some(signal) = status.signal() {
        let name = nix::sys::signal::Signal::try_from(signal)
            .map(|s| s.as_str())
            .unwrap_or("?");
        return Ok((Err(ProbeError::Signal { signal, name }), stderr));
    }
    let outcome = serde_json::from_str::<Outcome>(&stdout).map_err(|cause| {
        let shown: String = stdout.chars().take(300).collect();
        ProbeError::BadOutput { cause, shown }
    });
    Ok((outcome, stderr))
}
