//! The spawner: a probe process the harness starts once per job, that
//! starts each trial's probe process by forking itself, so that no trial
//! pays for an exec and a program's start. The harness asks over a Unix
//! socket (the spawner's standard input), one trial at a time:
//!
//! - `run`: [`RUN`], then the path of a program to run in the probe's
//!   place (empty: the probe itself), with three descriptors: the plan,
//!   and the files for standard output and error. The spawner forks the
//!   trial's process, the leader of a process group of its own, and
//!   answers [`STARTED`] and its pid.
//! - `end`: [`END`], once the harness has waited for the trial (and
//!   killed its group). The spawner reaps it and answers [`ENDED`] and its
//!   wait status.
//!
//! The trial's process dies with the spawner, which dies with the harness
//! (the spawner is started `--supervised-by` it); the file-size limit and
//! the empty signal mask the spawner set are inherited. When the harness
//! hangs up, the spawner kills what it started and leaves.

use std::ffi::{CString, OsStr};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::{getppid, setpgid, Pid};

use super::fdpass;
use super::process::{self, Forked};

/// The probe's argument that makes it a spawner.
pub const SPAWNER_ARG: &str = "--spawner";

/// A request: run a trial.
pub const RUN: u8 = b'r';
/// A request: the trial is over, reap it.
pub const END: u8 = b'k';
/// An answer: the trial's process started, its pid follows.
pub const STARTED: u8 = b'p';
/// An answer: the trial could not be started, the errno follows.
pub const FAILED: u8 = b'e';
/// An answer: the trial's process was reaped, its wait status follows.
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
/// runs `carry_out` (the probe's work on the plan on its standard input,
/// giving its exit code) or execs the program the harness named. Returns
/// the spawner's exit code.
pub fn serve(sock: &OwnedFd, carry_out: &dyn Fn() -> i32) -> i32 {
    let me = nix::unistd::getpid();
    let mut buf = [0u8; MAX_REQUEST];
    loop {
        let (n, fds) = match fdpass::recv(sock, &mut buf) {
            Ok((0, _)) | Err(_) => return 0,
            Ok(got) => got,
        };
        let (RUN, Ok(fds)) = (buf[0], <[OwnedFd; 3]>::try_from(fds)) else {
            let _ = fdpass::send(sock.as_raw_fd(), &answer(FAILED, Errno::EPROTO as i32), &[]);
            continue;
        };
        let program = OsStr::from_bytes(&buf[1..n]);
        let pid = match start(sock, fds, me, program, carry_out) {
            Ok(pid) => pid,
            Err(e) => {
                let _ = fdpass::send(sock.as_raw_fd(), &answer(FAILED, e as i32), &[]);
                continue;
            }
        };
        if !trial(sock, pid) {
            return 0;
        }
    }
}

/// Tell the harness that `pid` started, wait for its `end`, reap the
/// trial and tell its status; false when the harness hung up (the trial's
/// group is killed and reaped then).
fn trial(sock: &OwnedFd, pid: Pid) -> bool {
    let told = fdpass::send(sock.as_raw_fd(), &answer(STARTED, pid.as_raw()), &[]).is_ok();
    let mut buf = [0u8; 1];
    let ended = told && matches!(fdpass::recv(sock, &mut buf), Ok((1, _)) if buf[0] == END);
    if !ended {
        let _ = killpg(pid, Signal::SIGKILL);
    }
    let status = wait_status(pid);
    ended && fdpass::send(sock.as_raw_fd(), &answer(ENDED, status), &[]).is_ok()
}

/// Reap `pid`: its raw wait status.
fn wait_status(pid: Pid) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into the live local `status`.
        let r = unsafe { libc::waitpid(pid.as_raw(), &mut status, 0) };
        if r >= 0 || Errno::last() != Errno::EINTR {
            return status;
        }
    }
}

/// Fork the trial's process, the leader of a new process group (set by
/// both sides of the fork, so that the group exists before the harness
/// hears the pid).
fn start(
    sock: &OwnedFd,
    fds: [OwnedFd; 3],
    spawner: Pid,
    program: &OsStr,
    carry_out: &dyn Fn() -> i32,
) -> Result<Pid, Errno> {
    match process::fork(&[sock.as_raw_fd()])? {
        Forked::Child => become_trial(fds, spawner, program, carry_out),
        Forked::Parent(pid) => {
            let _ = setpgid(pid, pid);
            Ok(pid)
        }
    }
}

/// In the trial's process: lead a group of its own, die with the spawner,
/// take the three descriptors as standard input, output and error, and
/// carry the plan out (or exec the program named).
fn become_trial(
    fds: [OwnedFd; 3],
    spawner: Pid,
    program: &OsStr,
    carry_out: &dyn Fn() -> i32,
) -> ! {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // Checked after the death signal was armed (by the fork): a spawner
    // that died before is no longer the parent.
    if getppid() != spawner {
        process::exit(3);
    }
    for (target, fd) in fds.iter().enumerate() {
        if dup_onto(fd.as_raw_fd(), target as RawFd).is_err() {
            process::exit(2);
        }
    }
    drop(fds);
    if !program.is_empty() {
        exec(program);
    }
    let code = carry_out();
    let _ = std::io::stdout().flush();
    process::exit(code)
}

/// dup2(2): `fd` again as `target`, kept across exec.
fn dup_onto(fd: RawFd, target: RawFd) -> Result<(), Errno> {
    // SAFETY: dup2 takes two descriptor numbers; `target` is one of the
    // standard streams, which this process replaces on purpose.
    Errno::result(unsafe { libc::dup2(fd, target) }).map(drop)
}

/// Exec `program` with no arguments, SIGPIPE back to its default (Rust's
/// start ignores it, and an ignored signal stays so across exec); leave
/// with 127 if that fails.
fn exec(program: &OsStr) -> ! {
    use nix::sys::signal::{signal, SigHandler};
    // SAFETY: SIG_DFL is no handler, so no code of ours can run in one.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    if let Ok(path) = CString::new(program.as_bytes()) {
        let _ = nix::unistd::execv(&path, &[&path]);
    }
    eprintln!("nsconform-probe: cannot run {}", program.to_string_lossy());
    process::exit(127)
}
