//! The `ns` section: inode and device of every `/proc/self/ns/*` link.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

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
    let meta = std::fs::metadata(format!("/proc/{pid}/ns/{name}")).ok()?;
    Some(NsId {
        ino: meta.ino(),
        dev: meta.dev(),
    })
}

/// The namespace of type `ty` the calling process is in.
pub fn current(ty: NsType) -> Option<NsId> {
    id_of("self", ty.name())
}

/// Observe the `ns` section of the calling process: every link looked up
/// from one open `/proc/self/ns`, so that `/proc/self` is resolved once,
/// not once per link.
pub fn observe() -> NsView {
    use rustix::fs::{AtFlags, Mode, OFlags};
    let mut view = NsView::new();
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open("/proc/self/ns", flags, Mode::empty()) else {
        return view;
    };
    for kind in KINDS {
        for name in std::iter::once(kind.name).chain(kind.for_children) {
            if let Ok(st) = rustix::fs::statat(&dir, name, AtFlags::empty()) {
                let id = NsId {
                    ino: st.st_ino,
                    dev: st.st_dev,
                };
                view.insert(name.to_string(), id);
            }
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
        for (name, id) in &all {
            assert_eq!(id_of("self", name).as_ref(), Some(id), "{name}");
        }
    }
}
