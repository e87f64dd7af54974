//! Carrying out the steps of plan::mnt. Each works below the sandbox (`/tmp`
//! inside the case's new mount namespace) and makes any second namespace in
//! a forked helper, reaped within a bound. Every change, in the step's
//! process and in its helpers, is checked by the guard of `step::mnt::sandbox`
//! right before it is made (a helper's unshare may have done nothing).

use nix::errno::Errno;
use nix::mount::MsFlags;
use serde_json::{Map, Value};

use super::sandbox::{ensure_mnt, ensure_mount_on, Sandbox};
use super::{copy, idmap, locked, nsiter, pivot, propagate};
use crate::plan::mnt::MntStep;
use crate::step::{Extra, StepEnv};
use crate::view::mnt::read_mountinfo;

pub fn perform(step: &MntStep, env: &StepEnv, sandbox: &mut Sandbox) -> Result<Extra, Errno> {
    sandbox.ready()?;
    match step {
        MntStep::CopyTable(_) => copy::perform(),
        MntStep::Propagate(s) => propagate::perform(s, env.origin),
        MntStep::Locked(_) => locked::perform(env.origin),
        MntStep::PivotRoot(s) => pivot::perform(s),
        MntStep::Idmap(s) => idmap::idmap(s, env.origin),
        MntStep::Setattr(s) => idmap::setattr(s),
        MntStep::NsIter(_) => nsiter::ns_iter(),
        MntStep::ListForeign(_) => nsiter::list_foreign(),
    }
}

/// Mount a small fresh tmpfs on `path`.
pub(super) fn mount_tmpfs(path: &str) -> Result<(), Errno> {
    ensure_mount_on(path)?;
    nix::mount::mount(
        Some("nsconform"),
        path,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=64k"),
    )
}

/// Change the propagation type of the mount on `path` (not recursively).
pub(super) fn set_propagation(path: &str, flags: MsFlags) -> Result<(), Errno> {
    ensure_mnt()?;
    nix::mount::mount(None::<&str>, path, None::<&str>, flags, None::<&str>)
}

/// Whether a mount sits on `path` in the calling process's namespace.
pub(super) fn sees_mount(path: &str) -> bool {
    read_mountinfo().iter().any(|m| m.mount_point == path)
}

/// The propagation of the topmost mount on `path`, as numbers:
/// `peer_group` (shared:N), `master` (master:N) and `unbindable`.
pub(super) fn propagation_of(path: &str) -> Map<String, Value> {
    let mounts = read_mountinfo();
    let tags = mounts
        .iter()
        .rev()
        .find(|m| m.mount_point == path)
        .map(|m| m.propagation.clone())
        .unwrap_or_default();
    let number = |prefix: &str| -> Value {
        tags.iter()
            .find_map(|t| t.strip_prefix(prefix))
            .and_then(|n| n.parse::<u64>().ok())
            .map_or(Value::Null, Value::from)
    };
    let mut out = Map::new();
    out.insert("peer_group".into(), number("shared:"));
    out.insert("master".into(), number("master:"));
    out.insert(
        "unbindable".into(),
        tags.iter().any(|t| t == "unbindable").into(),
    );
    out
}
