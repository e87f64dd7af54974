//! `locked`: mounts inherited into a mount namespace owned by a less
//! privileged user namespace are locked (mount_namespaces(7), user_namespaces(7)):
//! they cannot be unmounted one by one (EINVAL), and the read-only,
//! nosuid, nodev, noexec and atime flags set before cannot be changed
//! (EPERM), by remount or by mount_setattr(2).

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use serde_json::{json, Value};

use super::helper::{self, MapLine, PATIENCE};
use super::idmap::setattr_path;
use super::sandbox::{ensure_mnt, ensure_mount_on, ensure_umount, make_dirs};
use super::tree::mount_tmpfs;
use crate::guard::Origin;
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::helper::{self as sys_helper, Channel};

const PLAIN: &str = "/tmp/locked";
const READ_ONLY: &str = "/tmp/locked-ro";
const OWN: &str = "/tmp/locked/own";
const FLAGGED: &str = "/tmp/locked-flags";

/// The flags the flagged mount is made with, each of them locked in the
/// helper's mount namespace.
fn flagged() -> MsFlags {
    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_NOATIME
}

/// MOUNT_ATTR_NOSUID, _NODEV, _NOEXEC and the atime field of mount_setattr(2).
const ATTR_NOSUID: u64 = 0x02;
const ATTR_NODEV: u64 = 0x04;
const ATTR_NOEXEC: u64 = 0x08;
const ATTR_NOATIME: u64 = 0x10;
const ATTR_ATIME_MASK: u64 = 0x70;

/// mount_setattr(2) of the flagged mount (the atime field is changed as a
/// whole, so it is cleared whenever it is set).
fn setattr(set: u64, clear: u64) -> Result<(), Errno> {
    let clear = if (set | clear) & ATTR_ATIME_MASK != 0 {
        clear | ATTR_ATIME_MASK
    } else {
        clear
    };
    setattr_path(FLAGGED, set, clear)
}

/// Every attempt on the flagged mount: keeping its flags works; dropping
/// any one of them, or changing its atime mode, is refused.
fn flag_attempts() -> Value {
    let keep = flagged();
    json!({
        "keep": outcome(remount(FLAGGED, keep)),
        "nosuid": outcome(remount(FLAGGED, keep - MsFlags::MS_NOSUID)),
        "nodev": outcome(remount(FLAGGED, keep - MsFlags::MS_NODEV)),
        "noexec": outcome(remount(FLAGGED, keep - MsFlags::MS_NOEXEC)),
        "atime": outcome(remount(FLAGGED, (keep - MsFlags::MS_NOATIME) | MsFlags::MS_RELATIME)),
        "setattr_nosuid": outcome(setattr(0, ATTR_NOSUID)),
        "setattr_nodev": outcome(setattr(0, ATTR_NODEV)),
        "setattr_noexec": outcome(setattr(0, ATTR_NOEXEC)),
        "setattr_atime": outcome(setattr(0, ATTR_ATIME_MASK)),
        "setattr_keep": outcome(setattr(ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC | ATTR_NOATIME, 0)),
    })
}

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
    let flags = flag_attempts();
    json!({
        "uid": nix::unistd::getuid().as_raw(),
        "umount": umount,
        "umount_detach": umount_detach,
        "remount_rw": remount_rw,
        "remount_ro": remount_ro,
        "own_mount": own_mount,
        "own_umount": own_umount,
        "flags": flags,
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
    make_dirs(FLAGGED)?;
    ensure_mount_on(FLAGGED)?;
    nix::mount::mount(
        Some("nsconform"),
        FLAGGED,
        Some("tmpfs"),
        flagged(),
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
