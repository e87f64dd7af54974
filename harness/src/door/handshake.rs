//! Creating `inside` with a clone-like call, and the user-namespace
//! handshake around it: the child says "ready" once it is in the new
//! namespace, the parent says "go" once it wrote the maps.

use std::os::fd::RawFd;

use nix::unistd::Pid;

use super::settle::refused;
use super::{clone, maps, Ctx};
use crate::kind::NsType;
use crate::sys::pipe::Pipe;
use crate::sys::process;

/// A pair of pipes for the user-namespace handshake: the child says "ready"
/// once it is in the new namespace, the parent says "go" once it wrote the maps.
pub struct Handshake {
    pub ready: Pipe,
    pub go: Pipe,
}

impl Handshake {
    pub fn new() -> Result<Handshake, nix::errno::Errno> {
        Ok(Handshake {
            ready: Pipe::new()?,
            go: Pipe::new()?,
        })
    }

    /// The ends the child must not keep.
    pub fn parent_ends(&self) -> [RawFd; 2] {
        [self.ready.read.fd(), self.go.write.fd()]
    }

    /// The ends the parent must not keep.
    pub fn child_ends(&self) -> [RawFd; 2] {
        [self.ready.write.fd(), self.go.read.fd()]
    }
}

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

/// Create `inside` with a clone-like call (`clone` or `clone3`) that puts
/// the child straight into the new namespaces.
pub fn spawn(
    ctx: &Ctx,
    syscall: &str,
    call: fn(u64) -> Result<process::Forked, nix::errno::Errno>,
) -> Vec<Pid> {
    let hs = match Handshake::new() {
        Ok(hs) => hs,
        Err(e) => {
            ctx.door_failed("supervisor", "pipe2", e);
            return Vec::new();
        }
    };
    match call(ctx.plan.namespaces.flags()) {
        Err(e) => {
            ctx.door_failed("supervisor", syscall, e);
            Vec::new()
        }
        Ok(process::Forked::Child) => clone::child(ctx, &hs),
        Ok(process::Forked::Parent(pid)) => {
            clone::parent(ctx, pid, &hs);
            vec![pid]
        }
    }
}
