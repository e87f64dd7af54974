//! `idmap` and `setattr`: the new mount API. An idmapped mount of a fresh
//! tmpfs (open_tree with OPEN_TREE_CLONE, mount_setattr with
//! MOUNT_ATTR_IDMAP, move_mount), and mount_setattr(2) on an attached mount.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};
use serde_json::{json, Value};

use super::helper::{self, MapLine, PATIENCE};
use super::sandbox::{ensure_mnt, ensure_mount_on, make_dirs, write_file};
use super::tree::mount_tmpfs;
use crate::guard::Origin;
use crate::plan::mnt::{mount_attr_bits, IdmapStep, SetattrStep};
use crate::step::Extra;
use crate::sys::errno::{self, outcome};
use crate::sys::helper as sys_helper;

const SOURCE: &str = "/tmp/idmap-source";
const TARGET: &str = "/tmp/idmapped";
const FILE: &str = "file";

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
/// MOUNT_ATTR__ATIME: the atime field (relatime, noatime, strictatime).
const MOUNT_ATTR_ATIME: u64 = 0x70;
const AT_EMPTY_PATH: u32 = 0x1000;
const AT_RECURSIVE: u32 = 0x8000;

/// `struct mount_attr` of <linux/mount.h>.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(2) on `dfd` + `path`, once the guard has passed.
fn mount_setattr(dfd: i32, path: &str, flags: u32, attr: &MountAttr) -> Result<(), Errno> {
    let path = std::ffi::CString::new(path).map_err(|_| Errno::EINVAL)?;
    ensure_mnt()?;
    // SAFETY: `path` is a NUL-terminated string and `attr` a live mount_attr
    // of the size passed; the kernel only reads them during the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dfd,
            path.as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    Errno::result(r).map(drop)
}

fn owner(path: &str) -> Value {
    match std::fs::metadata(path) {
        Ok(m) => json!({"uid": m.uid(), "gid": m.gid()}),
        Err(e) => json!({"errno": format!("{:?}", crate::sys::errno::io_errno(e))}),
    }
}

fn rustix_errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// A user namespace with `map` as its uid and gid map: made by a helper,
/// kept by a descriptor once the helper has gone.
fn idmap_userns(map: [u32; 3], origin: &Origin) -> Result<OwnedFd, Errno> {
    let [inside, outside, count] = map;
    let h: sys_helper::Helper<Value> = sys_helper::spawn(PATIENCE, |ch| {
        if let Err(e) = nix::sched::unshare(CloneFlags::CLONE_NEWUSER) {
            return Ok(json!({"unshare": errno::name(e)}));
        }
        ch.ready();
        ch.wait_go();
        Ok(json!({}))
    })?;
    h.wait_ready()?;
    let line = MapLine {
        inside,
        uid: outside,
        gid: outside,
        count,
    };
    helper::write_maps(origin, h.pid(), &line)?;
    let fd = std::fs::File::open(format!("/proc/{}/ns/user", h.pid()))
        .map_err(crate::sys::errno::io_errno)?;
    h.go();
    h.finish()?;
    Ok(fd.into())
}

fn idmap_attr(userns: &OwnedFd) -> MountAttr {
    MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    }
}

pub fn idmap(step: &IdmapStep, origin: &Origin) -> Result<Extra, Errno> {
    make_dirs(SOURCE)?;
    make_dirs(TARGET)?;
    mount_tmpfs(SOURCE)?;
    write_file(&format!("{SOURCE}/{FILE}"), b"")?;
    let userns = idmap_userns(step.map, origin)?;
    let attr = idmap_attr(&userns);
    // SAFETY: AT_FDCWD is a valid directory descriptor for the whole call.
    let cwd = unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) };
    // An attached mount (open_tree without OPEN_TREE_CLONE) cannot be idmapped.
    let attached = rustix::mount::open_tree(cwd, SOURCE, OpenTreeFlags::OPEN_TREE_CLOEXEC)
        .map_err(rustix_errno)?;
    let attached = mount_setattr(attached.as_raw_fd(), "", AT_EMPTY_PATH, &attr);
    let flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    ensure_mnt()?;
    let tree = rustix::mount::open_tree(cwd, SOURCE, flags).map_err(rustix_errno)?;
    mount_setattr(tree.as_raw_fd(), "", AT_EMPTY_PATH, &attr)?;
    ensure_mount_on(TARGET)?;
    rustix::mount::move_mount(
        &tree,
        "",
        cwd,
        TARGET,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .map_err(rustix_errno)?;
    let mut extra = Extra::new();
    extra.insert("map".into(), json!(step.map));
    extra.insert("attached".into(), outcome(attached));
    extra.insert("source".into(), owner(&format!("{SOURCE}/{FILE}")));
    extra.insert("idmapped".into(), owner(&format!("{TARGET}/{FILE}")));
    Ok(extra)
}

pub fn setattr(step: &SetattrStep) -> Result<Extra, Errno> {
    let set = mount_attr_bits(&step.set).map_err(|_| Errno::EINVAL)?;
    let mut clear = mount_attr_bits(&step.clear).map_err(|_| Errno::EINVAL)?;
    if set & MOUNT_ATTR_ATIME != 0 {
        // A new atime mode must clear the whole atime field.
        clear |= MOUNT_ATTR_ATIME;
    }
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if step.recursive { AT_RECURSIVE } else { 0 };
    mount_setattr(libc::AT_FDCWD, &step.target, flags, &attr)?;
    Ok(Extra::new())
}
