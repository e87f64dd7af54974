//! The holder: a process the trial creates with unshare(2) only to hold
//! namespaces open, so that the setns doors have something to join.

use nix::unistd::Pid;

use super::{unshare, Ctx};
use crate::sys::helper::{self, Channel, Start, TRIAL_LIFETIME};
use crate::sys::{pipe, process};

/// A started holder.
pub struct Holder {
    /// The holder itself: its `*_for_children` links name the new pid and
    /// time namespaces.
    pub pid: Pid,
    /// The process to join through a pidfd: a child of the holder, inside
    /// the new pid and time namespaces, when those were asked for.
    pub target: Pid,
}

/// What the holder tells its parent: `None` once it is in its new user
/// namespace (write the maps), then the pid of the target.
type Told = Option<i32>;

fn holder_main(ctx: &Ctx, ch: &Channel<Told>, keeper: bool) -> ! {
    let flags = ctx.plan.namespaces.flags();
    if !unshare::unshare_and_wait(ctx, "holder", flags, (ch, &None))
        || !super::settle(ctx, "holder")
    {
        process::exit(1);
    }
    // The keeper only waits to be released.
    let keeper = keeper.then(|| {
        helper::spawn(TRIAL_LIFETIME, |_| {
            process::drop_inherited(&[ctx.views]);
            pipe::wait_closed(ctx.release);
            Ok(())
        })
    });
    let target = match &keeper {
        None => nix::unistd::getpid(),
        Some(Ok(keeper)) => keeper.pid(),
        Some(Err(e)) => {
            ctx.door_failed("holder", "fork", *e);
            process::exit(1)
        }
    };
    ch.tell(&Some(target.as_raw()));
    process::drop_inherited(&[ctx.views]);
    pipe::wait_closed(ctx.release);
    if let Some(Ok(keeper)) = keeper {
        let _ = keeper.finish();
    }
    process::exit(0)
}

/// Start a holder. `keeper` asks for a child inside the new pid and time
/// namespaces. On failure (already reported) returns the pid to reap, if any.
pub fn start(ctx: &Ctx, keeper: bool) -> Result<Holder, Option<Pid>> {
    let holder = helper::spawn_telling::<(), Told>(Start::Fork, TRIAL_LIFETIME, |ch| {
        process::drop_inherited(&ctx.parent_only);
        holder_main(ctx, ch, keeper)
    })
    .map_err(|e| {
        ctx.door_failed("supervisor", "fork", e);
        None
    })?;
    // A holder whose maps were not written is let go at once: it sees the
    // end of the handshake and leaves.
    if !unshare::parent_handshake(ctx, &holder) {
        return Err(Some(holder.leave()));
    }
    let target = holder.wait_value();
    let pid = holder.leave();
    match target {
        Ok(Some(t)) => Ok(Holder {
            pid,
            target: Pid::from_raw(t),
        }),
        _ => Err(Some(pid)),
    }
}

/// Start a holder and a joiner that runs `join`; returns the pids to reap.
pub fn with_joiner(ctx: &Ctx, keeper: bool, join: fn(&Ctx, &Holder) -> bool) -> Vec<Pid> {
    let holder = match start(ctx, keeper) {
        Ok(h) => h,
        Err(pid) => return pid.into_iter().collect(),
    };
    let joiner = helper::spawn::<()>(TRIAL_LIFETIME, |_| {
        process::drop_inherited(&ctx.parent_only);
        if !join(ctx, &holder) {
            process::exit(1);
        }
        if ctx.plan.namespaces.needs_child() {
            ctx.fork_inside("joiner")
        }
        ctx.become_inside()
    });
    match joiner {
        Err(e) => {
            ctx.door_failed("supervisor", "fork", e);
            vec![holder.pid]
        }
        Ok(joiner) => vec![holder.pid, joiner.leave()],
    }
}
