//! Mount namespaces by id: iteration with NS_MNT_GET_INFO, NS_MNT_GET_PREV
//! and NS_MNT_GET_NEXT (6.12), and listmount(2)/statmount(2) of another
//! mount namespace by its `mnt_ns_id` (6.11). Second and third namespaces
//! are a child's, made by unshare and dying with it.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use serde_json::{json, Value};

use super::sandbox::make_dirs;
use super::tree::mount_tmpfs;
use crate::kind::NsType;
use crate::step::Extra;
use crate::sys::helper::{self, in_child};
use crate::sys::ns::{flags_of, open, unshare, DEADLINE};
use crate::view::mnt::read_mountinfo;

/// `struct mnt_ns_info`.
#[repr(C)]
#[derive(Default)]
struct MntNsInfo {
    size: u32,
    nr_mounts: u32,
    mnt_ns_id: u64,
}

/// `_IOR(0xb7, nr, struct mnt_ns_info)`.
const fn ns_mnt_ioctl(nr: u64) -> u64 {
    (2 << 30) | (16 << 16) | (0xb7 << 8) | nr
}
const NS_MNT_GET_INFO: u64 = ns_mnt_ioctl(10);
const NS_MNT_GET_NEXT: u64 = ns_mnt_ioctl(11);
const NS_MNT_GET_PREV: u64 = ns_mnt_ioctl(12);
const NS_GET_NSTYPE: u64 = 0xb703;

const SYS_STATMOUNT: libc::c_long = 457;
const SYS_LISTMOUNT: libc::c_long = 458;
/// listmount from the root of the namespace.
const LSMT_ROOT: u64 = u64::MAX;
const STATMOUNT_FS_TYPE: u64 = 0x20;
const STATMOUNT_MNT_NS_ID: u64 = 0x40;
/// Where the strings of a `struct statmount` start, and the fields read.
const STATMOUNT_STR: usize = 512;
const STATMOUNT_MASK_AT: usize = 8;
const STATMOUNT_FS_TYPE_AT: usize = 36;
const STATMOUNT_NS_ID_AT: usize = 112;

/// An ioctl that fills a mnt_ns_info and may return a new descriptor.
fn mnt_ioctl(fd: &OwnedFd, request: u64) -> Result<(Option<OwnedFd>, MntNsInfo), Errno> {
    let mut info = MntNsInfo {
        size: 16,
        ..MntNsInfo::default()
    };
    // SAFETY: `info` is a 16-byte mnt_ns_info, the size the request encodes.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, &mut info as *mut MntNsInfo) };
    let ret = Errno::result(ret)?;
    let got = (request != NS_MNT_GET_INFO && ret > 0)
        // SAFETY: NEXT and PREV return a new descriptor that nothing else owns.
        .then(|| unsafe { OwnedFd::from_raw_fd(ret) });
    Ok((got, info))
}

/// A neighbour by NEXT or PREV: its id and type, or the errno.
fn neighbour(fd: &OwnedFd, request: u64) -> Value {
    match mnt_ioctl(fd, request) {
        Ok((got, info)) => {
            // SAFETY: NS_GET_NSTYPE takes no argument.
            let ty = got.map_or(-1, |f| unsafe {
                libc::ioctl(f.as_raw_fd(), NS_GET_NSTYPE as _)
            });
            json!({ "id": info.mnt_ns_id, "is_mnt": i64::from(ty) == libc::CLONE_NEWNS as i64 })
        }
        Err(e) => json!({ "errno": format!("{e:?}") }),
    }
}

/// The second namespace's side of ns_iter, in a child that unshared it:
/// PREV of the namespace with the higher id and NEXT of the one with the
/// lower id, which must land between the two (the ids' order need not be
/// the order of creation).
fn iterate_from_second(first: &OwnedFd, first_id: u64) -> Result<Extra, Errno> {
    unshare(flags_of(&[NsType::Mnt]))?;
    let second = open("/proc/self/ns/mnt")?;
    let (_, info) = mnt_ioctl(&second, NS_MNT_GET_INFO)?;
    let (lower, higher) = match info.mnt_ns_id > first_id {
        true => ((first, first_id), (&second, info.mnt_ns_id)),
        false => ((&second, info.mnt_ns_id), (first, first_id)),
    };
    let (_, first_info) = mnt_ioctl(first, NS_MNT_GET_INFO)?;
    let mut extra = Extra::new();
    extra.insert("second_id".into(), info.mnt_ns_id.into());
    extra.insert("second_mounts".into(), info.nr_mounts.into());
    extra.insert("second_mountinfo".into(), read_mountinfo().len().into());
    // A namespace's count against what listmount lists in it from another:
    // mountinfo shows only what lies below the process's root.
    extra.insert("first_mounts".into(), first_info.nr_mounts.into());
    extra.insert("first_listed".into(), listmount(first_id)?.len().into());
    extra.insert("lower_id".into(), lower.1.into());
    extra.insert("higher_id".into(), higher.1.into());
    extra.insert(
        "prev_of_higher".into(),
        neighbour(higher.0, NS_MNT_GET_PREV),
    );
    extra.insert("next_of_lower".into(), neighbour(lower.0, NS_MNT_GET_NEXT));
    let third = in_child(DEADLINE, || {
        unshare(flags_of(&[NsType::User, NsType::Mnt]))?;
        Ok(neighbour(&open("/proc/self/ns/mnt")?, NS_MNT_GET_PREV))
    });
    let third = third.unwrap_or_else(|e| json!({ "errno": format!("{e:?}") }));
    extra.insert("prev_of_third".into(), third);
    Ok(extra)
}

pub fn ns_iter() -> Result<Extra, Errno> {
    let first = open("/proc/self/ns/mnt")?;
    let (_, info) = mnt_ioctl(&first, NS_MNT_GET_INFO)?;
    let mut extra = Extra::new();
    extra.insert("first_id".into(), info.mnt_ns_id.into());
    extra.extend(in_child(DEADLINE, || {
        iterate_from_second(&first, info.mnt_ns_id)
    })?);
    Ok(extra)
}

/// `struct mnt_id_req` (MNT_ID_REQ_SIZE_VER1).
#[repr(C)]
struct MntIdReq {
    size: u32,
    spare: u32,
    mnt_id: u64,
    param: u64,
    mnt_ns_id: u64,
}

fn mnt_id_req(mnt_id: u64, param: u64, ns: u64) -> MntIdReq {
    MntIdReq {
        size: 32,
        spare: 0,
        mnt_id,
        param,
        mnt_ns_id: ns,
    }
}

/// listmount(2) of the mounts below the root of namespace `ns` (0: the caller's).
fn listmount(ns: u64) -> Result<Vec<u64>, Errno> {
    let req = mnt_id_req(LSMT_ROOT, 0, ns);
    let mut ids = vec![0u64; 1024];
    // SAFETY: `req` is a complete mnt_id_req and `ids` holds 1024 ids.
    let n = unsafe {
        libc::syscall(
            SYS_LISTMOUNT,
            &req as *const MntIdReq,
            ids.as_mut_ptr(),
            ids.len(),
            0,
        )
    };
    ids.truncate(Errno::result(n)? as usize);
    Ok(ids)
}

/// statmount(2) of mount `id` in namespace `ns`: its filesystem type and
/// the id of the namespace it reports.
fn statmount(id: u64, ns: u64) -> Result<(String, Option<u64>), Errno> {
    let req = mnt_id_req(id, STATMOUNT_FS_TYPE | STATMOUNT_MNT_NS_ID, ns);
    let mut buf = vec![0u8; 4096];
    // SAFETY: `req` is a complete mnt_id_req and `buf` holds 4096 bytes.
    let ret = unsafe {
        libc::syscall(
            SYS_STATMOUNT,
            &req as *const MntIdReq,
            buf.as_mut_ptr(),
            buf.len(),
            0,
        )
    };
    Errno::result(ret)?;
    let u32_at = |at: usize| u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default());
    let u64_at = |at: usize| u64::from_ne_bytes(buf[at..at + 8].try_into().unwrap_or_default());
    let mask = u64_at(STATMOUNT_MASK_AT);
    let start = STATMOUNT_STR + u32_at(STATMOUNT_FS_TYPE_AT) as usize;
    let text = buf.get(start..).unwrap_or_default();
    let end = text.iter().position(|b| *b == 0).unwrap_or(0);
    let fs = String::from_utf8_lossy(&text[..end]).into_owned();
    Ok((
        fs,
        (mask & STATMOUNT_MNT_NS_ID != 0).then(|| u64_at(STATMOUNT_NS_ID_AT)),
    ))
}

/// What listmount and statmount show of namespace `ns` and of this one.
fn list_both(ns: u64, lines: u32, nr_mounts: u32) -> Result<Extra, Errno> {
    let own = listmount(0)?;
    let theirs = listmount(ns)?;
    let tmpfs = |ids: &[u64], ns: u64| -> Result<(usize, bool), Errno> {
        let mut count = 0;
        let mut all_in_ns = true;
        for id in ids {
            let (fs, in_ns) = statmount(*id, ns)?;
            count += usize::from(fs == "tmpfs");
            all_in_ns &= ns == 0 || in_ns == Some(ns);
        }
        Ok((count, all_in_ns))
    };
    let (own_tmpfs, _) = tmpfs(&own, 0)?;
    let (foreign_tmpfs, all_in_ns) = tmpfs(&theirs, ns)?;
    let mut extra = Extra::new();
    extra.insert("own_count".into(), own.len().into());
    extra.insert("own_mountinfo".into(), read_mountinfo().len().into());
    extra.insert("foreign_count".into(), theirs.len().into());
    extra.insert("foreign_mountinfo".into(), lines.into());
    extra.insert("foreign_nr_mounts".into(), nr_mounts.into());
    extra.insert("own_tmpfs".into(), own_tmpfs.into());
    extra.insert("foreign_tmpfs".into(), foreign_tmpfs.into());
    extra.insert("foreign_ns_id_reported".into(), all_in_ns.into());
    Ok(extra)
}

pub fn list_foreign() -> Result<Extra, Errno> {
    let target = "/tmp/nsconform-foreign";
    make_dirs(target)?;
    let second = helper::spawn(DEADLINE, |ch| {
        unshare(flags_of(&[NsType::Mnt]))?;
        mount_tmpfs(target)?;
        ch.ready();
        ch.wait_go();
        Ok(())
    })?;
    second.wait_ready()?;
    let pid = second.pid();
    let (_, info) = mnt_ioctl(&open(&format!("/proc/{pid}/ns/mnt"))?, NS_MNT_GET_INFO)?;
    let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .map_err(crate::sys::errno::io_errno)?;
    let lines = mountinfo.lines().count() as u32;
    let result = list_both(info.mnt_ns_id, lines, info.nr_mounts);
    second.go();
    second.finish()?;
    result
}
