//! The `ns` section: inode and device of every `/proc/self/ns/*` link.

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{AsFd, BorrowedFd};

use serde::{Deserialize, Serialize};

use crate::kind::{NsType, KINDS};

/// The identity of one namespace: the inode and device of its nsfs file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsId {
    pub ino: u64,
    pub dev: u64,
}

/// The identity of every namespace the process is in, and of those its
/// children will be in (`pid_for_children`, `time_for_children`).
pub type NsView = BTreeMap<String, NsId>;

/// The namespace of `name` (`uts`, `pid_for_children`, ...) of process `pid`
/// (`self` for the caller).
pub fn id_of(pid: &str, name: &str) -> Option<NsId> {
    link_at(rustix::fs::CWD, &format!("/proc/{pid}/ns/{name}"))
}

/// The namespace of type `ty` the calling process is in.
pub fn current(ty: NsType) -> Option<NsId> {
    id_of("self", ty.name())
}

/// The device of nsfs, the one filesystem every namespace's file is on:
/// stat'ed once per process (a fork inherits it), since the link's text
/// holds only the inode.
static NSFS_DEV: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// The inode in a namespace link's text, `uts:[4026531838]`.
fn ino_of_link(text: &[u8]) -> Option<u64> {
    let open = text.iter().position(|b| *b == b'[')?;
    let digits = text.get(open + 1..text.len().checked_sub(1)?)?;
    if text.last() != Some(&b']') || digits.is_empty() {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The namespace of the link `name` (under the open `/proc/<pid>/ns` `dir`,
/// or a whole path from the working directory):
/// its inode from readlink (the kernel formats the name, no nsfs path is
/// made), the device of nsfs from one stat per process. readlink and stat
/// ask the same of the kernel (the same ptrace check, the same namespace,
/// ENOENT alike for a `pid_for_children` whose namespace has no init yet).
fn link_at(dir: BorrowedFd<'_>, name: &str) -> Option<NsId> {
    use rustix::fs::AtFlags;
    let dev = match NSFS_DEV.get() {
        Some(dev) => *dev,
        None => {
            let st = rustix::fs::statat(dir, name, AtFlags::empty()).ok()?;
            let _ = NSFS_DEV.set(st.st_dev);
            return Some(NsId {
                ino: st.st_ino,
                dev: st.st_dev,
            });
        }
    };
    let mut buf = [0u8; 64];
    let len = rustix::fs::readlinkat_raw(dir, name, &mut buf[..]).ok()?;
    ino_of_link(&buf[..len]).map(|ino| NsId { ino, dev })
}

/// The names of the links of `/proc/self/ns`, in the order of the table of
/// kinds: each type's, then its `*_for_children` where it has one.
pub fn link_names() -> impl Iterator<Item = &'static str> {
    KINDS
        .iter()
        .flat_map(|kind| std::iter::once(kind.name).chain(kind.for_children))
}

/// Observe the `ns` section of the calling process: every link looked up
/// from one open `/proc/self/ns`, so that `/proc/self` is resolved once,
/// not once per link.
pub fn observe() -> NsView {
    observe_links(None)
}

/// [`observe`], only the links `only` names when given: the first lookup
/// of a link in a process is what a view's `ns` costs.
pub fn observe_links(only: Option<&BTreeSet<String>>) -> NsView {
    use rustix::fs::{Mode, OFlags};
    let mut view = NsView::new();
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open("/proc/self/ns", flags, Mode::empty()) else {
        return view;
    };
    for name in link_names().filter(|n| only.is_none_or(|o| o.contains(*n))) {
        if let Some(id) = link_at(dir.as_fd(), name) {
            view.insert(name.to_string(), id);
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_is_the_one_looked_up_alone() {
        let all = observe();
        assert!(all.contains_key("uts") && all.contains_key("pid_for_children"));
        assert_eq!(all.len(), observe().len(), "the second view, dev cached");
        for (name, id) in &all {
            assert_eq!(id_of("self", name).as_ref(), Some(id), "{name}");
            let st = rustix::fs::stat(format!("/proc/self/ns/{name}")).unwrap();
            assert_eq!((id.ino, id.dev), (st.st_ino, st.st_dev), "{name}");
        }
    }

    #[test]
    fn the_inode_is_read_from_the_link_text() {
        assert_eq!(ino_of_link(b"uts:[4026531838]"), Some(4026531838));
        assert_eq!(ino_of_link(b"pid:[1]"), Some(1));
        for bad in [
            &b"uts:[]"[..],
            b"uts:[12",
            b"uts:12]",
            b"",
            b"]",
            b"uts:[1x]",
        ] {
            assert_eq!(ino_of_link(bad), None, "{bad:?}");
        }
    }
}
