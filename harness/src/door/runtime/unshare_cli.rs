//! util-linux unshare(1): `unshare --<type>... --fork PROBE`, with the
//! probe run from where it lies (unshare(1) changes no root). A new user
//! namespace maps one id (`--map-user`, `--map-group`); the time namespace
//! takes whole seconds (`--monotonic`, `--boottime`).
//!
//! unshare(1) only makes namespaces: its `--net=FILE` style options persist
//! a new namespace by bind-mounting it on FILE, and join nothing. A case
//! that joins existing namespaces runs through util-linux's other half,
//! nsenter(1) (`nsenter --user=FILE --pid=FILE ... PROBE`, which forks
//! after entering a pid namespace), found beside unshare(1): the same
//! package, and the door's own tool for joining.

use std::path::{Path, PathBuf};
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

/// nsenter(1) beside the door's unshare(1), or on `PATH`.
fn nsenter(inv: &Invocation) -> PathBuf {
    let beside = Path::new(&inv.program).with_file_name("nsenter");
    if beside.is_file() {
        beside
    } else {
        PathBuf::from("nsenter")
    }
}

/// The command that joins the holder's namespaces with nsenter(1).
fn join(inv: &Invocation) -> Launch {
    let mut c = Command::new(nsenter(inv));
    for ty in inv.plan.namespaces.types() {
        if let Some(path) = inv.joined(ty) {
            c.arg(format!("{}={path}", flag(ty)));
        }
    }
    c.arg("--").arg(&inv.workspace.probe);
    c.args(&inv.args[1..]);
    Launch::plain(c)
}

/// The command that runs the trial's probe under unshare(1), or under
/// nsenter(1) when the case joins.
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    if inv.joins() {
        return Ok(join(inv));
    }
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
    Ok(Launch::plain(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::runtime::sample::Sample;
    use crate::plan::runtime::RuntimeConfig;

    #[test]
    fn a_case_that_joins_runs_through_nsenter() {
        let config = RuntimeConfig {
            join: true,
            ..RuntimeConfig::default()
        };
        let ns = serde_json::json!({"net": {}, "time": {}});
        let sample = Sample::new(crate::plan::Door::UnshareCli, ns, config);
        let inv = Invocation {
            caller: (0, 0),
            args: vec!["/nsconform-probe".into(), "--in-container".into()],
            program: "/nonexistent/unshare".into(),
            ..sample.invocation()
        };
        let l = launch(&inv).expect("launch");
        assert_eq!(l.command.get_program(), "nsenter");
        let args: Vec<String> = (l.command.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args[..3],
            ["--net=/proc/42/ns/net", "--time=/proc/42/ns/time", "--"]
        );
    }
}
