//! `locked`: mounts inherited into a mount namespace owned by a less
//! privileged user namespace are locked (mount_namespaces(7), user_namespaces(7)):
//! they cannot be unmounted one by one (EINVAL), and a read-only flag set
//! before cannot be cleared (EPERM).

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use serde_json::{json, Value};

use super::helper::{self, MapLine, PATIENCE};
use super::sandbox::{ensure_mnt, ensure_mount_on, ensure_umount, make_dirs};
use super::tree::mount_tmpfs;
use crate::guard::Origin;
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::helper::{self as sys_helper, Channel};

const PLAIN: &str = "/tmp/locked";
const READ_ONLY: &str = "/tmp/locked-ro";
const OWN: &str = "/tmp/locked/own";

fn remount(path: &str, extra: MsFlags) -> Result<(), Errno> {
    ensure_mnt()?;
    nix::mount::mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | extra,
        None::<&str>,
    )
}

fn unmount(path: &str, flags: MntFlags) -> Result<(), Errno> {
    ensure_umount(path)?;
    nix::mount::umount2(path, flags)
}

/// In the helper: a new user and mount namespace, then every attempt.
fn attempts(ch: &Channel) -> Value {
    if let Err(e) = nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS) {
        return json!({"unshare": format!("{e:?}")});
    }
    ch.ready();
    if !ch.wait_go() {
        return json!({"go": "ETIMEDOUT"});
    }
    let umount = outcome(unmount(PLAIN, MntFlags::empty()));
    let umount_detach = outcome(unmount(PLAIN, MntFlags::MNT_DETACH));
    let remount_rw = outcome(remount(READ_ONLY, MsFlags::empty()));
    let remount_ro = outcome(remount(READ_ONLY, MsFlags::MS_RDONLY));
    let own_mount = outcome(mount_tmpfs(OWN));
    let own_umount = outcome(unmount(OWN, MntFlags::empty()));
    json!({
        "uid": nix::unistd::getuid().as_raw(),
        "umount": umount,
        "umount_detach": umount_detach,
        "remount_rw": remount_rw,
        "remount_ro": remount_ro,
        "own_mount": own_mount,
        "own_umount": own_umount,
        "user_ns": crate::view::ns::id_of("self", "user").map(|id| id.ino),
    })
}

pub fn perform(origin: &Origin) -> Result<Extra, Errno> {
    make_dirs(PLAIN)?;
    make_dirs(READ_ONLY)?;
    mount_tmpfs(PLAIN)?;
    make_dirs(OWN)?;
    ensure_mount_on(READ_ONLY)?;
    nix::mount::mount(
        Some("nsconform"),
        READ_ONLY,
        Some("tmpfs"),
        MsFlags::MS_RDONLY,
        Some("size=64k"),
    )?;
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let h = sys_helper::spawn(PATIENCE, |ch| Ok(attempts(ch)))?;
    if h.wait_ready().is_ok() {
        let line = MapLine {
            inside: 0,
            uid: uid.as_raw(),
            gid: gid.as_raw(),
            count: 1,
        };
        helper::write_maps(origin, h.pid(), &line)?;
        h.go();
    }
    let helper = h.finish()?;
    let mut extra = Extra::new();
    extra.insert(
        "user_ns".into(),
        json!(crate::view::ns::id_of("self", "user").map(|id| id.ino)),
    );
    extra.insert("inherited".into(), helper);
    Ok(extra)
}
