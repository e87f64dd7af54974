//! The host target: run the probe on this machine's kernel, in its own
//! process group, with a timeout; kill the whole group when it is over.

use std::collections::BTreeSet;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{spawner, ProbeError, ProbeRun};
use crate::plan::{Outcome, Plan};
use crate::sys::command;

/// The default time a trial may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The largest file a probe and its processes may write (its output included).
pub const MAX_FILE: u64 = 64 << 20;

/// The most of a probe's output that is kept.
const MAX_OUTPUT: u64 = 16 << 20;

/// The probe's first argument when the harness starts it, followed by the
/// harness's pid: the probe then arms its death signal and its file-size
/// limit, and empties its signal mask, before anything else (see
/// `nsconform-probe`'s `supervised`).
pub const SUPERVISED_ARG: &str = "--supervised-by";

/// Start the trial's probe process through this thread's spawner (see
/// `target::spawner`): a fork of a probe started once, not an exec, the
/// leader of a new process group, killed if the spawner dies, which dies
/// with the harness. Its standard input is a file holding the plan, so
/// that a probe that never reads it cannot block the harness before the
/// timeout runs.
///
/// The harness never forks itself: it starts the spawner with posix_spawn
/// (clone with CLONE_VM and CLONE_VFORK), so its address space is never
/// copied, whatever its size. What a `pre_exec` would do the spawner does
/// first thing, told by [`SUPERVISED_ARG`]: it arms PR_SET_PDEATHSIG, then
/// checks that its parent is still the pid it was given (a harness that
/// died before that is seen there), sets RLIMIT_FSIZE to [`MAX_FILE`], and
/// unblocks the signals the harness blocks in its threads (SIGINT, SIGTERM:
/// `Command` hands the mask on), before it opens or writes anything. Each
/// trial's process inherits the limit and the mask, and arms its own death
/// signal.
fn spawn(
    probe: &Path,
    stand_in: Option<&Path>,
    plan: &std::fs::File,
    stdout: &std::fs::File,
    stderr: &std::fs::File,
) -> std::io::Result<spawner::Trial> {
    spawner::start(
        probe,
        stand_in,
        [plan.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()],
    )
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
    command::kill_group(pgid);
}

/// What the probe wrote into `file`, read in one go: the buffer is sized
/// from the file's length first (growing it by doubling cost a tenth of the
/// harness's time with the probe's outputs).
fn read_bytes(file: &mut std::fs::File) -> Vec<u8> {
    let len = file.metadata().map_or(0, |m| m.len()).min(MAX_OUTPUT);
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let _ = file.rewind();
    let _ = file.take(MAX_OUTPUT).read_to_end(&mut bytes);
    bytes
}

/// [`read_bytes`] as text, any bad UTF-8 replaced.
fn read_back(file: &mut std::fs::File) -> String {
    let bytes = read_bytes(file);
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Run `plan` through the probe at `probe` (or through `stand_in`, a
/// program run in its place), for at most `timeout`.
pub fn run(probe: &Path, stand_in: Option<&Path>, plan: &Plan, timeout: Duration) -> ProbeRun {
    let start = Instant::now();
    let (outcome, stderr) = match run_inner(probe, stand_in, plan, timeout) {
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

/// An anonymous file in memory (memfd): no filesystem is touched to make
/// it, and it is gone with its last descriptor. The probe's RLIMIT_FSIZE
/// bounds what it may write there like into any file.
fn temp(what: &'static str) -> Result<std::fs::File, ProbeError> {
    rustix::fs::memfd_create(what, rustix::fs::MemfdFlags::CLOEXEC)
        .map(std::fs::File::from)
        .map_err(|e| ProbeError::TempFile {
            what: "make a file in memory",
            cause: e.into(),
        })
}

fn run_inner(
    probe: &Path,
    stand_in: Option<&Path>,
    plan: &Plan,
    timeout: Duration,
) -> Result<Answer, ProbeError> {
    let mut out = temp("nsconform-stdout")?;
    let mut err = temp("nsconform-stderr")?;
    let text = serde_json::to_vec(plan).map_err(ProbeError::Encode)?;
    let mut input = temp("nsconform-plan")?;
    input
        .write_all(&text)
        .and_then(|()| input.rewind())
        .map_err(|cause| ProbeError::TempFile {
            what: "write the plan",
            cause,
        })?;
    let group = spawn(probe, stand_in, &input, &out, &err).map_err(|cause| ProbeError::Spawn {
        path: probe.to_path_buf(),
        cause,
    })?;
    let pgid = group.pgid();
    let finished = register(pgid) && group.wait_for(timeout);
    let status = group.end().map_err(ProbeError::Wait);
    if plan.door.is_runtime() {
        crate::door::runtime::sweep(pgid as u32);
    }
    let stopping = unregister(pgid);
    let status = status?;
    let stdout = read_bytes(&mut out);
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
    // Parsed from the bytes as they are: serde_json checks the UTF-8 of
    // the strings it reads, and nothing is copied into a String first.
    let outcome = serde_json::from_slice::<Outcome>(&stdout).map_err(|cause| {
        let shown: String = String::from_utf8_lossy(&stdout).chars().take(300).collect();
        ProbeError::BadOutput { cause, shown }
    });
    Ok((outcome, stderr))
}
