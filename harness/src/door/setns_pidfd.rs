//! The setns-pidfd door: one setns(2) call with a pidfd of the holder and
//! all the namespace flags at once (Linux 5.8 and later).

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::holder::{self, Holder};
use super::Ctx;

fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn join(ctx: &Ctx, holder: &Holder) -> bool {
    let pidfd = match pidfd_open(holder.target) {
        Ok(fd) => fd,
        Err(e) => {
            ctx.door_failed("joiner", "pidfd_open", e);
            return false;
        }
    };
    let flags = CloneFlags::from_bits_retain(ctx.plan.namespaces.flags() as i32);
    match nix::sched::setns(&pidfd, flags) {
        Ok(()) => true,
        Err(e) => {
            ctx.door_failed("joiner", "setns(pidfd)", e);
            false
        }
    }
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    holder::with_joiner(ctx, ctx.plan.namespaces.needs_child(), join)
}
