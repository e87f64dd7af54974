//! `config.json` for the OCI doors, generated from the plan with the
//! `oci-spec` crate: the namespaces (new, or joined through `path`), the id
//! mappings, the hostname, the time offsets, the mounts and what a case sets
//! of the configuration besides. The process is the probe, in the container.

use std::collections::HashMap;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, LinuxBuilder, LinuxCapabilities, LinuxIdMapping, LinuxIdMappingBuilder,
    LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType, LinuxTimeOffsetBuilder, Mount,
    MountBuilder, ProcessBuilder, RootBuilder, Spec, UserBuilder,
};

use super::bundle::{Workspace, PROBE_IN_ROOTFS};
use super::Invocation;
use crate::kind::NsType;
use crate::plan::runtime::RuntimeConfig;
use crate::plan::{CallerTag, MapLine, Outside, Plan, UserSettings};

/// The OCI name of a namespace type.
pub fn oci_type(ty: NsType) -> LinuxNamespaceType {
    match ty {
        NsType::User => LinuxNamespaceType::User,
        NsType::Pid => LinuxNamespaceType::Pid,
        NsType::Mnt => LinuxNamespaceType::Mount,
        NsType::Net => LinuxNamespaceType::Network,
        NsType::Ipc => LinuxNamespaceType::Ipc,
        NsType::Uts => LinuxNamespaceType::Uts,
        NsType::Cgroup => LinuxNamespaceType::Cgroup,
        NsType::Time => LinuxNamespaceType::Time,
    }
}

fn namespace(ty: NsType, path: Option<PathBuf>) -> Result<LinuxNamespace, String> {
    let b = LinuxNamespaceBuilder::default().typ(oci_type(ty));
    let b = match path {
        Some(p) => b.path(p),
        None => b,
    };
    b.build().map_err(|e| e.to_string())
}

/// The namespaces: the case's types (a mount namespace always, which every
/// OCI runtime needs for the rootfs), each joined through the holder's
/// `/proc/<pid>/ns/<type>` when the case joins.
fn namespaces(inv: &Invocation) -> Result<Vec<LinuxNamespace>, String> {
    let plan = inv.plan;
    let config = runtime_config(plan);
    let mut types = plan.namespaces.types();
    if !types.contains(&NsType::Mnt) {
        types.push(NsType::Mnt);
    }
    let path_of = |ty: NsType| inv.joined(ty).map(PathBuf::from);
    let mut out = Vec::new();
    for ty in types {
        let path = match config.wrong_path {
            Some(w) if w == ty => Some(PathBuf::from(format!(
                "/proc/{}/ns/{}",
                inv.holder.unwrap_or(1),
                other_type(ty).name()
            ))),
            _ => path_of(ty),
        };
        out.push(namespace(ty, path)?);
        if config.duplicate == Some(ty) {
            out.push(namespace(ty, None)?);
        }
    }
    Ok(out)
}

/// A namespace type other than `ty`, for a `path` of the wrong type.
fn other_type(ty: NsType) -> NsType {
    if ty == NsType::Uts {
        NsType::Ipc
    } else {
        NsType::Uts
    }
}

fn runtime_config(plan: &Plan) -> RuntimeConfig {
    plan.runtime
        .as_ref()
        .map(|r| r.config.clone())
        .unwrap_or_default()
}

/// One map's lines as OCI id mappings; `caller` is the outside id of `"caller"`.
fn mappings(lines: &[MapLine], caller: u32) -> Result<Vec<LinuxIdMapping>, String> {
    lines
        .iter()
        .map(|MapLine(inside, outside, count)| {
            let host = match outside {
                Outside::Id(id) => *id,
                Outside::Caller(_) => caller,
            };
            LinuxIdMappingBuilder::default()
                .container_id(*inside)
                .host_id(host)
                .size(*count)
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn mount(dest: &str, ty: &str, source: &str, options: &[&str]) -> Result<Mount, String> {
    MountBuilder::default()
        .destination(dest)
        .typ(ty)
        .source(source)
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(|e| e.to_string())
}

/// The mounts: the probe bound read-only, `/proc`, `/dev`, a fresh `/tmp`,
/// and `/sys`. In a user namespace, proc and sysfs can be mounted only with
/// a pid (net) namespace of that user namespace; without one, the host's
/// are bound instead. `/dev/mqueue` is left to the steps that mount it.
fn mounts(inv: &Invocation) -> Result<Vec<Mount>, String> {
    let ns = &inv.plan.namespaces;
    let probe = inv.workspace.probe.to_string_lossy().into_owned();
    let in_userns = ns.user.is_some() || inv.plan.outer_userns;
    let own = |new: bool, dest: &str, ty: &str, opts: &[&str]| {
        if new || !in_userns {
            mount(dest, ty, ty, opts)
        } else {
            mount(dest, "bind", dest, &["rbind", "nosuid"])
        }
    };
    Ok(vec![
        mount(PROBE_IN_ROOTFS, "bind", &probe, &["bind", "ro"])?,
        own(ns.pid.is_some(), "/proc", "proc", &[])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755"],
        )?,
        mount("/tmp", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=1777"])?,
        own(
            ns.net.is_some(),
            "/sys",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )?,
    ])
}

/// Every capability of the caller's bounding set, for steps that need them
/// (a runtime cannot give more: a host without CAP_SYS_RESOURCE, say).
fn all_capabilities() -> Capabilities {
    caps::read(None, caps::CapSet::Bounding)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| serde_json::from_value(serde_json::json!(c.to_string())).ok())
        .collect()
}

/// The id the probe runs as: the one the map gives the caller, as the
/// syscall doors keep the caller's ids; else root where the map gives root
/// an id; else the first id it gives (a runtime cannot start an unmapped
/// process).
fn inside_id(
    inv: &Invocation,
    map: fn(&UserSettings) -> Option<&Vec<MapLine>>,
    caller: u32,
) -> u32 {
    let Some(lines) = inv.plan.namespaces.user.as_ref().and_then(map) else {
        return 0;
    };
    let is_caller = |o: &Outside| matches!(o, Outside::Caller(_)) || *o == Outside::Id(caller);
    if let Some(l) = lines.iter().find(|l| is_caller(&l.1) && l.2 > 0) {
        return l.0;
    }
    match lines.iter().any(|l| l.0 == 0 && l.2 > 0) {
        true => 0,
        false => lines.first().map_or(0, |l| l.0),
    }
}

fn process(inv: &Invocation) -> Result<oci_spec::runtime::Process, String> {
    let caps = all_capabilities();
    let mut capabilities = LinuxCapabilities::default();
    capabilities.set_bounding(Some(caps.clone()));
    capabilities.set_effective(Some(caps.clone()));
    capabilities.set_permitted(Some(caps.clone()));
    capabilities.set_inheritable(Some(Capabilities::new()));
    capabilities.set_ambient(Some(Capabilities::new()));
    ProcessBuilder::default()
        .terminal(false)
        .user(
            UserBuilder::default()
                .uid(inside_id(inv, |u| u.uid_map.as_ref(), inv.caller.0))
                .gid(inside_id(inv, |u| u.gid_map.as_ref(), inv.caller.1))
                .build()
                .map_err(|e| e.to_string())?,
        )
        .args(inv.args.clone())
        .env(vec!["PATH=/".to_string()])
        .cwd("/")
        .capabilities(capabilities)
        .no_new_privileges(false)
        .build()
        .map_err(|e| e.to_string())
}

/// `linux.timeOffsets` from the time namespace's settings, or the case's
/// `time_offsets` (which it may ask for without a time namespace).
fn time_offsets(plan: &Plan) -> Option<HashMap<String, oci_spec::runtime::LinuxTimeOffset>> {
    let mut out = HashMap::new();
    let mut put = |name: &str, secs: i64, nanos: i64| {
        if let Ok(o) = LinuxTimeOffsetBuilder::default()
            .secs(secs)
            .nanosecs(nanos as u32)
            .build()
        {
            out.insert(name.to_string(), o);
        }
    };
    if let Some(t) = &plan.namespaces.time {
        if let Some(m) = t.monotonic {
            put("monotonic", m.0, m.1);
        }
        if let Some(b) = t.boottime {
            put("boottime", b.0, b.1);
        }
    }
    if let Some([m, b]) = runtime_config(plan).time_offsets {
        put("monotonic", m, 0);
        put("boottime", b, 0);
    }
    (!out.is_empty()).then_some(out)
}

/// The whole configuration of one trial's container.
pub fn spec(inv: &Invocation) -> Result<Spec, String> {
    let plan = inv.plan;
    let config = runtime_config(plan);
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces(inv)?)
        .masked_paths(config.masked_paths.clone())
        .readonly_paths(config.readonly_paths.clone())
        .build()
        .map_err(|e| e.to_string())?;
    // Rootless, a runtime may skip cgroups it cannot make, but only those
    // it chose the path of.
    if !plan.outer_userns {
        linux.set_cgroups_path(Some(format!("/{}", inv.workspace.id).into()));
    }
    linux.set_resources(None);
    if let Some(user) = &plan.namespaces.user {
        let (uid, gid) = inv.caller;
        let default = vec![MapLine(0, Outside::Caller(CallerTag::Caller), 1)];
        let uids = user.uid_map.as_ref().unwrap_or(&default);
        let gids = user.gid_map.as_ref().unwrap_or(&default);
        linux.set_uid_mappings(Some(mappings(uids, uid)?));
        linux.set_gid_mappings(Some(mappings(gids, gid)?));
    }
    if !config.sysctl.is_empty() {
        linux.set_sysctl(Some(config.sysctl.clone().into_iter().collect()));
    }
    linux.set_rootfs_propagation(config.rootfs_propagation.clone());
    linux.set_time_offsets(time_offsets(plan));
    let mut spec = Spec::default();
    spec.set_root(Some(
        RootBuilder::default()
            .path("rootfs")
            .readonly(config.readonly_root || !config.is_oci_only())
            .build()
            .map_err(|e| e.to_string())?,
    ));
    spec.set_mounts(Some(mounts(inv)?));
    spec.set_process(Some(process(inv)?));
    spec.set_hostname(config.hostname.clone());
    spec.set_domainname(config.domainname.clone());
    spec.set_linux(Some(linux));
    Ok(spec)
}

/// Lay out the bundle of `inv` in its workspace.
pub fn write_bundle(inv: &Invocation, ws: &Workspace) -> Result<(), String> {
    let spec = spec(inv)?;
    ws.write_config(&spec).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::runtime::sample::Sample;

    fn spec_of(ns: serde_json::Value, config: RuntimeConfig) -> Spec {
        let sample = Sample::new(crate::plan::Door::Runc, ns, config);
        spec(&sample.invocation()).expect("spec")
    }

    fn types(spec: &Spec) -> Vec<(String, Option<PathBuf>)> {
        let linux = spec.linux().as_ref().unwrap();
        (linux.namespaces().as_ref().unwrap().iter())
            .map(|n| (n.typ().to_string(), n.path().clone()))
            .collect()
    }

    #[test]
    fn a_mount_namespace_always_and_the_case_s_types() {
        let s = spec_of(
            serde_json::json!({"uts": {}, "net": {}}),
            RuntimeConfig::default(),
        );
        let t: Vec<String> = types(&s).into_iter().map(|(t, _)| t).collect();
        assert_eq!(t, ["net", "uts", "mnt"]);
    }

    #[test]
    fn joined_duplicated_and_wrong_paths() {
        let join = RuntimeConfig {
            join: true,
            ..RuntimeConfig::default()
        };
        let s = spec_of(serde_json::json!({"ipc": {}}), join);
        assert_eq!(types(&s)[0].1, Some(PathBuf::from("/proc/42/ns/ipc")));
        let dup = RuntimeConfig {
            duplicate: Some(NsType::Uts),
            ..RuntimeConfig::default()
        };
        let s = spec_of(serde_json::json!({"uts": {}}), dup);
        assert_eq!(types(&s).iter().filter(|(t, _)| t == "uts").count(), 2);
        let wrong = RuntimeConfig {
            wrong_path: Some(NsType::Uts),
            ..RuntimeConfig::default()
        };
        let s = spec_of(serde_json::json!({"uts": {}}), wrong);
        assert_eq!(types(&s)[0].1, Some(PathBuf::from("/proc/42/ns/ipc")));
    }

    #[test]
    fn maps_hostname_and_offsets() {
        let config = RuntimeConfig {
            hostname: Some("h".into()),
            ..RuntimeConfig::default()
        };
        let ns = serde_json::json!({
            "user": {"uid_map": [[0, "caller", 1], [1, 100000, 10]]},
            "uts": {}, "time": {"monotonic": [5, 0]}
        });
        let s = spec_of(ns, config);
        let linux = s.linux().as_ref().unwrap();
        let uids = linux.uid_mappings().as_ref().unwrap();
        assert_eq!(
            (uids[0].host_id(), uids[1].host_id(), uids[1].size()),
            (1000, 100000, 10)
        );
        let gids = linux.gid_mappings().as_ref().unwrap();
        assert_eq!((gids[0].container_id(), gids[0].host_id()), (0, 1001));
        assert_eq!(s.hostname().as_deref(), Some("h"));
        let offsets = linux.time_offsets().as_ref().unwrap();
        assert_eq!(offsets["monotonic"].secs(), Some(5));
    }
}
