//! What a runtime door needs beyond the namespaces and steps: the program to
//! run, and the settings only a runtime's configuration can say (OCI
//! `hostname`, `maskedPaths`, `sysctl`, a namespace joined by `path`, ...).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::door::RUNTIME_DOORS;
use super::{Door, Plan, Process, Step};
use crate::kind::NsType;

/// The argument that starts the probe as a container's process; the plan
/// follows it as JSON.
pub const INSIDE_ARG: &str = "--in-container";

/// The doors that take an OCI bundle.
pub const OCI_DOORS: [Door; 4] = [Door::Runc, Door::Crun, Door::Youki, Door::Oci];

/// The runtime-only half of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimePlan {
    /// The program to run (found on `PATH`, or given with `--runtime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The runtime's version line, for the skip reasons that name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The namespace types the runtime's `features` lists (OCI names), where
    /// it has that command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported: Option<Vec<String>>,
    /// Where an engine's daemon keeps its storage on the host (docker's
    /// `DockerRootDir`): the mounts it makes there for a container (its
    /// overlay root) are the engine's, not the host's view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// What the runtime's configuration says besides the namespaces.
    #[serde(default)]
    pub config: RuntimeConfig,
    /// Set by the probe for the process inside the container: the `ns`
    /// section of the probe where it started, which the isolation guard
    /// inside compares with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ns: Option<serde_json::Value>,
}

/// What a case asks of a runtime's configuration (the `runtime` section of
/// a case). Each field names the OCI runtime spec's field it becomes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// `hostname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `domainname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Every namespace of the case is joined through `path`, naming the
    /// namespaces of a holder process the trial created; its `ns` section is
    /// reported as the process `holder`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub join: bool,
    /// `linux.namespaces` lists this type twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<NsType>,
    /// This type is listed with a `path` to a namespace of another type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrong_path: Option<NsType>,
    /// `linux.timeOffsets`, even without a time namespace: seconds of the
    /// monotonic and boottime clocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_offsets: Option<[i64; 2]>,
    /// `root.readonly`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly_root: bool,
    /// `linux.rootfsPropagation`: `shared`, `slave`, `private` or `unbindable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_propagation: Option<String>,
    /// `linux.maskedPaths`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_paths: Vec<String>,
    /// `linux.readonlyPaths`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readonly_paths: Vec<String>,
    /// `linux.sysctl`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctl: BTreeMap<String, String>,
}

impl RuntimeConfig {
    /// Whether only an OCI configuration can say this (joining is for
    /// every door that can, which [`inexpressible`] says).
    pub fn is_oci_only(&self) -> bool {
        let rest = RuntimeConfig {
            join: false,
            ..self.clone()
        };
        rest != RuntimeConfig::default()
    }
}

/// Why a runtime door cannot carry out `plan`, if it cannot. What each door
/// can express beyond this, it says itself when it builds its command.
pub fn inexpressible(plan: &Plan) -> Option<String> {
    let door = plan.door;
    if plan.observe.contains(&Process::Unsharer) {
        return Some(format!(
            "{door} has no unsharer process: only the unshare door does"
        ));
    }
    if steps_reach_supervisor(plan) {
        return Some(format!(
            "the case's steps reach the probe's supervisor by pid, which stays outside the \
             {door} container"
        ));
    }
    let oci_only = plan
        .runtime
        .as_ref()
        .is_some_and(|r| r.config.is_oci_only());
    if oci_only && !OCI_DOORS.contains(&door) {
        return Some(format!(
            "the case sets fields of an OCI configuration, which {door} does not take"
        ));
    }
    if plan.namespaces.types().is_empty() && !oci_only {
        return Some("the case creates no namespace for a container to have".into());
    }
    door_cannot(plan)
        .or_else(|| cannot_join(plan))
        .or_else(|| proc_sys_read_only(plan))
}

/// Whether a door can join an existing namespace of type `ty` by path or
/// descriptor: bwrap a user or pid one (`--userns FD`, `--pidns FD`),
/// unshare(1) none but nsenter(1) beside it every type, podman all but mnt
/// and time (`ns:PATH`; it has no option for them), docker a pid, network
/// or ipc one of another docker container (`container:ID`: the door starts
/// a holder container).
fn joins(door: Door, ty: NsType) -> bool {
    match door {
        Door::Bwrap => matches!(ty, NsType::User | NsType::Pid),
        Door::Podman => !matches!(ty, NsType::Mnt | NsType::Time),
        Door::Docker => matches!(ty, NsType::Pid | NsType::Net | NsType::Ipc),
        _ => true,
    }
}

/// Why a door cannot join the namespaces the case joins, if it cannot.
fn cannot_join(plan: &Plan) -> Option<String> {
    let join = plan.runtime.as_ref().is_some_and(|r| r.config.join);
    let ty = plan
        .namespaces
        .types()
        .into_iter()
        .find(|t| join && !joins(plan.door, *t))?;
    let runtime = who(plan);
    Some(match plan.door {
        Door::Bwrap => format!(
            "{runtime} joins only user and pid namespaces (--userns FD, --pidns FD): it has no \
             option that joins a {ty} namespace"
        ),
        Door::Docker => format!(
            "{runtime} joins only the pid, network and ipc namespaces of another docker \
             container (container:ID), and has no option that joins a {ty} namespace"
        ),
        _ => format!("{runtime} has no option that joins an existing {ty} namespace"),
    })
}

/// bwrap covers /proc/sys (and /proc/sysrq-trigger, /proc/irq, /proc/bus)
/// with read-only binds in the /proc it mounts (`--proc`, which the door
/// uses for a new pid namespace): a sysctl write there is EROFS. Without a
/// pid namespace the door binds the caller's /proc, writable.
fn proc_sys_read_only(plan: &Plan) -> Option<String> {
    let writes_sysctl = |s: &Step| {
        matches!(
            s,
            Step::Net(super::net::NetStep::Sysctl(_)) | Step::Ipc(super::ipc::IpcStep::Sysctl(_))
        )
    };
    let steps = || plan.steps.iter().chain(&plan.child_steps);
    let own_proc = plan.door == Door::Bwrap && plan.namespaces.pid.is_some();
    (own_proc && steps().any(writes_sysctl)).then(|| {
        format!(
            "{} mounts /proc/sys read-only in the /proc of a new pid namespace (--proc), so no \
             sysctl can be written there",
            who(plan)
        )
    })
}

/// The OCI name of a type, as `features` lists it.
fn oci_name(ty: NsType) -> &'static str {
    match ty {
        NsType::Mnt => "mount",
        NsType::Net => "network",
        t => t.name(),
    }
}

/// The runtime and version a skip names.
fn who(plan: &Plan) -> String {
    let version = plan.runtime.as_ref().and_then(|r| r.version.clone());
    match version {
        Some(v) => format!("{} ({v})", plan.door),
        None => plan.door.to_string(),
    }
}

/// Whether a user namespace's maps are one id each, with `"caller"` outside.
fn one_id_maps(user: &super::UserSettings) -> bool {
    let single = |m: &Option<Vec<super::MapLine>>| match m.as_deref() {
        None => true,
        Some([super::MapLine(_, super::Outside::Caller(_), 1)]) => true,
        Some(_) => false,
    };
    single(&user.uid_map) && single(&user.gid_map)
}

/// What one runtime door cannot say of this plan.
fn door_cannot(plan: &Plan) -> Option<String> {
    let ns = &plan.namespaces;
    let door = plan.door;
    let runtime = who(plan);
    if plan.outer_userns && matches!(door, Door::Youki | Door::Podman | Door::Docker) {
        return Some(format!(
            "{runtime} runs only as root here: rootless, the suite runs runc, crun, bwrap and \
             unshare(1) from a user namespace of its own"
        ));
    }
    if let Some(u) = &ns.user {
        if u.unmapped && door != Door::UnshareCli {
            return Some(format!(
                "{runtime} writes the maps of a new user namespace: it has no way to leave them                  unwritten"
            ));
        }
        if u.setgroups.is_some() {
            return Some(format!(
                "{runtime} has no setting for /proc/<pid>/setgroups"
            ));
        }
        let one_id = matches!(door, Door::Bwrap | Door::UnshareCli);
        if one_id && !one_id_maps(u) {
            return Some(format!(
                "{runtime} maps one uid and one gid to the caller, not the maps the case gives"
            ));
        }
        if door == Door::Docker {
            return Some(
                "docker makes user namespaces only daemon-wide (userns-remap), not per container"
                    .into(),
            );
        }
    }
    if let Some(t) = &ns.time {
        match door {
            Door::Bwrap | Door::Podman | Door::Docker => {
                return Some(format!("{runtime} has no option for a time namespace"))
            }
            Door::UnshareCli if t.monotonic.is_some_and(|o| o.1 != 0) => {
                return Some(format!("{runtime} takes time offsets in whole seconds"))
            }
            Door::UnshareCli if t.boottime.is_some_and(|o| o.1 != 0) => {
                return Some(format!("{runtime} takes time offsets in whole seconds"))
            }
            _ => {}
        }
    }
    let supported = plan.runtime.as_ref().and_then(|r| r.supported.as_ref());
    let offsets = plan
        .runtime
        .as_ref()
        .is_some_and(|r| r.config.time_offsets.is_some());
    if let Some(list) = supported.filter(|l| offsets && !l.iter().any(|s| s == "time")) {
        return Some(format!(
            "{runtime} lacks the time namespace (its `features` lists only {}), so it cannot \
             know timeOffsets to refuse them",
            list.join(", ")
        ));
    }
    if let Some(list) = supported {
        if let Some(ty) = ns
            .types()
            .into_iter()
            .find(|t| !list.iter().any(|s| s == oci_name(*t)))
        {
            return Some(format!(
                "{runtime} lacks the {ty} namespace: its `features` lists only {}",
                list.join(", ")
            ));
        }
    }
    None
}

/// Whether a step names the supervisor (`/proc/supervisor/...`, a signal to
/// it, a helper that joins its namespaces): it is not in the container.
fn steps_reach_supervisor(plan: &Plan) -> bool {
    let named = |s: &Step| {
        serde_json::to_string(s)
            .map(|t| t.contains("supervisor"))
            .unwrap_or(false)
    };
    let cgroup_steps = |s: &Step| matches!(s, Step::Cgroup(_));
    plan.steps
        .iter()
        .chain(&plan.child_steps)
        .any(|s| named(s) || cgroup_steps(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn plan(door: Door, ns: serde_json::Value, config: RuntimeConfig) -> Plan {
        Plan {
            observe: vec![Process::Inside, Process::Host],
            runtime: Some(RuntimePlan {
                config,
                ..RuntimePlan::default()
            }),
            ..Plan::bare(door, serde_json::from_value(ns).expect("namespaces"))
        }
    }

    #[rstest]
    #[case(Door::Runc, serde_json::json!({"uts": {}}), false)]
    #[case(Door::Bwrap, serde_json::json!({"time": {}}), true)]
    #[case(Door::UnshareCli, serde_json::json!({"time": {"monotonic": [1, 5]}}), true)]
    #[case(Door::UnshareCli, serde_json::json!({"time": {"monotonic": [1, 0]}}), false)]
    #[case(Door::Docker, serde_json::json!({"user": {}}), true)]
    #[case(Door::Runc, serde_json::json!({"user": {"unmapped": true}}), true)]
    #[case(Door::Bwrap, serde_json::json!({"user": {"uid_map": [[0, 1000, 2]]}}), true)]
    #[case(Door::Bwrap, serde_json::json!({"user": {"uid_map": [[5, "caller", 1]]}}), false)]
    #[case(Door::Crun, serde_json::json!({}), true)]
    #[case(Door::Bwrap, serde_json::json!({"pid": {}}), false)]
    fn doors_say_what_they_cannot_express(
        #[case] door: Door,
        #[case] ns: serde_json::Value,
        #[case] inexpressible: bool,
    ) {
        let p = plan(door, ns, RuntimeConfig::default());
        assert_eq!(
            p.inexpressible().is_some(),
            inexpressible,
            "{:?}",
            p.inexpressible()
        );
    }

    #[test]
    fn a_runtime_without_the_time_namespace_skips_naming_its_version() {
        let mut p = plan(
            Door::Runc,
            serde_json::json!({"time": {}}),
            RuntimeConfig::default(),
        );
        let rt = p.runtime.as_mut().unwrap();
        rt.version = Some("runc version 1.1.5".into());
        rt.supported = Some(vec!["uts".into(), "mount".into()]);
        let reason = p.inexpressible().expect("a skip");
        assert!(
            reason.contains("runc version 1.1.5") && reason.contains("time"),
            "{reason}"
        );
    }

    #[rstest]
    #[case(Door::Bwrap, "user", false)]
    #[case(Door::Bwrap, "net", true)]
    #[case(Door::UnshareCli, "time", false)]
    #[case(Door::Podman, "ipc", false)]
    #[case(Door::Podman, "mnt", true)]
    #[case(Door::Docker, "pid", false)]
    #[case(Door::Docker, "uts", true)]
    #[case(Door::Runc, "cgroup", false)]
    fn doors_join_what_they_can(#[case] door: Door, #[case] ty: &str, #[case] skip: bool) {
        let config = RuntimeConfig {
            join: true,
            ..RuntimeConfig::default()
        };
        let p = plan(door, serde_json::json!({ ty: {} }), config);
        let reason = p.inexpressible();
        assert_eq!(reason.is_some(), skip, "{door} {ty}: {reason:?}");
    }

    #[test]
    fn bwrap_cannot_write_a_sysctl() {
        let sysctl = Step::Net(super::super::net::NetStep::Sysctl(
            super::super::net::Sysctl {
                name: "net/ipv4/ip_default_ttl".into(),
                value: "42".into(),
            },
        ));
        for (door, inexpressible) in [(Door::Bwrap, true), (Door::Runc, false)] {
            let mut p = plan(
                door,
                serde_json::json!({"net": {}, "pid": {}}),
                RuntimeConfig::default(),
            );
            p.steps.push(sysctl.clone());
            let reason = p.inexpressible();
            assert_eq!(reason.is_some(), inexpressible, "{door}: {reason:?}");
        }
    }

    #[test]
    fn oci_fields_run_through_the_oci_doors_only() {
        let config = RuntimeConfig {
            hostname: Some("h".into()),
            ..RuntimeConfig::default()
        };
        let ns = serde_json::json!({"uts": {}});
        assert!(plan(Door::Bwrap, ns.clone(), config.clone())
            .inexpressible()
            .is_some());
        assert!(plan(Door::Youki, ns, config).inexpressible().is_none());
    }

    #[test]
    fn steps_that_reach_the_supervisor_are_not_for_containers() {
        let mut p = plan(
            Door::Runc,
            serde_json::json!({"uts": {}}),
            RuntimeConfig::default(),
        );
        p.steps = vec![Step::Stat("/proc/supervisor/ns/uts".into())];
        assert!(p.inexpressible().is_some());
    }
}
