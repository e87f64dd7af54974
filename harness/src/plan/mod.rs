//! The plan: what the harness asks a probe to do, and the outcome the probe
//! answers with. These types are the whole boundary between the judge side
//! (cases, fixtures, verdicts) and the actor side (doors, steps, views).

pub mod cgroup;
pub mod ipc;
pub mod mnt;
pub mod net;
pub mod nsfs;
pub mod pid;
pub mod runtime;
pub mod time;
pub mod user;
pub mod uts;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

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
            .chain(runtime::RUNTIME_DOORS)
            .find(|d| d.name() == name)
    }

    /// Whether the door runs a container runtime or a tool rather than a syscall.
    pub fn is_runtime(self) -> bool {
        runtime::RUNTIME_DOORS.contains(&self)
    }
}

impl std::fmt::Display for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Settings of a namespace type that takes none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plain {}

/// The namespaces to create, each with its settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Namespaces {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnt: Option<MntSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeSettings>,
}

impl Namespaces {
    /// The types named, in the order of the kind table (user first).
    pub fn types(&self) -> Vec<NsType> {
        NsType::all().filter(|t| self.has(*t)).collect()
    }

    pub fn has(&self, ty: NsType) -> bool {
        match ty {
            NsType::User => self.user.is_some(),
            NsType::Pid => self.pid.is_some(),
            NsType::Mnt => self.mnt.is_some(),
            NsType::Net => self.net.is_some(),
            NsType::Ipc => self.ipc.is_some(),
            NsType::Uts => self.uts.is_some(),
            NsType::Cgroup => self.cgroup.is_some(),
            NsType::Time => self.time.is_some(),
        }
    }

    /// The `CLONE_NEW*` flags of all the types named.
    pub fn flags(&self) -> u64 {
        self.types()
            .iter()
            .map(|t| t.kind().flag)
            .fold(0, |a, f| a | f)
    }

    /// Whether the namespaces apply only to children of the process that
    /// creates them with unshare or joins them with setns.
    pub fn needs_child(&self) -> bool {
        self.pid.is_some() || self.time.is_some()
    }
}

/// The id on the outside of a map line: a number, or `"caller"` for the
/// effective id of the process that creates the namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Outside {
    Id(u32),
    Caller(CallerTag),
}

/// The word `caller`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallerTag {
    Caller,
}

/// One line of a uid or gid map: inside id, outside id, count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MapLine(pub u32, pub Outside, pub u32);

/// Render map lines in the kernel's format, `caller` resolved to `caller_id`.
pub fn render_map(lines: &[MapLine], caller_id: u32) -> String {
    lines
        .iter()
        .map(|MapLine(inside, outside, count)| {
            let outside = match outside {
                Outside::Id(id) => *id,
                Outside::Caller(_) => caller_id,
            };
            format!("{inside} {outside} {count}\n")
        })
        .collect()
}

/// The most lines a map may have (the kernel's limit since 4.15).
pub const MAX_MAP_LINES: usize = 340;

/// What to write to `/proc/<pid>/setgroups` before the gid map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Setgroups {
    Allow,
    Deny,
}

/// Settings of a new user namespace. Without maps, inside id 0 maps to the
/// caller's effective uid and gid, one id each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_map: Option<Vec<MapLine>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid_map: Option<Vec<MapLine>>,
    /// Default: `deny` when the writer lacks CAP_SETGID over the parent
    /// namespace, left alone otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setgroups: Option<Setgroups>,
    /// Leave the maps unwritten (the process sees the overflow ids).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unmapped: bool,
}

/// How the mount table of a new mount namespace is prepared before the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Prepare {
    /// Make every mount private (`mount --make-rprivate /`), as unshare(1)
    /// does: nothing done inside can propagate out.
    #[default]
    Private,
    /// Keep the propagation copied from the creator. Only a case that mounts
    /// nowhere but on mounts it made itself may choose this.
    Keep,
}

/// Settings of a new mount namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MntSettings {
    #[serde(default)]
    pub prepare: Prepare,
}

/// A clock offset: seconds and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Offset(pub i64, pub i64);

/// Settings of a new time namespace: the offsets written before anyone enters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monotonic: Option<Offset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boottime: Option<Offset>,
}

impl TimeSettings {
    /// The text written to `timens_offsets` for these settings.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for (clock, offset) in [("monotonic", self.monotonic), ("boottime", self.boottime)] {
            if let Some(o) = offset {
                text.push_str(&format!("{clock} {} {}\n", o.0, o.1));
            }
        }
        text
    }

    pub fn has_offsets(&self) -> bool {
        self.monotonic.is_some() || self.boottime.is_some()
    }
}

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

/// A process whose view a case can observe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// The process in all the new namespaces, after the steps.
    Inside,
    /// A child that `inside` forks after its steps.
    Child,
    /// The process that called unshare(2) (the unshare door only): for pid
    /// and time namespaces it stays outside, and `inside` is its child.
    Unsharer,
    /// The probe itself, which stays where it started, observed while
    /// `inside` is still alive. `before.host` is its view before the door.
    Host,
}

impl Process {
    pub fn name(self) -> &'static str {
        match self {
            Process::Inside => "inside",
            Process::Child => "child",
            Process::Unsharer => "unsharer",
            Process::Host => "host",
        }
    }
}

/// Everything a probe needs to carry out one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub door: Door,
    pub namespaces: Namespaces,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Steps the child runs before it observes (only with `child` observed).
    #[serde(default)]
    pub child_steps: Vec<Step>,
    pub observe: Vec<Process>,
    /// The view sections each process observes: those its fixture judges;
    /// every section when absent (`record`, `probe`, `run --full-views`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<crate::view::Section>>,
    /// Enter a user namespace first, mapping the caller to root, and run the
    /// trial from there: how an unprivileged user runs the suite.
    #[serde(default)]
    pub outer_userns: bool,
    /// For a runtime door: the program and the settings only a runtime's
    /// configuration can say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<runtime::RuntimePlan>,
}

impl Plan {
    /// Why this door cannot carry out this plan, if it cannot.
    pub fn inexpressible(&self) -> Option<String> {
        if self.door.is_runtime() {
            return runtime::inexpressible(self);
        }
        let ns = &self.namespaces;
        match self.door {
            Door::Clone if ns.time.is_some() => Some(
                "clone(2) cannot take CLONE_NEWTIME: 0x80 is part of the exit signal byte".into(),
            ),
            Door::Clone3 if ns.time.as_ref().is_some_and(TimeSettings::has_offsets) => Some(
                "clone3 puts the child in the new time namespace at once, so no offsets can be \
                 written before it enters"
                    .into(),
            ),
            Door::Setns | Door::SetnsPidfd if ns.types().is_empty() => {
                Some("setns needs a namespace to join, and the case creates none".into())
            }
            Door::Clone | Door::Clone3 | Door::Setns | Door::SetnsPidfd
                if self.observe.contains(&Process::Unsharer) =>
            {
                Some(format!(
                    "{} has no unsharer process: only the unshare door does",
                    self.door
                ))
            }
            _ => None,
        }
    }
}

/// How the door's syscall went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DoorResult {
    /// The syscall that failed, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// Its errno name, such as `EPERM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
}

/// A change refused because its namespace was not new: the one event any
/// process of a probe sends when the isolation guard refuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GuardFailure {
    pub process: String,
    /// The step refused, by index; none when a door refused before any step.
    pub step: Option<usize>,
    #[serde(rename = "type")]
    pub ty: NsType,
    pub message: String,
}

/// What a probe answers: one JSON document on its standard output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    pub door: DoorResult,
    /// Set when the probe found it cannot run the plan here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// Views by process name (`inside`, `child`, `unsharer`, `host`) and the
    /// host's view before the door under `before` → `host`.
    #[serde(default)]
    pub views: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guard: Vec<GuardFailure>,
    /// What broke in the probe: a process that died, a pipe that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn plan(door: Door, ns: serde_json::Value, observe: &[Process]) -> Plan {
        Plan {
            door,
            namespaces: serde_json::from_value(ns).expect("namespaces"),
            steps: Vec::new(),
            child_steps: Vec::new(),
            observe: observe.to_vec(),
            sections: None,
            outer_userns: false,
            runtime: None,
        }
    }

    #[rstest]
    #[case(Door::Clone, serde_json::json!({"time": {}}), true)]
    #[case(Door::Clone3, serde_json::json!({"time": {}}), false)]
    #[case(Door::Clone3, serde_json::json!({"time": {"monotonic": [1, 0]}}), true)]
    #[case(Door::Unshare, serde_json::json!({"time": {"monotonic": [1, 0]}}), false)]
    #[case(Door::Setns, serde_json::json!({}), true)]
    #[case(Door::SetnsPidfd, serde_json::json!({"uts": {}}), false)]
    #[case(Door::Clone, serde_json::json!({"pid": {}, "user": {}}), false)]
    fn doors_say_what_they_cannot_express(
        #[case] door: Door,
        #[case] ns: serde_json::Value,
        #[case] inexpressible: bool,
    ) {
        let p = plan(door, ns, &[Process::Inside]);
        assert_eq!(
            p.inexpressible().is_some(),
            inexpressible,
            "{:?}",
            p.inexpressible()
        );
    }

    #[rstest]
    #[case(Door::Unshare, false)]
    #[case(Door::Clone, true)]
    #[case(Door::Setns, true)]
    fn only_unshare_has_an_unsharer(#[case] door: Door, #[case] inexpressible: bool) {
        let p = plan(door, serde_json::json!({"pid": {}}), &[Process::Unsharer]);
        assert_eq!(p.inexpressible().is_some(), inexpressible);
    }

    #[rstest]
    #[case(serde_json::json!({"uts": {}}), libc::CLONE_NEWUTS as u64, false)]
    #[case(serde_json::json!({"pid": {}, "net": {}}), (libc::CLONE_NEWPID | libc::CLONE_NEWNET) as u64, true)]
    #[case(serde_json::json!({"time": {}}), 0x80, true)]
    #[case(serde_json::json!({"user": {"uid_map": [[0, "caller", 1]]}}), libc::CLONE_NEWUSER as u64, false)]
    fn flags_and_children(#[case] ns: serde_json::Value, #[case] flags: u64, #[case] child: bool) {
        let ns: Namespaces = serde_json::from_value(ns).expect("namespaces");
        assert_eq!(ns.flags(), flags);
        assert_eq!(ns.needs_child(), child);
    }

    #[test]
    fn types_come_user_first() {
        let ns: Namespaces =
            serde_json::from_value(serde_json::json!({"uts": {}, "user": {}, "pid": {}})).unwrap();
        assert_eq!(ns.types(), vec![NsType::User, NsType::Pid, NsType::Uts]);
    }

    #[rstest]
    #[case(r#"{"bogus": {}}"#)]
    #[case(r#"{"uts": {"x": 1}}"#)]
    #[case(r#"{"user": {"uid_map": [[0, "someone", 1]]}}"#)]
    #[case(r#"{"time": {"monotonic": "1 0"}}"#)]
    fn bad_namespaces_are_refused(#[case] text: &str) {
        assert!(serde_json::from_str::<Namespaces>(text).is_err());
    }

    #[test]
    fn a_plan_round_trips() {
        let mut p = plan(
            Door::SetnsPidfd,
            serde_json::json!({"uts": {}, "time": {"boottime": [5, 0]}}),
            &[Process::Inside, Process::Host],
        );
        p.steps = vec![Step::Sethostname("a".into()), Step::Setsid(Plain {})];
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), p);
    }
}
