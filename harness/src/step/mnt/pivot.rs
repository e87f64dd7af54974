//! `pivot_root`: a helper in a second mount namespace (so that no other
//! process's root moves) pivots into a new root and reports what it sees:
//! the new root's filesystem, a file made there, the old root under
//! `/old`, and what is left once the old root is detached.

use std::io::Read;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use serde_json::{json, Value};

use super::helper::{self, outcome};
use super::mount_tmpfs;
use crate::plan::mnt::{NewRoot, PivotRootStep};
use crate::step::Extra;
use crate::view::mnt::parse_mountinfo;

const NEW_ROOT: &str = "/tmp/new-root";
const MARKER: &str = "nsconform-new-root";

fn read_all(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

/// Prepare the new root in the helper's own namespace.
fn prepare(new_root: NewRoot) -> Result<(), Errno> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)?;
    // pivot_root refuses a shared new root or parent; this namespace is the
    // helper's own, so making it all private changes nothing elsewhere.
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    if new_root == NewRoot::Mount {
        mount_tmpfs(NEW_ROOT)?;
    }
    std::fs::create_dir_all(format!("{NEW_ROOT}/old")).map_err(helper::io_errno)?;
    std::fs::write(format!("{NEW_ROOT}/{MARKER}"), b"").map_err(helper::io_errno)?;
    nix::unistd::chdir(NEW_ROOT)
}

/// In the helper: pivot, look, detach the old root, look again.
fn pivot(new_root: NewRoot) -> Value {
    if let Err(e) = prepare(new_root) {
        return json!({"prepare": format!("{e:?}")});
    }
    if let Err(e) = nix::unistd::pivot_root(".", "old") {
        return json!({"pivot_root": format!("{e:?}")});
    }
    let _ = nix::unistd::chdir("/");
    let open = || std::fs::File::open("/old/proc/self/mountinfo");
    let (Ok(mut before), Ok(mut after)) = (open(), open()) else {
        return json!({"pivot_root": "ok", "mountinfo": "unreadable"});
    };
    let mounts = parse_mountinfo(&read_all(&mut before));
    let root = mounts.iter().find(|m| m.mount_point == "/");
    let detach = outcome(nix::mount::umount2("/old", MntFlags::MNT_DETACH));
    let left: Vec<String> = parse_mountinfo(&read_all(&mut after))
        .into_iter()
        .map(|m| m.mount_point)
        .collect();
    json!({
        "pivot_root": "ok",
        "root_fstype": root.map(|m| m.fstype.clone()),
        "marker": std::path::Path::new(&format!("/{MARKER}")).exists(),
        "old_root_mounted": mounts.iter().any(|m| m.mount_point == "/old"),
        "cwd": std::env::current_dir().ok().map(|d| d.display().to_string()),
        "detach": detach,
        "mounts_after_detach": left,
    })
}

pub fn perform(step: &PivotRootStep) -> Result<Extra, Errno> {
    std::fs::create_dir_all(NEW_ROOT).map_err(helper::io_errno)?;
    let new_root = step.new_root;
    let h = helper::spawn(|_| pivot(new_root))?;
    let helper = h.finish()?;
    let mut extra = Extra::new();
    extra.insert("new_root".into(), helper);
    Ok(extra)
}
