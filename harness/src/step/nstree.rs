//! Carrying out the nsfs steps of the namespace tree (6.18 and later): file
//! handles of namespaces, NS_GET_ID across every type, and listns(2). Each
//! only reads, or acts in a forked child that ends with the step.

use std::collections::BTreeSet;
use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;
use serde_json::{json, Map, Value};

use super::Extra;
use crate::kind::KINDS;
use crate::plan::nsfs::HandleStep;
use crate::sys::helper::{self, in_child};
use crate::sys::ns::{
    file_handle, flags_of, ns_get_id, ns_of_fd, open, unshare, FileHandle, DEADLINE,
};
use crate::view::ns::NsId;

/// The root of nsfs, as open_by_handle_at(2) takes it (6.18).
const FD_NSFS_ROOT: i32 = -10003;
/// listns(2) on x86_64 (6.19).
const SYS_LISTNS: libc::c_long = 470;
fn errno_json(e: Errno) -> Value {
    json!({ "errno": format!("{e:?}") })
}

/// open_by_handle_at(FD_NSFS_ROOT, handle): whether it opens `original`,
/// or the errno.
fn reopen(handle: &FileHandle, original: NsId) -> Value {
    // SAFETY: `handle` is a complete file_handle the kernel filled in.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            FD_NSFS_ROOT,
            handle as *const FileHandle,
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    match Errno::result(ret) {
        Ok(fd) => {
            // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            json!({ "same": ns_of_fd(&fd).is_ok_and(|id| id == original) })
        }
        Err(e) => errno_json(e),
    }
}

/// A handle of `path`'s namespace, reopened here and, with `unshare`, by a
/// child out of its scope.
pub fn handle(s: &HandleStep) -> Result<Extra, Errno> {
    let fd = open(&s.path)?;
    let original = ns_of_fd(&fd)?;
    let handle = file_handle(&fd)?;
    let mut extra = Extra::new();
    extra.insert("handle_type".into(), handle.kind.into());
    extra.insert("handle_bytes".into(), handle.bytes.into());
    extra.insert("here".into(), reopen(&handle, original));
    if !s.unshare.is_empty() {
        let flags = flags_of(&s.unshare);
        let away = in_child(DEADLINE, || {
            unshare(flags)?;
            Ok(reopen(&handle, original))
        });
        extra.insert("away".into(), away.unwrap_or_else(errno_json));
    }
    Ok(extra)
}

/// NS_GET_ID of every namespace link of this process, and of the same
/// namespaces through `/proc/thread-self`.
pub fn ids() -> Result<Extra, Errno> {
    let mut ids = Map::new();
    let mut seen = BTreeSet::new();
    let mut through_thread = true;
    let mut children = Map::new();
    for kind in KINDS {
        let Ok(fd) = open(&format!("/proc/self/ns/{}", kind.name)) else {
            continue;
        };
        let id = ns_get_id(&fd)?;
        let thread = open(&format!("/proc/thread-self/ns/{}", kind.name))?;
        through_thread &= ns_get_id(&thread)? == id;
        seen.insert(id);
        ids.insert(kind.name.into(), id.into());
        if let Some(link) = kind.for_children {
            let fd = open(&format!("/proc/self/ns/{link}"))?;
            children.insert(link.into(), ns_get_id(&fd)?.into());
        }
    }
    let mut extra = Extra::new();
    extra.insert("count".into(), ids.len().into());
    extra.insert("distinct".into(), seen.len().into());
    extra.insert("same_through_thread_self".into(), through_thread.into());
    extra.insert("ids".into(), Value::Object(ids));
    extra.insert("for_children".into(), Value::Object(children));
    Ok(extra)
}

/// `struct ns_id_req` of listns(2).
#[repr(C)]
struct NsIdReq {
    size: u32,
    spare: u32,
    ns_id: u64,
    ns_type: u32,
    spare2: u32,
    user_ns_id: u64,
}

/// listns(2): the ids after `after` of type `ns_type` owned by `owner`
/// (0: any), at most `max` of them.
fn listns_call(
    after: u64,
    ns_type: u32,
    owner: u64,
    max: usize,
    flags: u32,
) -> Result<Vec<u64>, Errno> {
    let req = NsIdReq {
        size: std::mem::size_of::<NsIdReq>() as u32,
        spare: 0,
        ns_id: after,
        ns_type,
        spare2: 0,
        user_ns_id: owner,
    };
    let mut ids = vec![0u64; max];
    // SAFETY: `req` is a complete ns_id_req and `ids` has room for `max` ids.
    let n = unsafe {
        libc::syscall(
            SYS_LISTNS,
            &req as *const NsIdReq,
            ids.as_mut_ptr(),
            max,
            flags,
        )
    };
    let n = Errno::result(n)? as usize;
    ids.truncate(n.min(max));
    Ok(ids)
}

fn own_id(link: &str) -> Result<u64, Errno> {
    ns_get_id(&open(&format!("/proc/self/ns/{link}"))?)
}

/// What listns shows a child in a user and UTS namespace of its own.
fn list_from_own(sibling_uts: u64) -> Result<Extra, Errno> {
    use crate::kind::NsType;
    unshare(flags_of(&[NsType::User, NsType::Uts]))?;
    let (uts, user) = (own_id("uts")?, own_id("user")?);
    let uts_type = NsType::Uts.kind().flag as u32;
    let net_type = NsType::Net.kind().flag as u32;
    let all = listns_call(0, uts_type, 0, 256, 0)?;
    let owned = listns_call(0, uts_type, user, 256, 0)?;
    let net_owned = listns_call(0, net_type, user, 256, 0)?;
    // Nothing after `uts` in the type's tree ends the listing with ENOENT
    // (the end of pagination), nothing visible after it with 0 ids.
    let after = match listns_call(uts, uts_type, 0, 256, 0) {
        Err(Errno::ENOENT) => Vec::new(),
        other => other?,
    };
    let first = listns_call(0, uts_type, 0, 1, 0)?;
    let bad_flags =
        listns_call(0, uts_type, 0, 1, 1).map_or_else(|e| format!("{e:?}"), |_| "ok".into());
    let mut extra = Extra::new();
    extra.insert("own_listed".into(), all.contains(&uts).into());
    extra.insert("sibling_listed".into(), all.contains(&sibling_uts).into());
    extra.insert(
        "ascending".into(),
        all.windows(2).all(|w| w[0] < w[1]).into(),
    );
    extra.insert("owner_lists_own".into(), owned.contains(&uts).into());
    extra.insert(
        "owner_lists_sibling".into(),
        owned.contains(&sibling_uts).into(),
    );
    extra.insert("owned_net".into(), net_owned.len().into());
    extra.insert("after_lists_own".into(), after.contains(&uts).into());
    extra.insert(
        "after_all_later".into(),
        after.iter().all(|id| *id > uts).into(),
    );
    extra.insert("first_page".into(), first.len().into());
    extra.insert("bad_flags".into(), bad_flags.into());
    Ok(extra)
}

/// listns(2) from a child with a user and UTS namespace of its own, beside a
/// sibling helper with its own pair.
pub fn listns() -> Result<Extra, Errno> {
    use crate::kind::NsType;
    let sibling = helper::spawn(DEADLINE, |ch| {
        unshare(flags_of(&[NsType::User, NsType::Uts]))?;
        ch.ready();
        ch.wait_go();
        Ok(())
    })?;
    sibling.wait_ready()?;
    let sibling_uts = ns_get_id(&open(&format!("/proc/{}/ns/uts", sibling.pid()))?)?;
    let result = in_child(DEADLINE, || list_from_own(sibling_uts));
    sibling.go();
    sibling.finish()?;
    result
}
