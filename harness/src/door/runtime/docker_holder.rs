//! docker's holder: docker joins only the namespaces of another docker
//! container (`--pid=container:ID`, `--network=container:ID`,
//! `--ipc=container:ID`, the last only of a container made `shareable`), so a
//! case that joins namespaces gets a holder container of the trial's image
//! first: the probe with no plan yet, waiting on a standard input that
//! `run -d -i` keeps open. Its namespaces are reported as the process
//! `holder`, and it is removed with the trial's container.

use std::process::{Command, Stdio};

use super::bundle::PROBE_IN_ROOTFS;
use super::Invocation;
use crate::kind::NsType;

/// The holder's option that makes a joined type new and joinable: none
/// for pid, a new one being docker's default (it has no word for it).
fn joinable(ty: NsType) -> Option<&'static str> {
    match ty {
        NsType::Net => Some("--network=none"),
        NsType::Ipc => Some("--ipc=shareable"),
        _ => None,
    }
}

/// The holder container's name.
pub fn name(inv: &Invocation) -> String {
    format!("{}-holder", inv.workspace.id)
}

/// Start the holder from `image` with `docker` (the engine command with
/// its global options); its pid on the host.
pub fn start(inv: &Invocation, mut docker: Command, image: &str) -> Result<i32, String> {
    docker.args(["run", "-d", "-i", "--name"]).arg(name(inv));
    docker.args(inv.plan.namespaces.types().into_iter().filter_map(joinable));
    docker
        .args(["--userns=host", "--log-driver", "none", "--read-only"])
        .arg("--volume")
        .arg(format!(
            "{}:{PROBE_IN_ROOTFS}:ro",
            inv.workspace.probe.display()
        ))
        .arg(image)
        .arg(PROBE_IN_ROOTFS);
    let started = docker
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !started {
        return Err("docker could not start the holder container".into());
    }
    pid(inv)
}

/// The holder's pid, as docker reports it.
fn pid(inv: &Invocation) -> Result<i32, String> {
    let out = Command::new(&inv.program)
        .args(["inspect", "--format", "{{.State.Pid}}"])
        .arg(name(inv))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("docker inspect: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("docker inspect gave no pid for the holder: {text:?}"))
}
