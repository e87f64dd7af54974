//! Doors: the ways a process gets into namespaces. Each door creates the
//! `inside` process, which runs the body the supervisor hands it.

pub mod clone;
pub mod clone3;
pub mod holder;
pub mod maps;
pub mod offsets;
pub mod prepare;
pub mod runtime;
pub mod setns;
pub mod setns_pidfd;
pub mod unshare;

use std::os::fd::RawFd;

use nix::unistd::Pid;

use crate::guard::{self, Origin};
use crate::kind::NsType;
use crate::plan::{DoorKind, Plan, SyscallDoor};
use crate::sys::message::{self, Message};
use crate::sys::pipe::{self, Pipe};
use crate::sys::process;

/// What every door needs: the plan, where the probe started, and the pipes
/// to the supervisor.
pub struct Ctx<'a> {
    pub plan: &'a Plan,
    pub origin: &'a Origin,
    /// Write end of the views pipe.
    pub views: RawFd,
    /// Read end of the release pipe: end of file means "exit now".
    pub release: RawFd,
    /// Descriptors only the supervisor may hold.
    pub parent_only: Vec<RawFd>,
    /// The supervisor's effective uid and gid.
    pub caller: (u32, u32),
    /// The supervisor's pid, where it started.
    pub supervisor: i32,
    /// What the `inside` process runs; returns its exit status.
    pub body: &'a dyn Fn(&Ctx) -> i32,
    /// The view of the calling process, for a door process the plan
    /// observes (the unsharer).
    pub observe: &'a dyn Fn() -> serde_json::Value,
}

impl Ctx<'_> {
    pub fn send(&self, m: &Message) {
        message::send(self.views, m);
    }

    /// Report a failed syscall of the door, as process `who`.
    pub fn door_failed(&self, who: &str, syscall: &str, errno: nix::errno::Errno) {
        self.send(&Message::door_failure(who, syscall, errno));
    }

    /// The descriptors a child of this door must close: the supervisor's
    /// plus the extra ones given.
    pub fn closing(&self, extra: &[RawFd]) -> Vec<RawFd> {
        self.parent_only.iter().chain(extra).copied().collect()
    }

    /// Run the body in this process and leave with its status.
    pub fn become_inside(&self) -> ! {
        process::exit((self.body)(self))
    }

    /// Fork `inside` from this process (for pid and time namespaces, which
    /// apply to children), then wait for it, reporting how it ended if badly,
    /// and leave.
    pub fn fork_inside(&self, who: &str) -> ! {
        match process::fork(&[]) {
            Err(e) => {
                self.door_failed(who, "fork", e);
                process::exit(1)
            }
            Ok(process::Forked::Child) => self.become_inside(),
            Ok(process::Forked::Parent(pid)) => {
                // Once released, the init of a pid namespace may exit first
                // and take `inside` with it: that death is expected.
                if let Some(how) = process::reap(pid) {
                    if !pipe::closed_now(self.release) {
                        self.send(&Message::error(who, format!("inside {how}")));
                    }
                }
                pipe::close(self.views);
                process::exit(0)
            }
        }
    }
}

/// A pair of pipes for the user-namespace handshake: the child says "ready"
/// once it is in the new namespace, the parent says "go" once it wrote the maps.
#[derive(Clone, Copy)]
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
        [self.ready.read, self.go.write]
    }

    /// The ends the parent must not keep.
    pub fn child_ends(&self) -> [RawFd; 2] {
        [self.ready.write, self.go.read]
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

/// Carry out the plan's door. Returns the supervisor's direct children.
pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    match ctx.plan.door.kind() {
        DoorKind::Syscall(SyscallDoor::Clone) => clone::enter(ctx),
        DoorKind::Syscall(SyscallDoor::Clone3) => clone3::enter(ctx),
        DoorKind::Syscall(SyscallDoor::Unshare) => unshare::enter(ctx),
        DoorKind::Syscall(SyscallDoor::Setns) => setns::enter(ctx),
        DoorKind::Syscall(SyscallDoor::SetnsPidfd) => setns_pidfd::enter(ctx),
        DoorKind::Runtime => runtime::enter(ctx),
    }
}

/// Report a change refused by the isolation guard, before any step ran.
fn refused(who: &str, ty: NsType, message: String) -> bool {
    guard::at(who, None);
    guard::refuse(ty, message);
    false
}

/// What a process does right after it entered new namespaces it created:
/// write the time offsets, then cut mount propagation. Reports and returns
/// false on failure.
pub fn settle(ctx: &Ctx, who: &str) -> bool {
    if let Some(time) = &ctx.plan.namespaces.time {
        if time.has_offsets() {
            if let Err(msg) = ctx.origin.check_link(NsType::Time, "time_for_children") {
                return refused(who, NsType::Time, msg);
            }
            if let Err(e) = offsets::write(time) {
                ctx.door_failed(who, "write timens_offsets", e);
                return false;
            }
        }
    }
    if ctx.plan.namespaces.mnt.is_some() {
        if let Err(msg) = ctx.origin.check(NsType::Mnt) {
            return refused(who, NsType::Mnt, msg);
        }
    }
    if let Err(msg) = prepare::mount_namespace(ctx.plan) {
        ctx.send(&Message::error(who, msg));
        return false;
    }
    true
}
