//! Container engines, podman and docker: the rootfs is imported as an image
//! (`import`), the case becomes the engine's namespace options (`--pid`,
//! `--ipc`, `--uts`, `--network`, `--cgroupns`: `private` or `host`;
//! `--uidmap` for a user namespace), the probe is bound in read-only, and
//! the container runs with `--rm -i`; the image is removed afterwards.
//! podman keeps its storage in the trial's workspace (`--root`,
//! `--runroot`); docker's is its daemon's.

use std::process::Command;

use crate::sys::command::run_quiet;

use super::bundle::PROBE_IN_ROOTFS;
use super::{Invocation, Launch};
use crate::kind::NsType;
use crate::plan::{Door, MapLine, Outside};

/// The process limit the container gets: podman's default (4194304) is
/// refused on a host without CAP_SYS_RESOURCE, and the trials need few.
const NPROC: u32 = 4096;

/// The engine's option for a type, and the words for new and shared.
fn option(ty: NsType) -> Option<(&'static str, &'static str)> {
    Some(match ty {
        NsType::Pid => ("--pid", "private"),
        NsType::Ipc => ("--ipc", "private"),
        NsType::Uts => ("--uts", "private"),
        NsType::Net => ("--network", "none"),
        NsType::Cgroup => ("--cgroupns", "private"),
        NsType::User | NsType::Mnt | NsType::Time => return None,
    })
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

/// The command that runs the trial's container, and its clean-up.
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    import(inv)?;
    let ns = &inv.plan.namespaces;
    let mut c = engine(inv);
    c.args(["run", "--rm", "-i", "--name"])
        .arg(&inv.workspace.id);
    for ty in crate::kind::NsType::all() {
        if let Some((opt, new)) = option(ty) {
            let how = if ns.has(ty) { new } else { "host" };
            c.arg(format!("{opt}={how}"));
        }
    }
    match &ns.user {
        Some(u) => {
            idmap("--uidmap", &u.uid_map, inv.caller.0, &mut c);
            idmap("--gidmap", &u.gid_map, inv.caller.1, &mut c);
        }
        None => {
            c.arg("--userns=host");
        }
    }
    if inv.plan.door == Door::Podman {
        c.arg(format!("--cgroup-parent=/{}", inv.workspace.id));
        if let Ok((soft, hard)) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        {
            c.arg(format!("--ulimit=nofile={soft}:{hard}"));
        }
        c.arg(format!("--ulimit=nproc={NPROC}:{NPROC}"));
    }
    c.args(["--cap-add", "all", "--security-opt", "seccomp=unconfined"])
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
    let mut rmi = engine(inv);
    rmi.args(["rmi", "--force"]).arg(image(inv));
    Ok(Launch {
        command: c,
        cleanup: vec![rm, rmi],
        cgroup2_only: false,
    })
}
