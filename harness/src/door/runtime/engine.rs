//! Container engines, podman and docker: the rootfs is imported as an image
//! (`import`), the case becomes the engine's namespace options (`--pid`,
//! `--ipc`, `--uts`, `--network`, `--cgroupns`: new or `host`; `--uidmap`
//! for a user namespace), the probe is bound in read-only, and the container
//! runs with `--rm -i`; the image is removed afterwards. podman joins the
//! holder's namespaces by path (`--pid=ns:/proc/<pid>/ns/pid`, and
//! `--userns=ns:PATH`); docker joins only another docker container's
//! (`container:ID`), a holder container of its own ([`docker_holder`]).
//! podman keeps its storage in the trial's workspace (`--root`,
//! `--runroot`); docker's is its daemon's.

use std::process::Command;

use crate::sys::command::run_quiet;

use super::bundle::PROBE_IN_ROOTFS;
use super::{docker_holder, Invocation, Launch, Mounts};
use crate::kind::NsType;
use crate::plan::{Door, MapLine, Outside};

/// The process limit the container gets: podman's default (4194304) is
/// refused on a host without CAP_SYS_RESOURCE, and the trials need few.
const NPROC: u32 = 4096;

/// The engine's option for a type, and its word for a new namespace:
/// docker has none for pid and uts (a new one is its default, and
/// `private` is refused: "invalid PID mode").
fn option(door: Door, ty: NsType) -> Option<(&'static str, Option<&'static str>)> {
    let podman = door == Door::Podman;
    Some(match ty {
        NsType::Pid => ("--pid", podman.then_some("private")),
        NsType::Ipc => ("--ipc", Some("private")),
        NsType::Uts => ("--uts", podman.then_some("private")),
        NsType::Net => ("--network", Some("none")),
        NsType::Cgroup => ("--cgroupns", Some("private")),
        NsType::User | NsType::Mnt | NsType::Time => return None,
    })
}

/// The namespace options: each type new, joined (`ns:PATH`) or the host's.
fn namespaces(inv: &Invocation, c: &mut Command) {
    let ns = &inv.plan.namespaces;
    for ty in NsType::all() {
        let Some((opt, new)) = option(inv.plan.door, ty) else {
            continue;
        };
        let by_container = inv.plan.door == Door::Docker && inv.joins() && ns.has(ty);
        if by_container {
            c.arg(format!("{opt}=container:{}", docker_holder::name(inv)));
            continue;
        }
        match (inv.joined(ty), ns.has(ty)) {
            (Some(path), _) => c.arg(format!("{opt}=ns:{path}")),
            (None, true) => c.args(new.map(|n| format!("{opt}={n}"))),
            (None, false) => c.arg(format!("{opt}=host")),
        };
    }
    match (&ns.user, inv.joined(NsType::User)) {
        (Some(_), Some(path)) => {
            c.arg(format!("--userns=ns:{path}"));
        }
        (Some(u), None) => {
            idmap("--uidmap", &u.uid_map, inv.caller.0, c);
            idmap("--gidmap", &u.gid_map, inv.caller.1, c);
        }
        (None, _) => {
            c.arg("--userns=host");
        }
    }
}

/// The engine with its global options.
fn engine(inv: &Invocation) -> Command {
    let mut c = Command::new(&inv.program);
    if inv.plan.door == Door::Podman {
        c.arg("--root")
            .arg(inv.workspace.path("storage"))
            .arg("--runroot")
            .arg(inv.workspace.path("run"))
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"])
            .args(["--events-backend", "none"]);
        if super::oci_runtime::hybrid_cgroups() {
            c.args(["--runtime", "runc"]);
        }
    }
    c
}

fn image(inv: &Invocation) -> String {
    format!("localhost/{}:latest", inv.workspace.id.to_lowercase())
}

/// Pack the rootfs and import it as the trial's image.
fn import(inv: &Invocation) -> Result<(), String> {
    let tar = inv.workspace.path("rootfs.tar");
    let mut tar_cmd = Command::new("tar");
    tar_cmd
        .arg("-C")
        .arg(inv.workspace.rootfs())
        .arg("-cf")
        .arg(&tar)
        .arg(".");
    if !run_quiet(&mut tar_cmd) {
        return Err("tar of the rootfs failed".into());
    }
    let mut imported = engine(inv);
    imported.arg("import").arg(&tar).arg(image(inv));
    if !run_quiet(&mut imported) {
        return Err(format!("{} import failed", inv.program));
    }
    Ok(())
}

fn idmap(flag: &str, lines: &Option<Vec<MapLine>>, caller: u32, c: &mut Command) {
    let default = [MapLine(0, Outside::Id(caller), 1)];
    let lines = lines.as_deref().unwrap_or(&default);
    for MapLine(inside, outside, count) in lines {
        let host = match outside {
            Outside::Id(id) => *id,
            Outside::Caller(_) => caller,
        };
        c.arg(format!("{flag}={inside}:{host}:{count}"));
    }
}

/// Every capability: podman grants `all` as far as its bounding set goes;
/// docker's daemon grants `all` whole and then fails ("unable to apply
/// caps") on a host whose bounding set lacks one (CAP_SYS_RESOURCE here), so
/// docker drops those by name. (docker 20.10 does not know CAP_BPF,
/// CAP_PERFMON or CAP_CHECKPOINT_RESTORE, so it cannot be given the bounding
/// set by name instead.)
fn capabilities(inv: &Invocation, c: &mut Command) {
    c.args(["--cap-add", "all"]);
    if inv.plan.door == Door::Podman {
        return;
    }
    let bounding = caps::read(None, caps::CapSet::Bounding).unwrap_or_default();
    for cap in caps::all().difference(&bounding) {
        c.arg("--cap-drop").arg(cap.to_string());
    }
}

/// The command that runs the trial's container, and its clean-up.
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    import(inv)?;
    let mut rmi = engine(inv);
    rmi.args(["rmi", "--force"]).arg(image(inv));
    let mut holder = None;
    let mut cleanup = Vec::new();
    if inv.plan.door == Door::Docker && inv.joins() {
        let mut rm_holder = engine(inv);
        rm_holder
            .args(["rm", "--force"])
            .arg(docker_holder::name(inv));
        match docker_holder::start(inv, engine(inv), &image(inv)) {
            Ok(pid) => holder = Some(pid),
            Err(e) => {
                run_quiet(&mut rm_holder);
                run_quiet(&mut rmi);
                return Err(e);
            }
        }
        cleanup.push(rm_holder);
    }
    let mut c = engine(inv);
    c.args(["run", "--rm", "-i", "--name"])
        .arg(&inv.workspace.id);
    namespaces(inv, &mut c);
    if inv.plan.door == Door::Podman {
        c.arg(format!("--cgroup-parent=/{}", inv.workspace.id));
        if let Ok((soft, hard)) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        {
            c.arg(format!("--ulimit=nofile={soft}:{hard}"));
        }
        c.arg(format!("--ulimit=nproc={NPROC}:{NPROC}"));
    }
    capabilities(inv, &mut c);
    if inv.plan.door == Door::Docker && inv.plan.namespaces.net.is_some() && !inv.joins() {
        // docker disables IPv6 in a container's new network namespace
        // unless told otherwise; the cases expect the kernel's default.
        c.args(["--sysctl", "net.ipv6.conf.all.disable_ipv6=0"]);
    }
    c.args(["--security-opt", "seccomp=unconfined"])
        .args(["--read-only", "--tmpfs", "/tmp", "--log-driver", "none"])
        .arg("--volume")
        .arg(format!(
            "{}:{PROBE_IN_ROOTFS}:ro",
            inv.workspace.probe.display()
        ))
        .arg(image(inv))
        .args(&inv.args);
    let mut rm = engine(inv);
    rm.args(["rm", "--force"]).arg(&inv.workspace.id);
    cleanup.insert(0, rm);
    cleanup.push(rmi);
    Ok(Launch {
        command: c,
        cleanup,
        mounts: Mounts::Caller,
        detached: false,
        holder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::runtime::sample::Sample;
    use crate::plan::runtime::RuntimeConfig;

    /// The namespace options of `door` for `ns`, joined or not.
    fn options(door: Door, ns: serde_json::Value, join: bool) -> Vec<String> {
        let config = RuntimeConfig {
            join,
            ..RuntimeConfig::default()
        };
        let sample = Sample::new(door, ns, config);
        let inv = sample.invocation();
        let mut c = Command::new("engine");
        namespaces(&inv, &mut c);
        c.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn docker_takes_its_default_for_a_new_pid_namespace() {
        let podman = options(Door::Podman, serde_json::json!({"pid": {}}), false);
        assert!(podman.contains(&"--pid=private".to_string()), "{podman:?}");
        let docker = options(Door::Docker, serde_json::json!({"pid": {}}), false);
        assert!(!docker.iter().any(|a| a.starts_with("--pid")), "{docker:?}");
        assert!(docker.contains(&"--uts=host".to_string()), "{docker:?}");
    }

    #[test]
    fn podman_joins_by_path() {
        let o = options(
            Door::Podman,
            serde_json::json!({"ipc": {}, "user": {}}),
            true,
        );
        assert!(o.contains(&"--ipc=ns:/proc/42/ns/ipc".to_string()), "{o:?}");
        assert!(
            o.contains(&"--userns=ns:/proc/42/ns/user".to_string()),
            "{o:?}"
        );
        assert!(o.contains(&"--network=host".to_string()), "{o:?}");
        assert!(!o.iter().any(|a| a.starts_with("--uidmap")), "{o:?}");
    }
}
