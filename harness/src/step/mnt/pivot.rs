//! `pivot_root`: a helper in a second mount namespace (so that no other
//! process's root moves) pivots into a new root and reports what it sees:
//! the new root's filesystem, a file made there, the old root under
//! `/old`, and what is left once the old root is detached.

use std::io::Read;
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use serde_json::{json, Value};

use super::helper::PATIENCE;
use super::sandbox::{ensure_mnt, make_dirs, refuse, write_file};
use super::tree::mount_tmpfs;
use crate::plan::mnt::{NewRoot, PivotRootStep};
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::helper as sys_helper;
use crate::view::mnt::parse_mountinfo;
use crate::view::ns::{self, NsId};

const NEW_ROOT: &str = "/tmp/new-root";
const MARKER: &str = "nsconform-new-root";

fn read_all(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}

/// Refuse unless the helper's mount namespace is its own: neither the one
/// the probe started in nor the step's (`step_ns`), whose processes'
/// root would move too. Gives the namespace checked.
fn ensure_own(step_ns: &Option<NsId>) -> Result<NsId, Errno> {
    ensure_mnt()?;
    match ns::id_of("self", "mnt") {
        Some(here) if Some(here) != *step_ns => Ok(here),
        _ => Err(refuse(
            "the pivot_root helper's mount namespace is not its own",
        )),
    }
}

/// After pivot_root, where `/proc` is under `/old`: refuse unless the
/// helper is still in `checked`, the namespace [`ensure_own`] passed.
fn ensure_still(checked: NsId) -> Result<(), Errno> {
    let now = std::fs::metadata("/old/proc/self/ns/mnt")
        .ok()
        .map(|m| NsId {
            ino: m.ino(),
            dev: m.dev(),
        });
    if now != Some(checked) {
        return Err(refuse(
            "the pivot_root helper left the mount namespace it checked",
        ));
    }
    Ok(())
}

/// Prepare the new root in the helper's own namespace.
fn prepare(new_root: NewRoot, step_ns: &Option<NsId>) -> Result<(), Errno> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)?;
    // pivot_root refuses a shared new root or parent; this namespace is the
    // helper's own, so making it all private changes nothing elsewhere.
    ensure_own(step_ns)?;
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
    make_dirs(&format!("{NEW_ROOT}/old"))?;
    write_file(&format!("{NEW_ROOT}/{MARKER}"), b"")?;
    nix::unistd::chdir(NEW_ROOT)
}

/// In the helper: pivot, look, detach the old root, look again.
fn pivot(new_root: NewRoot, step_ns: &Option<NsId>) -> Value {
    if let Err(e) = prepare(new_root, step_ns) {
        return json!({"prepare": format!("{e:?}")});
    }
    let checked = match ensure_own(step_ns) {
        Ok(checked) => checked,
        Err(e) => return json!({"pivot_root": format!("{e:?}")}),
    };
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
    let detach = outcome(
        ensure_still(checked).and_then(|()| nix::mount::umount2("/old", MntFlags::MNT_DETACH)),
    );
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
    make_dirs(NEW_ROOT)?;
    let new_root = step.new_root;
    let step_ns = ns::id_of("self", "mnt");
    let h = sys_helper::spawn(PATIENCE, |_| Ok(pivot(new_root, &step_ns)))?;
    let helper = h.finish()?;
    let mut extra = Extra::new();
    extra.insert("new_root".into(), helper);
    Ok(extra)
}
