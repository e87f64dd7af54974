//! The clone door: clone(2) with the CLONE_NEW* flags; the child is `inside`.

use nix::errno::Errno;
use nix::unistd::Pid;

use super::{Ctx, Handshake};
use crate::sys::pipe;
use crate::sys::process::{self, Forked};

/// The child's half: wait for the maps if there is a new user namespace,
/// settle, and run the body.
pub fn child(ctx: &Ctx, hs: &Handshake) -> ! {
    process::child_setup(&ctx.closing(&hs.parent_ends()));
    if ctx.plan.namespaces.user.is_some() && pipe::recv_u32(hs.go.read.fd()).is_none() {
        process::exit(1);
    }
    hs.go.read.close();
    if !super::settle(ctx, "inside") {
        process::exit(1);
    }
    ctx.become_inside()
}

/// The parent's half: write the maps of the new child, then let it go.
pub fn parent(ctx: &Ctx, pid: Pid, hs: &Handshake) {
    hs.go.read.close();
    hs.ready.write.close();
    hs.ready.read.close();
    if ctx.plan.namespaces.user.is_some() && super::write_maps(ctx, pid) {
        let _ = pipe::send_u32(hs.go.write.fd(), 1);
    }
    hs.go.write.close();
}

/// clone(2) with `flags`, exit signal SIGCHLD.
fn with_flags(flags: u64) -> Result<Forked, Errno> {
    crate::sys::clone::clone(flags | libc::SIGCHLD as u64)
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    super::spawn(ctx, "clone", with_flags)
}
