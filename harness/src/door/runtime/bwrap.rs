//! bubblewrap: `bwrap --unshare-<type>... --ro-bind ROOTFS / ... PROBE`.
//! bwrap always makes a mount namespace, takes one uid and one gid for a
//! new user namespace (`--uid`, `--gid`), and has no time namespace. It
//! joins a user or a pid namespace by a descriptor it inherits (`--userns
//! FD`, `--pidns FD`; `--userns2 FD` only switches to another user namespace
//! after the setup, which no case needs), and no other type; the plan's
//! checks ([`crate::plan::runtime`]) skip what it cannot say.

use std::os::fd::{IntoRawFd, RawFd};
use std::process::Command;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

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

/// The option that joins a type by descriptor, where bwrap has one.
fn join_flag(ty: NsType) -> Option<&'static str> {
    match ty {
        NsType::User => Some("--userns"),
        NsType::Pid => Some("--pidns"),
        _ => None,
    }
}

/// Open the holder's namespace of `ty` for bwrap to inherit: the descriptor
/// stays open, without close-on-exec, in the launcher, which exits after.
fn inherited(path: &str) -> Result<RawFd, String> {
    nix::fcntl::open(path, OFlag::O_RDONLY, Mode::empty())
        .map(IntoRawFd::into_raw_fd)
        .map_err(|e| format!("cannot open {path} for bwrap: {e}"))
}

/// `--unshare-<type>` for each new type, `--userns FD`/`--pidns FD` for
/// each joined one.
fn namespaces(inv: &Invocation, c: &mut Command) -> Result<(), String> {
    for ty in inv.plan.namespaces.types() {
        match inv.joined(ty) {
            Some(path) => {
                let flag = join_flag(ty).ok_or_else(|| format!("bwrap cannot join {ty}"))?;
                c.arg(flag).arg(inherited(&path)?.to_string());
            }
            None => {
                c.args(unshare_flag(ty));
            }
        }
    }
    Ok(())
}

/// The command that runs the trial's probe under bwrap.
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    let ns = &inv.plan.namespaces;
    let mut c = Command::new(&inv.program);
    namespaces(inv, &mut c)?;
    if ns.user.is_some() && !inv.joins() {
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
    // A new pid namespace gets its own /proc; otherwise the caller's is
    // bound writable, as the syscall doors see it: a step writes the maps of
    // a user namespace it makes through /proc/<pid>/uid_map.
    // `--as-pid-1` only with a pid namespace of bwrap's own: a joined one
    // has its init already.
    if ns.pid.is_some() {
        c.args(["--proc", "/proc"]);
        if inv.joined(NsType::Pid).is_none() {
            c.arg("--as-pid-1");
        }
    } else {
        c.args(["--bind", "/proc", "/proc"]);
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
    Ok(Launch::plain(c))
}
