//! The clone door: clone(2) with the CLONE_NEW* flags; the child is `inside`.

use nix::errno::Errno;
use nix::unistd::Pid;

use super::{Ctx, Handshake};
use crate::probe::fork::{self, Forked};
use crate::probe::pipe;

/// The child's half: wait for the maps if there is a new user namespace,
/// settle, and run the body.
pub fn child(ctx: &Ctx, hs: &Handshake) -> ! {
    fork::child_setup(&ctx.closing(&hs.parent_ends()));
    if ctx.plan.namespaces.user.is_some() && pipe::recv_u32(hs.go.read).is_none() {
        fork::exit(1);
    }
    pipe::close(hs.go.read);
    if !super::settle(ctx, "inside") {
        fork::exit(1);
    }
    ctx.become_inside()
}

/// The parent's half: write the maps of the new child, then let it go.
pub fn parent(ctx: &Ctx, pid: Pid, hs: &Handshake) {
    pipe::close(hs.go.read);
    pipe::close(hs.ready.write);
    pipe::close(hs.ready.read);
    if ctx.plan.namespaces.user.is_some() && super::write_maps(ctx, pid) {
        let _ = pipe::send_u32(hs.go.write, 1);
    }
    pipe::close(hs.go.write);
}

/// Fork-like clone(2): no new stack, so the child runs on a copy of ours.
fn raw_clone(flags: u64) -> Result<Forked, Errno> {
    let flags = flags | libc::SIGCHLD as u64;
    // SAFETY: with a null stack clone(2) behaves like fork(2), which is
    // sound in the single-threaded probe; the other arguments are unused.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as i32))),
    }
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    super::spawn(ctx, "clone", raw_clone)
}
