//! The clone door: clone(2) with the CLONE_NEW* flags; the child is `inside`.

use super::Ctx;
use crate::sys::helper::{Channel, Helper};
use crate::sys::process;

/// The child's half: wait for the maps if there is a new user namespace,
/// settle, and run the body.
pub fn child(ctx: &Ctx, ch: &Channel) -> ! {
    if ctx.plan.namespaces.user.is_some() && !ch.wait_go() {
        process::exit(1);
    }
    if !super::settle(ctx, "inside") {
        process::exit(1);
    }
    ctx.become_inside()
}

/// The parent's half: write the maps of the new child, then let it go.
pub fn parent(ctx: &Ctx, child: &Helper<()>) {
    if ctx.plan.namespaces.user.is_some() && super::write_maps(ctx, child.pid()) {
        child.go();
    }
}

pub fn enter(ctx: &Ctx) -> Vec<nix::unistd::Pid> {
    super::spawn(ctx, "clone", crate::sys::helper::Start::Clone)
}
