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

/// Observe the `ns` section of the calling process.
pub fn observe() -> NsView {
    let mut view = NsView::new();
    for kind in KINDS {
        let names = std::iter::once(kind.name).chain(kind.for_children);
        for name in names {
            if let Some(id) = id_of("self", name) {
                view.insert(name.to_string(), id);
            }
        }
    }
    view
}
