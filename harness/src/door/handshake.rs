//! Creating `inside` with a clone-like call, and the user-namespace
//! handshake of the doors, on the helper's ready and go: the child says
//! "ready" once it is in the new namespace, the parent says "go" once it
//! wrote the maps.

use nix::unistd::Pid;

use super::settle::refused;
use super::{clone, maps, Ctx};
use crate::kind::NsType;
use crate::sys::helper::{self, Start, TRIAL_LIFETIME};
use crate::sys::process;

/// Write the maps for `pid` if the plan creates a user namespace; report a
/// failure as the door's. Returns whether the child may go on.
pub fn write_maps(ctx: &Ctx, pid: Pid) -> bool {
    let Some(user) = &ctx.plan.namespaces.user else {
        return true;
    };
    if let Err(message) = ctx.origin.check_process(NsType::User, pid.as_raw()) {
        return refused("supervisor", NsType::User, message);
    }
    match maps::write_for(pid, user, ctx.caller) {
        Ok(()) => true,
        Err(e) => {
            ctx.door_failed("supervisor", &format!("write {}", e.file), e.errno);
            false
        }
    }
}

/// Create `inside` with a clone-like call (`clone` or `clone3`, the start
/// `how` makes of the plan's flags) that puts the child straight into the
/// new namespaces.
pub fn spawn<'a>(ctx: &Ctx, syscall: &str, how: impl FnOnce(u64) -> Start<'a>) -> Vec<Pid> {
    let start = how(ctx.plan.namespaces.flags());
    let child = helper::spawn_as::<()>(start, TRIAL_LIFETIME, |ch| {
        process::drop_inherited(&ctx.parent_only);
        clone::child(ctx, ch)
    });
    match child {
        Err(e) => {
            ctx.door_failed("supervisor", syscall, e);
            Vec::new()
        }
        Ok(child) => {
            clone::parent(ctx, &child);
            vec![child.leave()]
        }
    }
}
