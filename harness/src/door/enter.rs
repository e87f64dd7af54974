//! Taking the plan's door: a syscall door the probe takes itself, or a
//! runtime door.

use nix::unistd::Pid;

use super::{clone, clone3, runtime, setns, setns_pidfd, unshare, Ctx};
use crate::plan::{DoorKind, SyscallDoor};

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
