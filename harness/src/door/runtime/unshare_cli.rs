//! util-linux unshare(1): `unshare --<type>... --fork PROBE`, with the
//! probe run from where it lies (unshare(1) changes no root). A new user
//! namespace maps one id (`--map-user`, `--map-group`); the time namespace
//! takes whole seconds (`--monotonic`, `--boottime`).

use std::process::Command;

use super::{Invocation, Launch};
use crate::kind::NsType;
use crate::plan::{MapLine, Prepare};

fn flag(ty: NsType) -> &'static str {
    match ty {
        NsType::User => "--user",
        NsType::Pid => "--pid",
        NsType::Mnt => "--mount",
        NsType::Net => "--net",
        NsType::Ipc => "--ipc",
        NsType::Uts => "--uts",
        NsType::Cgroup => "--cgroup",
        NsType::Time => "--time",
    }
}

fn user_flags(inv: &Invocation, c: &mut Command) {
    let Some(u) = inv.plan.namespaces.user.as_ref().filter(|u| !u.unmapped) else {
        return;
    };
    let first = |m: &Option<Vec<MapLine>>| m.as_ref().and_then(|l| l.first()).map_or(0, |l| l.0);
    c.arg(format!("--map-user={}", first(&u.uid_map)));
    c.arg(format!("--map-group={}", first(&u.gid_map)));
}

/// The command that runs the trial's probe under unshare(1).
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    let ns = &inv.plan.namespaces;
    let mut c = Command::new(&inv.program);
    c.args(ns.types().into_iter().map(flag));
    user_flags(inv, &mut c);
    if let Some(m) = &ns.mnt {
        let how = match m.prepare {
            Prepare::Private => "private",
            Prepare::Keep => "unchanged",
        };
        c.arg(format!("--propagation={how}"));
    }
    if let Some(t) = &ns.time {
        if let Some(m) = t.monotonic {
            c.arg("--monotonic").arg(m.0.to_string());
        }
        if let Some(b) = t.boottime {
            c.arg("--boottime").arg(b.0.to_string());
        }
    }
    c.arg("--fork").arg("--kill-child");
    c.arg(&inv.workspace.probe);
    c.args(&inv.args[1..]);
    Ok(Launch {
        command: c,
        cleanup: Vec::new(),
        cgroup2_only: false,
    })
}
