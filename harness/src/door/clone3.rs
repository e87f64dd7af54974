//! The clone3 door: clone3(2) with the CLONE_NEW* flags (CLONE_NEWTIME
//! included); the child is `inside`.

use nix::errno::Errno;
use nix::unistd::Pid;

use super::Ctx;
use crate::probe::fork::Forked;

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

/// Fork-like clone3(2): no new stack, exit signal SIGCHLD.
fn raw_clone3(flags: u64) -> Result<Forked, Errno> {
    let args = CloneArgs {
        flags,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    let size = std::mem::size_of::<CloneArgs>();
    // SAFETY: `args` is a valid clone_args of `size` bytes that outlives the
    // call; with no stack the child runs on a copy of ours, as after fork(2),
    // which is sound in the single-threaded probe.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, size) };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as i32))),
    }
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    super::spawn(ctx, "clone3", raw_clone3)
}
