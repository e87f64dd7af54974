//! The one wrapper of clone(2) and clone3(2), used fork-like: no new stack,
//! so the child runs on a copy of the caller's, which is sound in the
//! single-threaded probe.

use nix::errno::Errno;
use nix::unistd::Pid;

use super::process::Forked;

/// clone3's flag to start the child in a given cgroup (Linux 5.7).
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args`, as of Linux 5.7 (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Debug, Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

impl CloneArgs {
    /// Arguments with `flags` and the exit signal SIGCHLD.
    pub fn new(flags: u64) -> CloneArgs {
        CloneArgs {
            flags,
            exit_signal: libc::SIGCHLD as u64,
            ..Default::default()
        }
    }

    /// Choose the child's pids, one per pid namespace level (none: the
    /// kernel chooses).
    pub fn with_set_tid(mut self, tids: &[i32]) -> CloneArgs {
        // A pointer with a size of 0 is refused (EINVAL): none then.
        if !tids.is_empty() {
            self.set_tid = tids.as_ptr() as u64;
            self.set_tid_size = tids.len() as u64;
        }
        self
    }

    /// Start the child in the cgroup of the directory `fd`.
    pub fn into_cgroup(mut self, fd: std::os::fd::RawFd) -> CloneArgs {
        self.flags |= CLONE_INTO_CGROUP;
        self.cgroup = fd as u64;
        self
    }
}

fn forked(ret: libc::c_long) -> Result<Forked, Errno> {
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as i32))),
    }
}

/// clone3(2) with `args`. Whatever `set_tid` points to must outlive the call.
pub fn clone3(args: &CloneArgs) -> Result<Forked, Errno> {
    let size = std::mem::size_of::<CloneArgs>();
    // SAFETY: `args` is a valid clone_args of `size` bytes that outlives the
    // call, as does the `set_tid` array it may point to (read only); with no
    // stack the child runs on a copy of ours, as after fork(2).
    forked(unsafe { libc::syscall(libc::SYS_clone3, args as *const CloneArgs, size) })
}

/// clone(2) with `flags` (the low byte is the exit signal: none given
/// means no signal at all, so callers usually add SIGCHLD).
pub fn clone(flags: u64) -> Result<Forked, Errno> {
    // SAFETY: with a null stack clone(2) behaves like fork(2), which is
    // sound in the single-threaded probe; the other arguments are unused.
    forked(unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) })
}

/// Whether clone3 exists: clone3(NULL, 0) fails with EINVAL where it does,
/// ENOSYS where not; it creates nothing either way.
pub fn clone3_exists() -> bool {
    // SAFETY: a null pointer with size 0 is rejected before anything is read.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
    ret == -1 && Errno::last() != Errno::ENOSYS
}
