//! The unshare door: a child of the probe calls unshare(2); for pid and time
//! namespaces, which apply to children, it forks `inside`.

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::{Ctx, Handshake};
use crate::plan::Process;
use crate::sys::message::Message;
use crate::sys::pipe;
use crate::sys::process::{self, Forked};

/// Call unshare(2) with `flags`, and for a new user namespace wait for the
/// parent to write the maps. Returns false (after reporting) on failure.
pub fn unshare_and_wait(ctx: &Ctx, who: &str, flags: u64, hs: &Handshake) -> bool {
    if let Err(e) = nix::sched::unshare(CloneFlags::from_bits_retain(flags as i32)) {
        ctx.door_failed(who, "unshare", e);
        return false;
    }
    if ctx.plan.namespaces.user.is_none() {
        return true;
    }
    let told = pipe::send_u32(hs.ready.write.fd(), 1).is_ok();
    hs.ready.write.close();
    told && pipe::recv_u32(hs.go.read.fd()).is_some()
}

/// The parent's half of the handshake: wait for "ready", write the maps,
/// say "go". Returns whether the child went on.
pub fn parent_handshake(ctx: &Ctx, pid: Pid, hs: &Handshake) -> bool {
    hs.ready.write.close();
    hs.go.read.close();
    let mut went = true;
    if ctx.plan.namespaces.user.is_some() {
        went = pipe::recv_u32(hs.ready.read.fd()).is_some()
            && super::write_maps(ctx, pid)
            && pipe::send_u32(hs.go.write.fd(), 1).is_ok();
    }
    hs.ready.read.close();
    hs.go.write.close();
    went
}

/// The unsharer: unshare, settle, then become or fork `inside`.
fn unsharer(ctx: &Ctx, hs: &Handshake) -> ! {
    let who = Process::Unsharer.name();
    if !unshare_and_wait(ctx, who, ctx.plan.namespaces.flags(), hs) || !super::settle(ctx, who) {
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
    let hs = match Handshake::new() {
        Ok(hs) => hs,
        Err(e) => {
            ctx.door_failed("supervisor", "pipe2", e);
            return Vec::new();
        }
    };
    match process::fork(&ctx.closing(&hs.parent_ends())) {
        Err(e) => {
            ctx.door_failed("supervisor", "fork", e);
            Vec::new()
        }
        Ok(Forked::Child) => unsharer(ctx, &hs),
        Ok(Forked::Parent(pid)) => {
            parent_handshake(ctx, pid, &hs);
            vec![pid]
        }
    }
}
