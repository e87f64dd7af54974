//! The OCI runtimes (runc, crun, youki, any by path): `PROGRAM --root STATE
//! run --bundle BUNDLE ID` with a private state root, then `delete --force`.
//! crun refuses hybrid cgroup hierarchies ("cgroups in hybrid mode not
//! supported"), so on such a host it runs in a private mount namespace whose
//! /sys/fs/cgroup is the unified hierarchy alone, with its cgroup manager
//! disabled (it then applies no cgroup limits, which no case asks for).
//! Rootless, that namespace comes with a cgroup namespace of its own, which
//! the container then inherits.
//!
//! Rootless, runc runs in a private mount namespace of the suite's user
//! namespace too: seeing uid 0 there, runc 1.1.5 takes itself for root and,
//! for a container with a user namespace, its `runc init` joins its own
//! mount namespace again to open the bind mounts' sources ("failed to setns
//! to host mntns: Operation not permitted"), which needs CAP_SYS_ADMIN over
//! the user namespace owning that mount namespace: the host's, unless the
//! suite made one of its own.
//!
//! youki 0.7.0 runs detached (`run --detach`), its container's process then
//! waited for by the launcher: in the foreground, youki blocks SIGCHLD only
//! after the container started (`handle_foreground` in its
//! `src/commands/run.rs`), so a container process that exits before that
//! leaves youki waiting in sigwait for a signal already discarded, a hang
//! seen under load.

use std::path::Path;
use std::process::Command;

use nix::mount::MsFlags;

use super::{oci, Invocation, Launch, Mounts};
use crate::door::Ctx;
use crate::kind::NsType;
use crate::plan::Door;

/// Whether /sys/fs/cgroup holds v1 controllers beside a unified hierarchy
/// at /sys/fs/cgroup/unified.
pub fn hybrid_cgroups() -> bool {
    let is_cgroup2 = |p: &str| {
        nix::sys::statfs::statfs(p)
            .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
            .unwrap_or(false)
    };
    !is_cgroup2("/sys/fs/cgroup") && is_cgroup2("/sys/fs/cgroup/unified")
}

fn base(inv: &Invocation) -> Command {
    let mut c = Command::new(&inv.program);
    c.arg("--root").arg(inv.workspace.state());
    c
}

/// The command that runs the trial's container, and its clean-up.
pub fn launch(inv: &Invocation) -> Result<Launch, String> {
    oci::write_bundle(inv, inv.workspace)?;
    let crun_on_hybrid = inv.plan.door == Door::Crun && hybrid_cgroups();
    let mut run = base(inv);
    if crun_on_hybrid {
        run.arg("--cgroup-manager=disabled");
    }
    let detached = inv.plan.door == Door::Youki;
    run.arg("run");
    if detached {
        run.arg("--detach");
    }
    run.arg("--bundle")
        .arg(inv.workspace.bundle())
        .arg(&inv.workspace.id);
    let mut delete = base(inv);
    delete.args(["delete", "--force"]).arg(&inv.workspace.id);
    // Never the caller's mount namespace: crun (and runc where a memfd
    // cannot be had) bind-mounts its own binary over /tmp/crun.XXXXXX for a
    // moment (try_bindfd, its guard against CVE-2019-5736), which a
    // concurrent trial would see in the host's mount table. Rootless runc
    // needs a private one anyway.
    let mounts = if crun_on_hybrid {
        Mounts::Cgroup2Only
    } else {
        Mounts::Private
    };
    Ok(Launch {
        command: run,
        cleanup: vec![delete],
        mounts,
        detached,
        holder: None,
    })
}

/// Leave the host's mount namespace (and the namespaces of `flags`) for a
/// private one. The isolation guard checks the namespace is new before
/// changing its propagation.
fn private_mounts(ctx: &Ctx, flags: nix::sched::CloneFlags) -> Result<(), String> {
    nix::sched::unshare(flags).map_err(|e| format!("unshare for the runtime's mounts: {e}"))?;
    ctx.origin.check(NsType::Mnt)?;
    let none = None::<&str>;
    nix::mount::mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("mount --make-rprivate /: {e}"))
}

/// Leave the host's mount namespace for a private one, where the runtime's
/// own mounts stay.
pub fn enter_private_mounts(ctx: &Ctx) -> Result<(), String> {
    private_mounts(ctx, nix::sched::CloneFlags::CLONE_NEWNS)
}

/// Leave the host's mount namespace for a private one whose /sys/fs/cgroup
/// is a fresh cgroup2 mount: a runtime that refuses hybrid hierarchies runs
/// there. The isolation guard checks the namespace is new before mounting.
pub fn enter_cgroup2_only(ctx: &Ctx) -> Result<(), String> {
    // Rootless, cgroup2 can be mounted only from a cgroup namespace of the
    // caller's own user namespace.
    let mut flags = nix::sched::CloneFlags::CLONE_NEWNS;
    if ctx.plan.outer_userns {
        flags |= nix::sched::CloneFlags::CLONE_NEWCGROUP;
    }
    private_mounts(ctx, flags)?;
    let none = None::<&str>;
    nix::mount::mount(
        Some("cgroup2"),
        Path::new("/sys/fs/cgroup"),
        Some("cgroup2"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        none,
    )
    .map_err(|e| format!("mount cgroup2 on /sys/fs/cgroup: {e}"))
}
