//! The setns door: a joiner opens the holder's `/proc/<pid>/ns/*` links and
//! calls setns(2) once per namespace, the user namespace first.

use std::fs::File;

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::holder::{self, Holder};
use super::Ctx;

/// The link to open for each type: the `*_for_children` one where it
/// exists. (A new pid namespace's link opens only once it has an init, so
/// the holder keeps a child there and `inside` gets the next pid.)
fn link(ty: crate::kind::NsType) -> &'static str {
    let kind = ty.kind();
    kind.for_children.unwrap_or(kind.name)
}

fn join(ctx: &Ctx, holder: &Holder) -> bool {
    let mut files = Vec::new();
    for ty in ctx.plan.namespaces.types() {
        let path = format!("/proc/{}/ns/{}", holder.pid, link(ty));
        match File::open(&path) {
            Ok(f) => files.push((ty, f)),
            Err(e) => {
                let errno = crate::sys::errno::io_errno(e);
                ctx.door_failed("joiner", &format!("open {path}"), errno);
                return false;
            }
        }
    }
    for (ty, file) in files {
        let flag = CloneFlags::from_bits_retain(ty.kind().flag as i32);
        if let Err(e) = nix::sched::setns(&file, flag) {
            ctx.door_failed("joiner", &format!("setns({ty})"), e);
            return false;
        }
    }
    true
}

pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    holder::with_joiner(ctx, ctx.plan.namespaces.needs_child(), join)
}
