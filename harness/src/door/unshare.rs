//! The unshare door: a child of the probe calls unshare(2); for pid and time
//! namespaces, which apply to children, it forks `inside`.

use nix::sched::CloneFlags;
use nix::unistd::Pid;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Ctx;
use crate::plan::Process;
use crate::sys::helper::{self, Channel, Helper, TRIAL_LIFETIME};
use crate::sys::message::Message;
use crate::sys::process;

/// Call unshare(2) with `flags`, and for a new user namespace tell the
/// parent `ready` and wait for it to write the maps. Returns false (after
/// reporting) on failure.
pub fn unshare_and_wait<V: Serialize>(
    ctx: &Ctx,
    who: &str,
    flags: u64,
    (ch, ready): (&Channel<V>, &V),
) -> bool {
    if let Err(e) = nix::sched::unshare(CloneFlags::from_bits_retain(flags as i32)) {
        ctx.door_failed(who, "unshare", e);
        return false;
    }
    ctx.plan.namespaces.user.is_none() || ch.hold(ready)
}

/// The parent's half of the handshake: wait for "ready", write the maps,
/// say "go". Returns whether the child went on.
pub fn parent_handshake<T: DeserializeOwned, V: DeserializeOwned>(
    ctx: &Ctx,
    child: &Helper<T, V>,
) -> bool {
    if ctx.plan.namespaces.user.is_none() {
        return true;
    }
    let went = child.wait_value().is_ok() && super::write_maps(ctx, child.pid());
    if went {
        child.go();
    }
    went
}

/// The unsharer: unshare, settle, then become or fork `inside`.
fn unsharer(ctx: &Ctx, ch: &Channel) -> ! {
    let who = Process::Unsharer.name();
    let flags = ctx.plan.namespaces.flags();
    if !unshare_and_wait(ctx, who, flags, (ch, &())) || !super::settle(ctx, who) {
        process::exit(1);
    }
    if ctx.plan.observe.contains(&Process::Unsharer) {
        let view = (ctx.observe)();
        ctx.send(&Message::View {
            process: who.into(),
            view,
        });
    }
    if ctx.plan.namespaces.needs_child() {
        ctx.fork_inside(who)
    }
    ctx.become_inside()
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    let started = helper::spawn::<()>(TRIAL_LIFETIME, |ch| {
        process::drop_inherited(&ctx.parent_only);
        unsharer(ctx, ch)
    });
    match started {
        Err(e) => {
            ctx.door_failed("supervisor", "fork", e);
            Vec::new()
        }
        Ok(child) => {
            parent_handshake(ctx, &child);
            vec![child.leave()]
        }
    }
}
