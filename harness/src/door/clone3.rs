//! The clone3 door: clone3(2) with the CLONE_NEW* flags (CLONE_NEWTIME
//! included); the child is `inside`.

use nix::errno::Errno;
use nix::unistd::Pid;

use super::Ctx;
use crate::sys::clone::{clone3, CloneArgs};
use crate::sys::process::Forked;

fn with_flags(flags: u64) -> Result<Forked, Errno> {
    clone3(&CloneArgs::new(flags))
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    super::spawn(ctx, "clone3", with_flags)
}
