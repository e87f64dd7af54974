//! The table of namespace kinds: one row per type drives every per-type loop.

use serde::{Deserialize, Serialize};

/// A namespace type, as named in `/proc/self/ns` and in `cases/<type>/`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NsType {
    User,
    Pid,
    Mnt,
    Net,
    Ipc,
    Uts,
    Cgroup,
    Time,
}

/// One row of the table: everything the suite knows about a namespace type.
#[derive(Debug, Clone, Copy)]
pub struct NsKind {
    pub ty: NsType,
    /// The name used in cases, reports and `/proc/self/ns/<name>`.
    pub name: &'static str,
    /// The `CLONE_NEW*` flag.
    pub flag: u64,
    /// The `/proc/self/ns` link that shows the namespace for children, if any.
    pub for_children: Option<&'static str>,
    /// The kernel configuration option that builds it.
    pub kconfig: &'static str,
    /// The kernel release that brought it.
    pub since: &'static str,
    /// Whether its namespaces form a tree (NS_GET_PARENT works).
    pub hierarchical: bool,
}

/// `CLONE_NEWTIME`, which the libc and nix crates do not all name.
pub const CLONE_NEWTIME: u64 = 0x80;

/// The table, in the order namespaces are entered: user first, so that the
/// capabilities it grants cover the others.
pub const KINDS: [NsKind; 8] = [
    NsKind {
        ty: NsType::User,
        name: "user",
        flag: libc::CLONE_NEWUSER as u64,
        for_children: None,
        kconfig: "CONFIG_USER_NS",
        since: "3.8",
        hierarchical: true,
    },
    NsKind {
        ty: NsType::Pid,
        name: "pid",
        flag: libc::CLONE_NEWPID as u64,
        for_children: Some("pid_for_children"),
        kconfig: "CONFIG_PID_NS",
        since: "2.6.24",
        hierarchical: true,
    },
    NsKind {
        ty: NsType::Mnt,
        name: "mnt",
        flag: libc::CLONE_NEWNS as u64,
        for_children: None,
        kconfig: "CONFIG_NAMESPACES",
        since: "2.4.19",
        hierarchical: false,
    },
    NsKind {
        ty: NsType::Net,
        name: "net",
        flag: libc::CLONE_NEWNET as u64,
        for_children: None,
        kconfig: "CONFIG_NET_NS",
        since: "2.6.29",
        hierarchical: false,
    },
    NsKind {
        ty: NsType::Ipc,
        name: "ipc",
        flag: libc::CLONE_NEWIPC as u64,
        for_children: None,
        kconfig: "CONFIG_IPC_NS",
        since: "2.6.19",
        hierarchical: false,
    },
    NsKind {
        ty: NsType::Uts,
        name: "uts",
        flag: libc::CLONE_NEWUTS as u64,
        for_children: None,
        kconfig: "CONFIG_UTS_NS",
        since: "2.6.19",
        hierarchical: false,
    },
    NsKind {
        ty: NsType::Cgroup,
        name: "cgroup",
        flag: libc::CLONE_NEWCGROUP as u64,
        for_children: None,
        kconfig: "CONFIG_CGROUPS",
        since: "4.6",
        hierarchical: false,
    },
    NsKind {
        ty: NsType::Time,
        name: "time",
        flag: CLONE_NEWTIME,
        for_children: Some("time_for_children"),
        kconfig: "CONFIG_TIME_NS",
        since: "5.6",
        hierarchical: false,
    },
];

impl NsType {
    /// The row of [`KINDS`] for this type.
    pub fn kind(self) -> &'static NsKind {
        KINDS
            .iter()
            .find(|k| k.ty == self)
            .expect("every type has a row")
    }

    pub fn name(self) -> &'static str {
        self.kind().name
    }

    /// The type named `name`, as in a directory of `cases/`.
    pub fn from_name(name: &str) -> Option<NsType> {
        KINDS.iter().find(|k| k.name == name).map(|k| k.ty)
    }

    pub fn all() -> impl Iterator<Item = NsType> {
        KINDS.iter().map(|k| k.ty)
    }
}

impl std::fmt::Display for NsType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in KINDS {
            assert_eq!(NsType::from_name(k.name), Some(k.ty));
        }
    }
}
