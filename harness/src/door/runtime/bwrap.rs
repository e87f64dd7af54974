//! bubblewrap: `bwrap --unshare-<type>... --ro-bind ROOTFS / ... PROBE`.
//! bwrap always makes a mount namespace, takes one uid and one gid for a
//! new user namespace (`--uid`, `--gid`), and has no time namespace; the
//! plan's checks ([`crate::plan::runtime`]) skip what it cannot say.

use std::process::Command;

use super::bundle::PROBE_IN_ROOTFS;
use super::{Invocation, Launch};
use crate::kind::NsType;
use crate::plan::MapLine;

/// The `--unshare-*` option of a type, where bwrap has one.
fn unshare_flag(ty: NsType) -> Option<&'static str> {
    Some(match ty {
        NsType::User => "--unshare-user",
        NsType::Pid => "--unshare-pid",
        NsType::Net => "--unshare-net",
        NsType::Ipc => "--unshare-ipc",
        NsType::Uts => "--unshare-uts",
        NsType::Cgroup => "--unshare-cgroup",
        NsType::Mnt | NsType::Time => return None,
    })
}

/// The inside uid and gid of a one-line map (id 0 by default).
fn inside_ids(inv: &Invocation) -> (u32, u32) {
    let first = |m: &Option<Vec<MapLine>>| m.as_ref().and_then(|l| l.first()).map_or(0, |l| l.0);
    match &inv.plan.namespaces.user {
        Some(u) => (first(&u.uid_map), first(&u.gid_map)),
        None => (0, 0),
    }
}

/// The command that runs the trial's probe under bwrap.
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    let ns = &inv.plan.namespaces;
    let mut c = Command::new(&inv.program);
    c.args(ns.types().into_iter().filter_map(unshare_flag));
    if ns.user.is_some() {
        let (uid, gid) = inside_ids(inv);
        c.arg("--uid")
            .arg(uid.to_string())
            .arg("--gid")
            .arg(gid.to_string());
    }
    c.arg("--ro-bind")
        .arg(inv.workspace.rootfs())
        .arg("/")
        .arg("--ro-bind")
        .arg(&inv.workspace.probe)
        .arg(PROBE_IN_ROOTFS);
    if ns.pid.is_some() {
        c.args(["--proc", "/proc", "--as-pid-1"]);
    } else {
        c.args(["--ro-bind", "/proc", "/proc"]);
    }
    c.args([
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        "/sys",
        "/sys",
    ]);
    c.args(["--cap-add", "ALL", "--die-with-parent"]);
    c.args(&inv.args);
    Ok(Launch {
        command: c,
        cleanup: Vec::new(),
        cgroup2_only: false,
    })
}
