//! The clone3 door: clone3(2) with the CLONE_NEW* flags (CLONE_NEWTIME
//! included); the child is `inside`.

use nix::unistd::Pid;

use super::Ctx;
use crate::sys::clone::CloneArgs;
use crate::sys::helper::Start;

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    let args = CloneArgs::new(ctx.plan.namespaces.flags());
    super::spawn(ctx, "clone3", |_| Start::Clone3(&args))
}
