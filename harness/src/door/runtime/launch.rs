//! Launching a runtime door: the supervisor starts a holder when the case
//! joins namespaces by path, then forks the launcher, which lays out the
//! workspace, runs the runtime with the views pipe as the container's
//! standard output and the release pipe as its standard input, reports a
//! runtime that refused, and removes everything the trial made.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use nix::unistd::Pid;

use super::bundle::{Workspace, PROBE_IN_ROOTFS};
use super::{bwrap, cgroups, engine, oci_runtime, unshare_cli};
use crate::door::{holder, Ctx};
use crate::kind::NsType;
use crate::plan::runtime::INSIDE_ARG;
use crate::plan::{Door, DoorResult, Plan};
use crate::sys::command;
use crate::sys::helper::{self, TRIAL_LIFETIME};
use crate::sys::message::Message;
use crate::sys::process;
use crate::view::ns;

/// Everything a door needs to build its command.
pub struct Invocation<'a> {
    pub plan: &'a Plan,
    pub workspace: &'a Workspace,
    /// The process whose namespaces the case joins by path.
    pub holder: Option<i32>,
    /// The supervisor's effective uid and gid (the outside of `"caller"`).
    pub caller: (u32, u32),
    /// The container's process: the probe, with the plan it carries out.
    pub args: Vec<String>,
    /// The program the door runs.
    pub program: String,
}

impl Invocation<'_> {
    /// Whether the case joins its namespaces (through the holder's).
    pub fn joins(&self) -> bool {
        self.plan.runtime.as_ref().is_some_and(|r| r.config.join)
    }

    /// The holder's namespace of type `ty`, `/proc/<pid>/ns/<type>`, when
    /// the case joins that type.
    pub fn joined(&self, ty: NsType) -> Option<String> {
        self.holder
            .filter(|_| self.joins() && self.plan.namespaces.has(ty))
            .map(|pid| format!("/proc/{pid}/ns/{}", ty.name()))
    }
}

/// Where a door's command runs, as to mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mounts {
    /// The caller's mount namespace.
    Caller,
    /// A private mount namespace of the caller's user namespace, where
    /// the runtime's own mounts stay (the OCI runtimes: see
    /// [`oci_runtime`]).
    Private,
    /// A private mount namespace with only cgroup2 at /sys/fs/cgroup (crun
    /// on a hybrid host).
    Cgroup2Only,
}

/// A door's command and what undoes it.
pub struct Launch {
    pub command: Command,
    /// Commands run afterwards whatever happened (`delete --force`, `rmi`).
    pub cleanup: Vec<Command>,
    /// The mount namespace the command runs in.
    pub mounts: Mounts,
    /// The command returns once the container started (`run --detach`):
    /// the launcher, a child subreaper, adopts the container's process and
    /// waits for it itself.
    pub detached: bool,
    /// A holder the door started itself (docker's holder container), whose
    /// namespaces the launcher reports as the process `holder`.
    pub holder: Option<i32>,
}

impl Launch {
    /// A command that runs the container in the foreground, in the
    /// caller's mounts, with nothing to clean up after it (bwrap,
    /// unshare(1), nsenter).
    pub fn plain(command: Command) -> Launch {
        Launch {
            command,
            cleanup: Vec::new(),
            mounts: Mounts::Caller,
            detached: false,
            holder: None,
        }
    }
}

/// The plan the container's probe carries out: this one, with the
/// namespaces the supervisor started in for its isolation guard.
fn inner_args(plan: &Plan, probe: &str) -> Vec<String> {
    let mut inner = plan.clone();
    let host = serde_json::to_value(ns::observe()).ok();
    let mut rt = inner.runtime.take().unwrap_or_default();
    rt.host_ns = host;
    inner.runtime = Some(rt);
    inner.outer_userns = false;
    let text = serde_json::to_string(&inner).unwrap_or_default();
    vec![probe.to_string(), INSIDE_ARG.to_string(), text]
}

/// The program a door runs: the one the harness resolved, or its own name.
fn program(plan: &Plan) -> String {
    plan.runtime
        .as_ref()
        .and_then(|r| r.program.clone())
        .unwrap_or_else(|| match plan.door {
            Door::UnshareCli => "unshare".into(),
            d => d.name().into(),
        })
}

/// Build the door's command for `inv`.
fn prepare(inv: &Invocation) -> Result<Launch, String> {
    match inv.plan.door {
        Door::Runc | Door::Crun | Door::Youki | Door::Oci => oci_runtime::launch(inv),
        Door::Bwrap => bwrap::launch(inv),
        Door::UnshareCli => unshare_cli::launch(inv),
        Door::Podman | Door::Docker => engine::launch(inv),
        d => Err(format!("{d} is not a runtime door")),
    }
}

/// Run the door's command; `Ok(None)` when it succeeded, the failure as the
/// door's result otherwise.
fn run(ctx: &Ctx, launch: &mut Launch) -> Result<Option<DoorResult>, String> {
    match launch.mounts {
        Mounts::Caller => {}
        Mounts::Private => oci_runtime::enter_private_mounts(ctx)?,
        Mounts::Cgroup2Only => oci_runtime::enter_cgroup2_only(ctx)?,
    }
    if launch.detached {
        command::adopt_orphans().map_err(|e| format!("prctl(PR_SET_CHILD_SUBREAPER): {e}"))?;
    }
    let cmd = &mut launch.command;
    let status = command::run_with(cmd, ctx.release, ctx.views)
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if launch.detached {
        command::reap_children();
    }
    if status.success() {
        return Ok(None);
    }
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => "failure".into(),
    };
    Ok(Some(DoorResult {
        syscall: Some("runtime".into()),
        errno: Some(how),
    }))
}

/// A command as its words.
fn argv(c: &Command) -> Vec<String> {
    std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// The launcher process: never returns.
fn launcher(ctx: &Ctx, holder: Option<i32>) -> ! {
    let ws = match Workspace::new(ctx.supervisor) {
        Ok(ws) => ws,
        Err(e) => {
            ctx.send(&Message::error("runtime", e.to_string()));
            process::exit(1)
        }
    };
    let inv = Invocation {
        plan: ctx.plan,
        workspace: &ws,
        holder,
        caller: ctx.caller,
        args: inner_args(ctx.plan, PROBE_IN_ROOTFS),
        program: program(ctx.plan),
    };
    let mut launch = match prepare(&inv) {
        Ok(l) => l,
        Err(e) => {
            ctx.send(&Message::error("runtime", e));
            process::exit(1)
        }
    };
    if let Some(pid) = launch.holder {
        send_holder_view(ctx, Pid::from_raw(pid));
    }
    let recorded: Vec<Vec<String>> = launch.cleanup.iter().map(argv).collect();
    if let Err(e) = ws.write_cleanup(&recorded) {
        ctx.send(&Message::error("runtime", e.to_string()));
    }
    match run(ctx, &mut launch) {
        Ok(None) => {}
        // Once released, the container may end any way (the init of a pid
        // namespace it joined may exit first and take it along).
        Ok(Some(_)) if crate::sys::pipe::closed_now(ctx.release) => {}
        Ok(Some(result)) => ctx.send(&Message::Door {
            process: "runtime".into(),
            result,
        }),
        Err(e) => ctx.send(&Message::error("runtime", e)),
    }
    for c in &mut launch.cleanup {
        command::run_quiet(c);
    }
    cgroups::remove_named(&ws.id);
    drop(ws);
    process::exit(0)
}

/// Report the holder's namespaces as the process `holder`.
fn send_holder_view(ctx: &Ctx, pid: Pid) {
    let mut view = serde_json::Map::new();
    for kind in crate::kind::KINDS {
        if let Some(id) = ns::id_of(&pid.to_string(), kind.name) {
            view.insert(kind.name.into(), serde_json::json!(id));
        }
    }
    ctx.send(&Message::View {
        process: "holder".into(),
        view: serde_json::json!({ "ns": view }),
    });
}

/// Carry out a runtime door. Returns the supervisor's direct children.
pub fn enter(ctx: &Ctx) -> Vec<Pid> {
    let mut children = Vec::new();
    // docker's holder is a container of its own (docker_holder).
    let joins = ctx.plan.door != Door::Docker
        && (ctx.plan.runtime.as_ref())
            .is_some_and(|r| r.config.join || r.config.wrong_path.is_some());
    let mut holder_pid = None;
    if joins {
        match holder::start(ctx, ctx.plan.namespaces.needs_child()) {
            Ok(h) => {
                send_holder_view(ctx, h.target);
                holder_pid = Some(h.target.as_raw());
                children.push(h.pid);
            }
            Err(pid) => return pid.into_iter().collect(),
        }
    }
    let started = helper::spawn::<()>(TRIAL_LIFETIME, |_| {
        process::drop_inherited(&ctx.parent_only);
        launcher(ctx, holder_pid)
    });
    match started {
        Err(e) => ctx.door_failed("supervisor", "fork", e),
        Ok(launcher) => children.push(launcher.leave()),
    }
    children
}
