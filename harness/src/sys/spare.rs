//! The spawner's spare: the next trial's process, forked by the spawner
//! ahead of its trial (while the last trial runs). It takes the trial's
//! request and descriptors from the harness's socket itself and answers
//! it, so that neither a fork, nor the start of a process, nor a wakeup
//! of the spawner is on the trial's path; before it waits it does the
//! work that needs no plan ([`Work::ready`]). Only one process reads the
//! harness's socket at a time: the spawner never does, and it forks the
//! next spare only once the last one took its trial.

use std::ffi::{CString, OsStr};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::{getppid, setpgid, Pid};

use super::process::{self, Forked};
use super::spawner::{answer, wait_status, FAILED, MAX_REQUEST, RUN, STARTED};
use super::{fdpass, pipe};

/// What a trial's process does.
pub struct Work<'a> {
    /// Done by the spare before it waits: what needs no plan.
    pub ready: &'a dyn Fn(),
    /// The probe's work on the plan on its standard input: the exit code.
    pub carry_out: &'a dyn Fn() -> i32,
}

/// A spare: its pid, and the read end of the pipe on which it says that
/// it took a trial.
pub struct Spare {
    pid: Pid,
    taken: OwnedFd,
}

/// What a spare writes once it took a trial.
const TAKEN: u8 = b't';

impl Spare {
    /// Fork the spare, the leader of a new process group (set by both
    /// sides of the fork, so that the group exists before the harness
    /// hears the pid). It reads the harness's socket `harness` itself.
    pub fn fork(harness: &OwnedFd, work: &Work) -> Result<Spare, Errno> {
        let spawner = nix::unistd::getpid();
        let (taken, tell) = pipe::owned()?;
        match process::fork(&[taken.as_raw_fd()])? {
            Forked::Child => wait_for_trial(harness, tell, spawner, work),
            Forked::Parent(pid) => {
                let _ = setpgid(pid, pid);
                Ok(Spare { pid, taken })
            }
        }
    }

    /// Wait until the spare took a trial or left (it is reaped then).
    pub fn taken(self) -> Taken {
        if pipe::read_to_end(self.taken.as_raw_fd()).is_ok_and(|b| b == [TAKEN]) {
            return Taken::Trial(self.pid);
        }
        match wait_status(self.pid) {
            0 => Taken::HungUp,
            _ => Taken::Lost,
        }
    }
}

/// What became of a spare.
pub enum Taken {
    /// It took a trial, and is its process now.
    Trial(Pid),
    /// It left because the harness hung up.
    HungUp,
    /// It died before it took a trial (killed from outside).
    Lost,
}

/// In the spare: lead a group of its own, die with the spawner, get
/// ready, wait for a trial's request and descriptors on the harness's
/// socket (leave when the harness hangs up), answer [`STARTED`], tell the
/// spawner on `tell`, then become the trial's process.
fn wait_for_trial(harness: &OwnedFd, tell: OwnedFd, spawner: Pid, work: &Work) -> ! {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // Checked after the death signal was armed (by the fork): a spawner
    // that died before is no longer the parent.
    if getppid() != spawner {
        process::exit(3);
    }
    (work.ready)();
    let mut buf = [0u8; MAX_REQUEST];
    let (n, fds) = request(harness, &mut buf);
    let me = nix::unistd::getpid().as_raw();
    if fdpass::send(harness.as_raw_fd(), &answer(STARTED, me), &[]).is_err() {
        process::exit(0);
    }
    let _ = pipe::write_all(tell.as_raw_fd(), &[TAKEN]);
    drop(tell);
    process::drop_inherited(&[harness.as_raw_fd()]);
    become_trial(fds, OsStr::from_bytes(&buf[1..n]), work.carry_out)
}

/// The next well-formed request on `harness` (a malformed one is answered
/// [`FAILED`]): its length and descriptors. Leaves when the harness hangs
/// up. The harness's socket stays open meanwhile, so the descriptors that
/// come are never the standard streams they are to replace.
fn request(harness: &OwnedFd, buf: &mut [u8; MAX_REQUEST]) -> (usize, [OwnedFd; 3]) {
    loop {
        let (n, fds) = match fdpass::recv(harness, buf) {
            Ok((0, _)) | Err(_) => process::exit(0),
            Ok(got) => got,
        };
        match (buf[0], <[OwnedFd; 3]>::try_from(fds)) {
            (RUN, Ok(fds)) => return (n, fds),
            _ => {
                let refused = answer(FAILED, Errno::EPROTO as i32);
                let _ = fdpass::send(harness.as_raw_fd(), &refused, &[]);
            }
        }
    }
}

/// In the trial's process: take the three descriptors as standard input,
/// output and error, and carry the plan out (or exec the program named).
fn become_trial(fds: [OwnedFd; 3], program: &OsStr, carry_out: &dyn Fn() -> i32) -> ! {
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
