//! The holder: a process the trial creates with unshare(2) only to hold
//! namespaces open, so that the setns doors have something to join.

use nix::unistd::Pid;

use super::{unshare, Ctx, Handshake};
use crate::sys::pipe::{self, Pipe};
use crate::sys::process::{self, Forked};

/// A started holder.
pub struct Holder {
    /// The holder itself: its `*_for_children` links name the new pid and
    /// time namespaces.
    pub pid: Pid,
    /// The process to join through a pidfd: a child of the holder, inside
    /// the new pid and time namespaces, when those were asked for.
    pub target: Pid,
}

/// Fork the holder's child, which only waits to be released.
fn fork_keeper(ctx: &Ctx, ready: &Pipe) -> Pid {
    match process::fork(&[ready.write.fd(), ctx.views]) {
        Ok(Forked::Child) => {
            pipe::wait_closed(ctx.release);
            process::exit(0)
        }
        Ok(Forked::Parent(pid)) => pid,
        Err(e) => {
            ctx.door_failed("holder", "fork", e);
            process::exit(1)
        }
    }
}

fn holder_main(ctx: &Ctx, hs: &Handshake, ready: &Pipe, keeper: bool) -> ! {
    ready.read.close();
    let flags = ctx.plan.namespaces.flags();
    if !unshare::unshare_and_wait(ctx, "holder", flags, hs) || !super::settle(ctx, "holder") {
        process::exit(1);
    }
    let target = if keeper {
        fork_keeper(ctx, ready)
    } else {
        nix::unistd::getpid()
    };
    let _ = pipe::send_u32(ready.write.fd(), target.as_raw() as u32);
    ready.write.close();
    process::drop_inherited(&[ctx.views]);
    pipe::wait_closed(ctx.release);
    if keeper {
        process::reap(target);
    }
    process::exit(0)
}

/// Start a holder. `keeper` asks for a child inside the new pid and time
/// namespaces. On failure (already reported) returns the pid to reap, if any.
pub fn start(ctx: &Ctx, keeper: bool) -> Result<Holder, Option<Pid>> {
    let hs = Handshake::new().map_err(|e| {
        ctx.door_failed("supervisor", "pipe2", e);
        None
    })?;
    let ready = Pipe::new().map_err(|e| {
        ctx.door_failed("supervisor", "pipe2", e);
        None
    })?;
    let pid = match process::fork(&ctx.closing(&hs.parent_ends())) {
        Err(e) => {
            ctx.door_failed("supervisor", "fork", e);
            return Err(None);
        }
        Ok(Forked::Child) => holder_main(ctx, &hs, &ready, keeper),
        Ok(Forked::Parent(pid)) => pid,
    };
    ready.write.close();
    unshare::parent_handshake(ctx, pid, &hs);
    let target = pipe::recv_u32(ready.read.fd());
    ready.read.close();
    match target {
        Some(t) => Ok(Holder {
            pid,
            target: Pid::from_raw(t as i32),
        }),
        None => Err(Some(pid)),
    }
}

/// Start a holder and a joiner that runs `join`; returns the pids to reap.
pub fn with_joiner(ctx: &Ctx, keeper: bool, join: fn(&Ctx, &Holder) -> bool) -> Vec<Pid> {
    let holder = match start(ctx, keeper) {
        Ok(h) => h,
        Err(pid) => return pid.into_iter().collect(),
    };
    match process::fork(&ctx.parent_only) {
        Err(e) => {
            ctx.door_failed("supervisor", "fork", e);
            vec![holder.pid]
        }
        Ok(Forked::Child) => {
            if !join(ctx, &holder) {
                process::exit(1);
            }
            if ctx.plan.namespaces.needs_child() {
                ctx.fork_inside("joiner")
            }
            ctx.become_inside()
        }
        Ok(Forked::Parent(joiner)) => vec![holder.pid, joiner],
    }
}
