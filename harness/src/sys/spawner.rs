//! The spawner: a probe process the harness starts once per job, that
//! starts each trial's probe process by forking itself, so that no trial
//! pays for an exec and a program's start. It forks each trial's process
//! ahead of the trial (`sys::spare`: the spare, forked while the last trial
//! runs), and the spare takes the request. The harness asks over a Unix
//! socket (the spawner's standard input), one trial at a time:
//!
//! - `run`: [`RUN`], then the path of a program to run in the probe's
//!   place (empty: the probe itself), with three descriptors: the plan,
//!   and the files for standard output and error. The spare, the leader
//!   of a process group of its own, answers [`STARTED`] and its pid, and
//!   becomes the trial's process.
//! - Once the trial's process has ended, the spawner kills what is left of
//!   its group and answers, unasked, [`ENDED`] and its wait status. It
//!   reaps the process only when the harness asks for the next trial (or
//!   hangs up): until then its pid names the group still, so the harness
//!   may kill the group by that id at any moment (on a timeout, or when
//!   the run is stopped).
//!
//! The trial's process dies with the spawner, which dies with the harness
//! (the spawner is started `--supervised-by` it); the file-size limit and
//! the empty signal mask the spawner set are inherited. When the harness
//! hangs up, the spare leaves, and the spawner reaps what it started and
//! leaves.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::fdpass;
use super::spare::{Spare, Taken, Work};

/// The probe's argument that makes it a spawner.
pub const SPAWNER_ARG: &str = "--spawner";

/// A request: run a trial.
pub const RUN: u8 = b'r';
/// An answer: the trial's process started, its pid follows.
pub const STARTED: u8 = b'p';
/// An answer: the trial could not be started, the errno follows.
pub const FAILED: u8 = b'e';
/// An answer, sent unasked: the trial's process ended and what was left of
/// its group was killed; its wait status follows.
pub const ENDED: u8 = b's';

/// The longest request: a tag and a path.
pub const MAX_REQUEST: usize = 4097;

/// An answer: a tag and a number.
pub fn answer(tag: u8, value: i32) -> [u8; 5] {
    let mut out = [tag, 0, 0, 0, 0];
    out[1..].copy_from_slice(&value.to_ne_bytes());
    out
}

/// The tag and number of an answer.
pub fn read_answer(bytes: &[u8]) -> Option<(u8, i32)> {
    let number: [u8; 4] = bytes.get(1..5)?.try_into().ok()?;
    Some((*bytes.first()?, i32::from_ne_bytes(number)))
}

/// Serve the harness on `sock` until it hangs up: each trial's process
/// does `work` (or execs the program the harness named). Returns the
/// spawner's exit code.
pub fn serve(sock: &OwnedFd, work: &Work) -> i32 {
    let mut last: Option<Pid> = None;
    let mut spare = None;
    // A spare is forked here at the start, and after one was lost (or
    // could not be forked while the last trial ran).
    while let Some(waiting) = spare.take().or_else(|| Spare::fork(sock, work).ok()) {
        let pid = match waiting.taken() {
            Taken::Trial(pid) => pid,
            Taken::Lost => continue,
            Taken::HungUp => break,
        };
        // The harness asked for a trial: it heard the last one end, and
        // that one's group may go.
        if let Some(last) = last.take() {
            wait_status(last);
        }
        spare = Spare::fork(sock, work).ok();
        let told = trial(sock, pid);
        last = Some(pid);
        if !told {
            break;
        }
    }
    // The harness hung up: a spare still waiting leaves at the end of its
    // socket.
    if let Some(waiting) = spare {
        let _ = waiting.taken();
    }
    if let Some(pid) = last {
        wait_status(pid);
    }
    0
}

/// Once the trial's process `pid` ended, kill what is left of its group
/// and tell the harness how it ended; it is reaped only once the harness
/// asks for its next trial (or hangs up). False when the harness is gone.
fn trial(sock: &OwnedFd, pid: Pid) -> bool {
    let status = ended(pid);
    let _ = killpg(pid, Signal::SIGKILL);
    fdpass::send(sock.as_raw_fd(), &answer(ENDED, status), &[]).is_ok()
}

/// Wait for `pid` to end, leaving it unreaped: its raw wait status.
fn ended(pid: Pid) -> i32 {
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    loop {
        match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::Exited(_, code)) => return (code & 0xff) << 8,
            Ok(WaitStatus::Signaled(_, sig, core)) => {
                return sig as i32 | if core { 0x80 } else { 0 }
            }
            Err(Errno::EINTR) | Ok(_) => continue,
            // Not a child to wait for: say it was killed, never that it
            // ended well.
            Err(_) => return libc::SIGKILL,
        }
    }
}

/// Reap `pid`, a child of the caller: its raw wait status.
pub fn wait_status(pid: Pid) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into the live local `status`.
        let r = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if r >= 0 || Errno::last() != Errno::EINTR {
            return status;
        }
    }
}
