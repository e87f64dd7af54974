//! Preparing a new mount namespace: cutting propagation to the outside
//! before anything is mounted in it.

use nix::errno::Errno;
use nix::mount::MsFlags;

use crate::guard;
use crate::kind::NsType;
use crate::plan::{Plan, Prepare};

/// Make every mount private, as unshare(1) does, when the plan creates a
/// mount namespace and asks for it (the default). The caller has checked,
/// through the isolation guard, that the mount namespace really is new; it
/// is checked again right before the mount.
pub fn mount_namespace(plan: &Plan) -> Result<(), String> {
    let Some(mnt) = &plan.namespaces.mnt else {
        return Ok(());
    };
    if mnt.prepare == Prepare::Keep {
        return Ok(());
    }
    let flags = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    guard::ensure(NsType::Mnt)
        .map_err(|_| "namespace not isolated: mount --make-rprivate / refused".to_string())?;
    nix::mount::mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)
        .map_err(|e: Errno| format!("mount --make-rprivate / failed: {e}"))
}
