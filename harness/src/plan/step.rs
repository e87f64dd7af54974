//! The steps: one thing a process does inside, in order. The plain steps
//! carry their payloads here; each namespace type's own steps live in its
//! file (`pid.rs`, `mnt.rs`, ...) and are grouped under its name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{cgroup, ipc, mnt, net, nsfs, pid, time, user, uts, Plain};
use crate::kind::NsType;

/// Propagation types for the `propagation` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PropagationType {
    Shared,
    Private,
    Slave,
    Unbindable,
}

/// A mount made by the `mount` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MountStep {
    /// `tmpfs`, `proc`, `mqueue`, `sysfs`, `cgroup2`, or `bind`.
    pub fstype: String,
    /// Where: a path below `/tmp` (which is a fresh tmpfs inside the new mount
    /// namespace), or one of `/proc`, `/sys`, `/dev/mqueue`, `/sys/fs/cgroup`.
    pub target: String,
    /// For `bind`: what to bind, with the same rules as `target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Mount flags: `ro`, `nosuid`, `nodev`, `noexec`, `rec`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Filesystem data, as for mount(2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// A change of propagation type (`mount --make-*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PropagationStep {
    pub target: String,
    #[serde(rename = "type")]
    pub ty: PropagationType,
    #[serde(default)]
    pub recursive: bool,
}

/// The kinds of SysV IPC object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SysvKind {
    Shm,
    Msg,
    Sem,
}

/// A SysV IPC object to create (`IPC_CREAT | IPC_EXCL`, mode 0600).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SysvStep {
    pub kind: SysvKind,
    pub key: i32,
}

/// One thing to do inside, in order. Each step's result is recorded in the
/// process's view under `steps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Sethostname(String),
    Setdomainname(String),
    Mkdir(String),
    Mount(MountStep),
    Umount(String),
    Propagation(PropagationStep),
    Sysv(SysvStep),
    /// Create a POSIX message queue, such as `/nsconform`.
    Mqueue(String),
    /// Bring a network link up.
    LinkUp(String),
    Setsid(Plain),
    /// Record the owner and mode of a path (`stat`).
    Stat(String),
    Pid(pid::PidStep),
    User(user::UserStep),
    Mnt(mnt::MntStep),
    Net(net::NetStep),
    Ipc(ipc::IpcStep),
    Uts(uts::UtsStep),
    Cgroup(cgroup::CgroupStep),
    Time(time::TimeStep),
    Nsfs(nsfs::NsfsStep),
}

impl Step {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Sethostname(_) => "sethostname",
            Step::Setdomainname(_) => "setdomainname",
            Step::Mkdir(_) => "mkdir",
            Step::Mount(_) => "mount",
            Step::Umount(_) => "umount",
            Step::Propagation(_) => "propagation",
            Step::Sysv(_) => "sysv",
            Step::Mqueue(_) => "mqueue",
            Step::LinkUp(_) => "link_up",
            Step::Setsid(_) => "setsid",
            Step::Stat(_) => "stat",
            Step::Pid(_) => "pid",
            Step::User(_) => "user",
            Step::Mnt(_) => "mnt",
            Step::Net(_) => "net",
            Step::Ipc(_) => "ipc",
            Step::Uts(_) => "uts",
            Step::Cgroup(_) => "cgroup",
            Step::Time(_) => "time",
            Step::Nsfs(_) => "nsfs",
        }
    }

    /// The name of the step proper: `name` for a plain step, and
    /// `<group>.<name>` for one of a namespace type's own steps.
    pub fn label(&self) -> String {
        match self.sub_name() {
            Some(sub) => format!("{}.{sub}", self.name()),
            None => self.name().to_string(),
        }
    }

    fn sub_name(&self) -> Option<&'static str> {
        Some(match self {
            Step::Pid(s) => s.name(),
            Step::User(s) => s.name(),
            Step::Mnt(s) => s.name(),
            Step::Net(s) => s.name(),
            Step::Ipc(s) => s.name(),
            Step::Uts(s) => s.name(),
            Step::Cgroup(s) => s.name(),
            Step::Time(s) => s.name(),
            Step::Nsfs(s) => s.name(),
            _ => return None,
        })
    }

    /// What the step's own check refuses, for the steps of a type.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Step::Pid(s) => s.check(),
            Step::User(s) => s.check(),
            Step::Mnt(s) => s.check(),
            Step::Net(s) => s.check(),
            Step::Ipc(s) => s.check(),
            Step::Uts(s) => s.check(),
            Step::Cgroup(s) => s.check(),
            Step::Time(s) => s.check(),
            Step::Nsfs(s) => s.check(),
            _ => Ok(()),
        }
    }

    /// The namespace that must be new before this step may run, because
    /// the step would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        match self {
            Step::Sethostname(_) | Step::Setdomainname(_) => Some(NsType::Uts),
            Step::Mkdir(_) | Step::Mount(_) | Step::Umount(_) | Step::Propagation(_) => {
                Some(NsType::Mnt)
            }
            Step::Sysv(_) | Step::Mqueue(_) => Some(NsType::Ipc),
            Step::LinkUp(_) => Some(NsType::Net),
            Step::Setsid(_) | Step::Stat(_) => None,
            Step::Pid(s) => s.guarded_by(),
            Step::User(s) => s.guarded_by(),
            Step::Mnt(s) => s.guarded_by(),
            Step::Net(s) => s.guarded_by(),
            Step::Ipc(s) => s.guarded_by(),
            Step::Uts(s) => s.guarded_by(),
            Step::Cgroup(s) => s.guarded_by(),
            Step::Time(s) => s.guarded_by(),
            Step::Nsfs(s) => s.guarded_by(),
        }
    }
}
