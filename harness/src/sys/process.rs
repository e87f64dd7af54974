//! The probe's processes: forking (the child dies with its parent and drops
//! the descriptors that belong to the parent alone), leaving, and reaping.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Which side of a fork the caller is on.
pub enum Forked {
    Parent(Pid),
    Child,
}

/// Arrange, in a freshly forked child, to be killed when the parent dies and
/// close `parent_only`.
pub fn child_setup(parent_only: &[RawFd]) {
    rearm_deathsig();
    drop_inherited(parent_only);
}

/// In a forked child: close this process's copies of descriptors another
/// process of the probe owns (the ends of its pipes the child must not keep
/// open), by number. The only place that closes a descriptor by hand.
pub fn drop_inherited(fds: &[RawFd]) {
    for fd in fds {
        // SAFETY: closing a descriptor number this process holds a copy of;
        // nothing else in the single-threaded child refers to it.
        unsafe { libc::close(*fd) };
    }
}

/// Arrange again to be killed with the parent: the kernel forgets this when
/// a process changes its uids or gids, so a step does it after setresuid.
pub fn rearm_deathsig() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes plain integers and touches no memory.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
}

/// fork(2), with [`child_setup`] done in the child.
pub fn fork(parent_only: &[RawFd]) -> Result<Forked, Errno> {
    let forked = fork_outliving()?;
    if let Forked::Child = forked {
        child_setup(parent_only);
    }
    Ok(forked)
}

/// fork(2) with nothing arranged in the child: for a process that must
/// outlive its parent (the cgroup guardian, which cleans up after it).
pub fn fork_outliving() -> Result<Forked, Errno> {
    // SAFETY: the probe is single-threaded, so the child is a complete copy
    // and may go on running ordinary code.
    match unsafe { libc::fork() } {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid))),
    }
}

/// Leave the process at once with `code`, running no destructors or atexit
/// handlers that belong to the parent's copy of the state.
pub fn exit(code: i32) -> ! {
    // SAFETY: _exit ends the process; it never returns and touches no memory.
    unsafe { libc::_exit(code) }
}

/// pidfd_open(2): a descriptor that becomes readable when `pid` ends.
pub fn pidfd_open(pid: libc::pid_t) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// How a child ended, in words, or `None` when it exited with 0.
pub fn reap(pid: Pid) -> Option<String> {
    loop {
        match waitpid(pid, Some(WaitPidFlag::__WALL)) {
            Ok(WaitStatus::Exited(_, 0)) => return None,
            Ok(WaitStatus::Exited(_, code)) => return Some(format!("exited with status {code}")),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Some(format!("killed by {sig}")),
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(e) => return Some(format!("could not be waited for: {e}")),
        }
    }
}

/// A child's end, watched through a pidfd where the kernel has them
/// (5.3 and later): one descriptor to wait on while reading what the child
/// writes, and then to reap it by.
pub struct Ending {
    pid: Pid,
    fd: Option<OwnedFd>,
}

impl Ending {
    pub fn watch(pid: Pid) -> Ending {
        Ending {
            pid,
            fd: pidfd_open(pid.as_raw()).ok(),
        }
    }

    /// The pidfd, readable once the child has ended.
    pub fn fd(&self) -> Option<RawFd> {
        self.fd.as_ref().map(|fd| fd.as_raw_fd())
    }

    /// Wait for the child (whatever its exit signal) until `deadline`,
    /// sleeping in poll(2) on the pidfd. Past the deadline the child is
    /// killed and reaped, and the answer is `None`. Without a pidfd the
    /// wait is not bounded here: the harness's timeout kills the probe.
    pub fn reap_by(self, deadline: std::time::Instant) -> Option<WaitStatus> {
        let ended = self
            .fd()
            .is_none_or(|fd| super::pipe::readable_by(fd, deadline));
        if !ended {
            let _ = nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGKILL);
        }
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::__WALL)) {
                Err(Errno::EINTR) => continue,
                Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) if ended => {
                    return Some(status)
                }
                Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }
}

/// Wait for the child `pid` until `deadline`, as [`Ending::reap_by`].
pub fn reap_within(pid: Pid, deadline: std::time::Instant) -> Option<WaitStatus> {
    Ending::watch(pid).reap_by(deadline)
}

/// Reap every child of the caller (and every process reparented to it, as
/// to the init of a pid namespace) until none is left or `deadline`
/// passes, sleeping on a signalfd for SIGCHLD in between; whether none is
/// left. SIGCHLD stays blocked in the caller afterwards.
pub fn reap_children_within(deadline: std::time::Instant) -> bool {
    use nix::sys::signal::{SigSet, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use std::os::fd::AsFd;
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    if mask.thread_block().is_err() {
        return false;
    }
    let Ok(sfd) = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
    else {
        return false;
    };
    let any = Pid::from_raw(-1);
    loop {
        match waitpid(any, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            Err(Errno::ECHILD) => return true,
            Err(Errno::EINTR) | Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => {}
            Ok(WaitStatus::StillAlive) => {
                if !super::pipe::readable_by(sfd.as_fd().as_raw_fd(), deadline) {
                    return false;
                }
                let _ = sfd.read_signal();
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_child_that_ends_is_reaped_with_its_status() {
        let pid = match fork(&[]).expect("a fork") {
            Forked::Child => exit(7),
            Forked::Parent(pid) => pid,
        };
        let ending = Ending::watch(pid);
        assert!(ending.fd().is_some(), "a pidfd on this kernel");
        let deadline = Instant::now() + Duration::from_secs(20);
        assert_eq!(ending.reap_by(deadline), Some(WaitStatus::Exited(pid, 7)));
    }

    #[test]
    fn a_child_past_the_deadline_is_killed_and_reaped() {
        use super::super::pipe;
        // The child waits on a pipe no one writes; were it not killed, it
        // would say so on `told` when its own wait ends.
        let (never_r, never_w) = pipe::owned().expect("a pipe");
        let (told_r, told_w) = pipe::owned().expect("a pipe");
        let pid = match fork(&[told_r.as_raw_fd()]).expect("a fork") {
            Forked::Child => {
                let own_wait = Instant::now() + Duration::from_secs(10);
                pipe::readable_by(never_r.as_raw_fd(), own_wait);
                let _ = pipe::write_all(told_w.as_raw_fd(), b"not killed");
                exit(0)
            }
            Forked::Parent(pid) => pid,
        };
        drop(told_w);
        assert_eq!(reap_within(pid, Instant::now()), None);
        assert_eq!(
            pipe::read_to_end(told_r.as_raw_fd()).map(String::from_utf8),
            Ok(Ok(String::new())),
            "the child ended by itself"
        );
        // Reaped: the pid is no child of ours any more.
        assert_eq!(
            waitpid(pid, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)),
            Err(Errno::ECHILD)
        );
        drop(never_w);
    }
}
