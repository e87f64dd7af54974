//! The doors: the ways into namespaces a plan can take, syscall doors and
//! runtime doors, in one table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A way into namespaces.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Door {
    Clone,
    Clone3,
    Unshare,
    Setns,
    SetnsPidfd,
    Runc,
    Crun,
    Youki,
    Bwrap,
    UnshareCli,
    /// Any OCI runtime, by the path given with `--door oci:PATH`.
    Oci,
    Podman,
    Docker,
}

/// The syscall doors, one by one: the probe takes each itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallDoor {
    Clone,
    Clone3,
    Unshare,
    Setns,
    SetnsPidfd,
}

/// Whether a door is a syscall the probe makes or a runtime it runs. A match
/// on it needs no new arm when a runtime door comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorKind {
    Syscall(SyscallDoor),
    /// A container runtime or a tool (`runc`, `bwrap`, `unshare(1)`, ...).
    Runtime,
}

/// The runtime doors, in the order reports list them.
pub const RUNTIME_DOORS: [Door; 8] = [
    Door::Runc,
    Door::Crun,
    Door::Youki,
    Door::Bwrap,
    Door::UnshareCli,
    Door::Oci,
    Door::Podman,
    Door::Docker,
];

impl Door {
    /// The syscall doors: every case whose doors are `"all"` runs through them.
    pub const ALL: [Door; 5] = [
        Door::Clone,
        Door::Clone3,
        Door::Unshare,
        Door::Setns,
        Door::SetnsPidfd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Door::Clone => "clone",
            Door::Clone3 => "clone3",
            Door::Unshare => "unshare",
            Door::Setns => "setns",
            Door::SetnsPidfd => "setns-pidfd",
            Door::Runc => "runc",
            Door::Crun => "crun",
            Door::Youki => "youki",
            Door::Bwrap => "bwrap",
            Door::UnshareCli => "unshare-cli",
            Door::Oci => "oci",
            Door::Podman => "podman",
            Door::Docker => "docker",
        }
    }

    /// A syscall door or a runtime door, by name (`oci`, not `oci:PATH`).
    pub fn from_name(name: &str) -> Option<Door> {
        Door::ALL
            .into_iter()
            .chain(RUNTIME_DOORS)
            .find(|d| d.name() == name)
    }

    /// The syscall this door makes, or that it runs a runtime.
    pub fn kind(self) -> DoorKind {
        let syscall = match self {
            Door::Clone => SyscallDoor::Clone,
            Door::Clone3 => SyscallDoor::Clone3,
            Door::Unshare => SyscallDoor::Unshare,
            Door::Setns => SyscallDoor::Setns,
            Door::SetnsPidfd => SyscallDoor::SetnsPidfd,
            Door::Runc
            | Door::Crun
            | Door::Youki
            | Door::Bwrap
            | Door::UnshareCli
            | Door::Oci
            | Door::Podman
            | Door::Docker => return DoorKind::Runtime,
        };
        DoorKind::Syscall(syscall)
    }

    /// Whether the door runs a container runtime or a tool rather than a syscall.
    pub fn is_runtime(self) -> bool {
        self.kind() == DoorKind::Runtime
    }
}

impl std::fmt::Display for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_agree_with_the_kinds() {
        for door in Door::ALL {
            assert!(matches!(door.kind(), DoorKind::Syscall(_)), "{door}");
        }
        for door in RUNTIME_DOORS {
            assert!(door.is_runtime(), "{door}");
            assert_eq!(Door::from_name(door.name()), Some(door));
        }
    }
}
