//! The setns-pidfd door: one setns(2) call with a pidfd of the holder and
//! all the namespace flags at once (Linux 5.8 and later).

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::holder::{self, Holder};
use super::Ctx;

fn join(ctx: &Ctx, holder: &Holder) -> bool {
    let pidfd = match crate::sys::process::pidfd_open(holder.target.as_raw()) {
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
