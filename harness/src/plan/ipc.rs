//! Steps about the ipc namespace: what a case may ask a process to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;
use crate::plan::SysvKind;

/// The process creates a SysV object under `key` and puts content in it
/// (text `nsconform-1`, or semaphore value 1); then a forked child (in a new
/// IPC namespace of its own with `new_ns`) looks the key up, creates it if
/// it is not there, reads the content and writes its own (`nsconform-2`, 2);
/// last the process reads its object again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SameKeyStep {
    pub kind: SysvKind,
    pub key: i32,
    #[serde(default)]
    pub new_ns: bool,
}

/// A forked child keeps a descriptor of its IPC namespace, unshares a new
/// one, lists `/proc/sysvipc/<kind>`, setns's back, and lists it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejoinStep {
    pub kind: SysvKind,
}

/// A forked child unshares new IPC and mount namespaces (made private),
/// creates the POSIX queue `name`, lists the mqueue filesystem already
/// mounted at `mount`, mounts a new one over it, and lists that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqueueOtherNsStep {
    pub name: String,
    pub mount: String,
}

/// mqns_03 as LTP runs it: a forked child unshares new IPC and mount
/// namespaces (made private), creates the queue `name` with mq_open(3),
/// mounts an mqueue filesystem at `mount` and finds it there, creates a
/// second queue `<name>-creat` with creat(2) on that mount, unmounts it,
/// mounts it again, and finds both queues, the second one open to mq_open(3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqueueRemountStep {
    pub name: String,
    pub mount: String,
}

/// A forked child unshares new IPC and mount namespaces (made private),
/// creates the queue `name`, mounts the namespace's mqueue filesystem at
/// `mount`, watches the queue with inotify(7), unmounts it, and leaves the
/// namespace for a new one, so that nothing holds it: when the namespace is
/// destroyed, its mqueue filesystem goes with its queues (the watch sees
/// IN_UNMOUNT and IN_IGNORED).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MqueueGoneStep {
    pub name: String,
    pub mount: String,
}

/// System V objects are destroyed with their IPC namespace: a forked child
/// makes a user namespace of its own (at most one IPC namespace in it, a
/// lock limit of one page); in a new IPC namespace a process locks a
/// one-page segment (SHM_LOCK) and tries a second; while it lives, a second
/// IPC namespace is tried; once it is reaped, a new IPC namespace (the
/// kernel waits for the old one to be freed) locks a page again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SysvGoneStep {}

/// Write one of the per-namespace IPC sysctls of ipc_namespaces(7)
/// (`kernel.shmmax`, `fs.mqueue.queues_max`, ...) in the caller's namespace,
/// and read it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SysctlStep {
    pub name: String,
    pub value: String,
}

/// A step about the ipc namespace, written `{"ipc": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum IpcStep {
    SameKey(SameKeyStep),
    Rejoin(RejoinStep),
    MqueueOtherNs(MqueueOtherNsStep),
    Sysctl(SysctlStep),
    MqueueRemount(MqueueRemountStep),
    MqueueGone(MqueueGoneStep),
    SysvGone(SysvGoneStep),
}

impl IpcStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            IpcStep::SameKey(_) => "same_key",
            IpcStep::Rejoin(_) => "rejoin",
            IpcStep::MqueueOtherNs(_) => "mqueue_other_ns",
            IpcStep::Sysctl(_) => "sysctl",
            IpcStep::MqueueRemount(_) => "mqueue_remount",
            IpcStep::MqueueGone(_) => "mqueue_gone",
            IpcStep::SysvGone(_) => "sysv_gone",
        }
    }

    /// `same_key` creates an object in the process's own IPC namespace; the
    /// others act only in namespaces their own child made.
    pub fn guarded_by(&self) -> Option<NsType> {
        match self {
            IpcStep::SameKey(_) | IpcStep::Sysctl(_) => Some(NsType::Ipc),
            IpcStep::Rejoin(_)
            | IpcStep::MqueueOtherNs(_)
            | IpcStep::MqueueRemount(_)
            | IpcStep::MqueueGone(_)
            | IpcStep::SysvGone(_) => None,
        }
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            IpcStep::SameKey(s) if s.key == 0 => Err("key 0 is IPC_PRIVATE: use another".into()),
            IpcStep::Sysctl(s) if !crate::view::ipc::SYSCTLS.contains(&s.name.as_str()) => Err(
                format!("`{}` is not an IPC sysctl of ipc_namespaces(7)", s.name),
            ),
            IpcStep::Sysctl(s) if s.value.is_empty() || s.value.contains('\n') => {
                Err(format!("`{}` is not a sysctl value", s.value))
            }
            IpcStep::MqueueOtherNs(s) => check_queue_and_mount(&s.name, &s.mount),
            IpcStep::MqueueRemount(s) => check_queue_and_mount(&s.name, &s.mount),
            IpcStep::MqueueGone(s) => check_queue_and_mount(&s.name, &s.mount),
            _ => Ok(()),
        }
    }
}

/// A queue name like `/name` (room left for a suffix) and a mount point below /tmp.
fn check_queue_and_mount(name: &str, mount: &str) -> Result<(), String> {
    if !name.starts_with('/') || name.len() > 200 || name[1..].contains('/') {
        return Err(format!("`{name}` is not a queue name like /name"));
    }
    if !mount.starts_with("/tmp/") || mount.contains("..") {
        return Err(format!("`{mount}` is not a path under /tmp"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(r#"{"same_key": {"kind": "shm", "key": 7, "new_ns": true}}"#, true)]
    #[case(r#"{"same_key": {"kind": "msg", "key": 0}}"#, false)]
    #[case(r#"{"rejoin": {"kind": "sem"}}"#, true)]
    #[case(r#"{"sysctl": {"name": "kernel.shmmni", "value": "100"}}"#, true)]
    #[case(r#"{"sysctl": {"name": "kernel.hostname", "value": "x"}}"#, false)]
    #[case(r#"{"sysctl": {"name": "fs.mqueue.msg_max", "value": ""}}"#, false)]
    #[case(r#"{"mqueue_other_ns": {"name": "/q", "mount": "/tmp/mq"}}"#, true)]
    #[case(r#"{"mqueue_other_ns": {"name": "q", "mount": "/tmp/mq"}}"#, false)]
    #[case(r#"{"mqueue_remount": {"name": "/q", "mount": "/tmp/mq"}}"#, true)]
    #[case(r#"{"sysv_gone": {}}"#, true)]
    #[case(r#"{"mqueue_remount": {"name": "/q", "mount": "/dev/mqueue"}}"#, false)]
    #[case(
        r#"{"mqueue_other_ns": {"name": "/q", "mount": "/dev/mqueue"}}"#,
        false
    )]
    fn checks(#[case] text: &str, #[case] ok: bool) {
        let step: IpcStep = serde_json::from_str(text).unwrap();
        assert_eq!(step.check().is_ok(), ok);
    }
}
