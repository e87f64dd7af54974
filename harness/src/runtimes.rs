//! The runtimes and tools the runtime doors run, as found here: the program
//! (on `PATH`, or given with `--runtime NAME=PATH` / `--door oci:PATH`), its
//! version, its `features` where it has them, and why a door cannot run.
//! The report's environment carries all of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::plan::runtime::{RuntimePlan, RUNTIME_DOORS};
use crate::plan::{Door, Plan};
use crate::skip::SkipReason;
use crate::verdict::{DoorInfo, Environment};

/// Programs given on the command line, by door.
pub type Overrides = BTreeMap<Door, PathBuf>;

/// The program a runtime door runs by default.
pub fn default_program(door: Door) -> &'static str {
    match door {
        Door::UnshareCli => "unshare",
        d => d.name(),
    }
}

/// How to install what a door runs.
pub fn install_hint(door: Door) -> &'static str {
    match door {
        Door::Runc => "apt-get install runc",
        Door::Crun => "apt-get install crun",
        Door::Youki => "cargo install youki --features v1,v2",
        Door::Bwrap => "apt-get install bubblewrap",
        Door::UnshareCli => "apt-get install util-linux",
        Door::Podman => "apt-get install podman",
        Door::Docker => "apt-get install docker.io, and start dockerd",
        _ => "name an OCI runtime with --door oci:PATH",
    }
}

/// `name` found on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// How long a runtime may take to tell its version or features.
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// What `program args` prints on stdout, if it succeeds in time.
fn output(program: &Path, args: &[&str]) -> Option<String> {
    let out = crate::sys::tool::answer(Command::new(program).args(args), ANSWER_WITHIN)?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The version line of a program: its `--version` output, on one line.
fn version(door: Door, program: &Path) -> Option<String> {
    if door == Door::Docker {
        // The client's and the daemon's, which may differ.
        let format = "docker {{.Client.Version}} (client), {{.Server.Version}} (daemon)";
        let both = output(program, &["version", "--format", format]);
        if let Some(v) = both.filter(|v| !v.trim().ends_with(", (daemon)")) {
            return Some(v.trim().to_string());
        }
    }
    let text = output(program, &["--version"])?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let keep = if door == Door::Podman || door == Door::Docker {
        1
    } else {
        lines.len().min(3)
    };
    Some(lines[..keep].join("; "))
}

/// `PROGRAM features` (runc, crun, youki) as JSON.
fn features(door: Door, program: &Path) -> Option<serde_json::Value> {
    if !matches!(door, Door::Runc | Door::Crun | Door::Youki | Door::Oci) {
        return None;
    }
    serde_json::from_str(&output(program, &["features"])?).ok()
}

/// Why docker cannot run containers here, if it cannot.
fn docker_daemon(program: &Path) -> Result<(), String> {
    match output(program, &["version", "--format", "{{.Server.Version}}"]) {
        Some(v) if !v.trim().is_empty() => Ok(()),
        _ => Err("no docker daemon answers (start dockerd)".into()),
    }
}

/// What this host makes a door do differently, for the report.
fn note(door: Door) -> Option<String> {
    let hybrid = crate::door::runtime::oci_runtime::hybrid_cgroups();
    if door == Door::Podman && hybrid {
        return Some(
            "cgroups are hybrid here, which crun (podman's default OCI runtime) refuses: podman \
             runs its containers with `--runtime runc`, and with the caller's RLIMIT_NOFILE and RLIMIT_NPROC (podman's defaults are above what a host without CAP_SYS_RESOURCE grants)"
                .into(),
        );
    }
    (door == Door::Crun && hybrid).then(|| {
        "cgroups are hybrid here (v1 controllers, cgroup2 at /sys/fs/cgroup/unified), which \
         crun refuses: crun runs in a private mount namespace whose /sys/fs/cgroup is cgroup2 \
         alone, with --cgroup-manager=disabled, so it applies no cgroup limits"
            .into()
    })
}

/// Find what `door` runs and describe it.
pub fn detect(door: Door, overrides: &Overrides) -> DoorInfo {
    let program = match overrides.get(&door) {
        Some(p) => Some(p.clone()),
        None if door == Door::Oci => None,
        None => on_path(default_program(door)),
    };
    let mut info = DoorInfo {
        name: door.name().into(),
        available: false,
        version: None,
        ..DoorInfo::default()
    };
    let Some(program) = program.filter(|p| p.is_file()) else {
        info.unavailable = Some(format!(
            "{} is not installed ({})",
            default_program(door),
            install_hint(door)
        ));
        return info;
    };
    info.version = version(door, &program);
    info.features = features(door, &program);
    info.note = note(door);
    info.program = Some(program.display().to_string());
    let usable = if door == Door::Docker {
        docker_daemon(&program)
    } else {
        Ok(())
    };
    match usable {
        Ok(()) => info.available = true,
        Err(reason) => info.unavailable = Some(reason),
    }
    info
}

/// Every runtime door, as found here, each asked at the same time (a
/// runtime's `--version` and `features` take tens of milliseconds). This is
/// the start of a run: what killed runs left behind (workspaces of probes
/// that are gone, with their containers) is swept first.
pub fn detect_all(overrides: &Overrides) -> Vec<DoorInfo> {
    crate::door::runtime::sweep_stale();
    std::thread::scope(|s| {
        let asked: Vec<_> = RUNTIME_DOORS
            .iter()
            .map(|d| s.spawn(move || detect(*d, overrides)))
            .collect();
        asked
            .into_iter()
            .zip(RUNTIME_DOORS)
            .map(|(a, d)| a.join().unwrap_or_else(|_| unanswered(d)))
            .collect()
    })
}

/// Every runtime door of a run that selects none: not looked for. What
/// killed runs left behind is swept all the same.
pub fn not_asked() -> Vec<DoorInfo> {
    crate::door::runtime::sweep_stale();
    (RUNTIME_DOORS.iter())
        .map(|d| DoorInfo {
            name: d.name().into(),
            unavailable: Some(format!(
                "not asked: the run selects no runtime door (`--door {}` does)",
                if *d == Door::Oci {
                    "oci:PATH"
                } else {
                    d.name()
                }
            )),
            ..DoorInfo::default()
        })
        .collect()
}

/// A door whose detection panicked: unavailable, saying so.
fn unanswered(door: Door) -> DoorInfo {
    DoorInfo {
        name: door.name().into(),
        unavailable: Some(format!("{} could not be asked what it is", door.name())),
        ..DoorInfo::default()
    }
}

fn info(door: Door, envm: &Environment) -> Option<&DoorInfo> {
    envm.doors.iter().find(|d| d.name == door.name())
}

/// Why a case cannot run through a runtime door here: the door's program
/// is missing or cannot run, or the door does what the case must be spared.
pub fn unmet(entry: &crate::suite::Entry, door: Door, envm: &Environment) -> Option<SkipReason> {
    if !door.is_runtime() {
        return None;
    }
    let reason = unavailable(door, envm)
        .or_else(|| (entry.case.requires.features.iter()).find_map(|f| lacks(door, f)))
        .or_else(|| host_lacks(door, &entry.case.namespaces))?;
    Some(SkipReason::RuntimeDoor { door, reason })
}

/// What this host lacks for a door to express the namespaces: podman binds
/// the host's /dev/mqueue into a container of a user namespace of its own
/// that shares the host's IPC namespace.
fn host_lacks(door: Door, ns: &crate::plan::Namespaces) -> Option<String> {
    let binds_mqueue = door == Door::Podman && ns.user.is_some() && ns.ipc.is_none();
    (binds_mqueue && !Path::new("/dev/mqueue").is_dir()).then(|| {
        "podman binds the host's /dev/mqueue into a container with a user namespace and the \
         host's IPC namespace, and this host has no /dev/mqueue"
            .into()
    })
}

/// Why a runtime door cannot run here, if it cannot.
pub fn unavailable(door: Door, envm: &Environment) -> Option<String> {
    match info(door, envm) {
        None => Some(format!("{door} was not looked for")),
        Some(i) if !i.available => Some(
            i.unavailable
                .clone()
                .unwrap_or_else(|| format!("{door} cannot run here")),
        ),
        Some(_) => None,
    }
}

/// The namespace types a runtime's `features` lists, by their OCI names.
fn supported(i: &DoorInfo) -> Option<Vec<String>> {
    let list = i
        .features
        .as_ref()?
        .pointer("/linux/namespaces")?
        .as_array()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

/// Give a runtime door's plan its program, version and features.
pub fn fill(plan: &mut Plan, envm: &Environment) {
    let Some(i) = info(plan.door, envm) else {
        return;
    };
    let rt = plan.runtime.get_or_insert_with(RuntimePlan::default);
    rt.program = i.program.clone();
    rt.version = i.version.clone();
    rt.supported = supported(i);
    if plan.door == Door::Docker && i.available {
        rt.storage = i.program.as_deref().and_then(docker_root);
    }
}

/// The docker daemon's storage root (`docker info`), asked once a run.
fn docker_root(program: &str) -> Option<String> {
    static ROOT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let text = output(
            Path::new(program),
            &["info", "--format", "{{.DockerRootDir}}"],
        )?;
        Some(text.trim().to_string()).filter(|t| t.starts_with('/'))
    })
    .clone()
}

/// The namespace types a runtime door makes whether the case asks or not.
fn always_new(plan: &Plan) -> &'static [crate::kind::NsType] {
    use crate::kind::NsType::{Cgroup, Mnt};
    match plan.door {
        Door::UnshareCli => &[],
        Door::Crun if plan.outer_userns => &[Mnt, Cgroup],
        _ => &[Mnt],
    }
}

/// A failure that is only the door's own namespace: the fixture expects a
/// process to keep the host's mount namespace, and the door always makes
/// one (the rootfs needs it). Such a trial cannot be expressed through the
/// door: a skip, with the reason. Any other difference keeps it failed.
pub fn excuse_added(j: &mut crate::judge::Judgement, plan: &Plan) {
    if j.verdict != crate::verdict::Verdict::Fail || j.diff.is_empty() {
        return;
    }
    let added: Vec<&str> = always_new(plan)
        .iter()
        .filter(|t| !plan.namespaces.has(**t))
        .map(|t| t.name())
        .collect();
    let only_added = j.diff.iter().all(|d| {
        let mut parts = d.path.split('.');
        let process = parts.next().unwrap_or("");
        let (section, ty) = (parts.next(), parts.next());
        process != "host" && section == Some("ns") && ty.is_some_and(|t| added.contains(&t))
    });
    if only_added {
        j.verdict = crate::verdict::Verdict::Skip;
        j.skip = Some(crate::skip::SkipClass::Door);
        j.reason = Some(format!(
            "{} always makes a new {} namespace, and the case expects the host's",
            plan.door,
            added.join(", ")
        ));
        j.diff.clear();
    }
}

/// What a door does to the namespaces it makes beyond the case, by the
/// `door.*` feature a case requires to be spared it. The syscall doors
/// leave every namespace as the kernel made it.
pub fn lacks(door: Door, feature: &str) -> Option<String> {
    let engine_or_oci = !matches!(door, Door::UnshareCli | Door::Bwrap);
    let container = door != Door::UnshareCli;
    let (lacking, what) = match feature {
        "door.untouched_net" => (
            container,
            "brings the loopback link of a new network namespace up, and the case needs the \
             namespace as the kernel made it",
        ),
        "door.host_proc" => (
            container,
            "mounts a /proc of the container's own pid namespace, and the case reads the host's",
        ),
        "door.host_cgroup" => (
            engine_or_oci,
            "puts the container in a cgroup of its own, and the case expects the caller's",
        ),
        "door.no_mqueue_mount" => (
            matches!(door, Door::Podman | Door::Docker),
            "mounts /dev/mqueue in the container itself, and the case's steps mount their own",
        ),
        "door.writable_proc_sys" => (
            matches!(door, Door::Podman | Door::Docker),
            "mounts /proc/sys read-only, and the case writes a sysctl of its network namespace",
        ),
        "door.host_mounts" => (
            container,
            "gives the container a root and mounts of its own, and the case works on a copy of \
             the host's mount table",
        ),
        _ => (false, ""),
    };
    (door.is_runtime() && lacking).then(|| format!("{door} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::Judgement;
    use crate::verdict::{Difference, Verdict};

    fn diff(path: &str) -> Difference {
        Difference {
            path: path.into(),
            expected: serde_json::json!(1),
            observed: serde_json::json!(2),
        }
    }

    fn failed(paths: &[&str]) -> Judgement {
        Judgement {
            verdict: Verdict::Fail,
            reason: Some("x".into()),
            skip: None,
            diff: paths.iter().map(|p| diff(p)).collect(),
        }
    }

    fn plan(door: Door, ns: serde_json::Value) -> Plan {
        Plan::bare(door, serde_json::from_value(ns).expect("namespaces"))
    }

    #[test]
    fn only_the_door_s_own_mount_namespace_is_excused() {
        let p = plan(Door::Runc, serde_json::json!({"uts": {}}));
        let mut j = failed(&["inside.ns.mnt"]);
        excuse_added(&mut j, &p);
        assert_eq!(j.verdict, Verdict::Skip);
        let mut j = failed(&["inside.ns.mnt", "inside.uts.hostname"]);
        excuse_added(&mut j, &p);
        assert_eq!(j.verdict, Verdict::Fail);
        let mut j = failed(&["host.ns.mnt"]);
        excuse_added(&mut j, &p);
        assert_eq!(j.verdict, Verdict::Fail);
        let mut j = failed(&["inside.ns.mnt"]);
        excuse_added(
            &mut j,
            &plan(Door::UnshareCli, serde_json::json!({"uts": {}})),
        );
        assert_eq!(j.verdict, Verdict::Fail);
    }

    #[test]
    fn door_features_spare_the_syscall_doors() {
        assert!(lacks(Door::Clone, "door.untouched_net").is_none());
        assert!(lacks(Door::Runc, "door.untouched_net").is_some());
        assert!(lacks(Door::UnshareCli, "door.host_proc").is_none());
        assert!(lacks(Door::Bwrap, "door.host_cgroup").is_none());
        assert!(lacks(Door::Podman, "door.host_cgroup").is_some());
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let mut o = Overrides::new();
        o.insert(Door::Runc, PathBuf::from("/nonexistent/runc"));
        let info = detect(Door::Runc, &o);
        assert!(!info.available);
        assert!(info.unavailable.unwrap().contains("apt-get install runc"));
        assert!(detect(Door::Oci, &Overrides::new())
            .unavailable
            .unwrap()
            .contains("oci:PATH"));
    }
}
