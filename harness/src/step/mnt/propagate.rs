//! `propagate`: propagation between the case's mount namespace (`first`)
//! and a second one that a helper unshares (`second`), in both directions.

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use serde_json::{json, Value};

use super::helper::{self, MapLine, PATIENCE};
use super::sandbox::{ensure_mount_on, make_dirs};
use super::tree::{mount_tmpfs, propagation_of, sees_mount, set_propagation};
use crate::guard::{self, Origin};
use crate::plan::mnt::PropagateStep;
use crate::plan::PropagationType;
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::helper::{self as sys_helper, Channel};

/// The paths one `propagate` step works in.
struct Paths {
    base: String,
    from_first: String,
    from_second: String,
    bind_first: String,
    bind_second: String,
}

impl Paths {
    fn new(step: &PropagateStep) -> Paths {
        let ty = match step.ty {
            PropagationType::Shared => "shared",
            PropagationType::Private => "private",
            PropagationType::Slave => "slave",
            PropagationType::Unbindable => "unbindable",
        };
        let lp = if step.less_privileged { "-userns" } else { "" };
        let base = format!("/tmp/propagate-{ty}{lp}");
        Paths {
            from_first: format!("{base}/from-first"),
            from_second: format!("{base}/from-second"),
            bind_first: format!("{base}-bind-first"),
            bind_second: format!("{base}-bind-second"),
            base,
        }
    }
}

/// Try to bind `base` on `target`: `"ok"` or the errno name; the guard's
/// refusal is an error.
fn try_bind(base: &str, target: &str) -> Result<Value, Errno> {
    ensure_mount_on(target)?;
    Ok(outcome(nix::mount::mount(
        Some(base),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )))
}

/// The second side, in the helper: unshare, take the type, wait for the
/// first side's mount, look for it, mount, and try a bind.
fn second(ch: &Channel, step: &PropagateStep, p: &Paths) -> Value {
    let mut flags = CloneFlags::CLONE_NEWNS;
    if step.less_privileged {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    if let Err(e) = nix::sched::unshare(flags) {
        return json!({"unshare": format!("{e:?}")});
    }
    if step.ty == PropagationType::Slave {
        if let Err(e) = set_propagation(&p.base, MsFlags::MS_SLAVE) {
            return json!({"make_slave": format!("{e:?}")});
        }
    }
    ch.ready();
    if !ch.wait_go() {
        return json!({"go": "ETIMEDOUT"});
    }
    let sees_first = sees_mount(&p.from_first);
    let mount = outcome(mount_tmpfs(&p.from_second));
    let mut side = propagation_of(&p.base);
    side.insert("sees_first".into(), sees_first.into());
    side.insert("mount".into(), mount);
    match try_bind(&p.base, &p.bind_second) {
        Ok(bind) => side.insert("bind".into(), bind),
        Err(e) => return json!({"bind": format!("{e:?}")}),
    };
    side.insert(
        "ns".into(),
        json!(crate::view::ns::id_of("self", "mnt").map(|id| id.ino)),
    );
    Value::Object(side)
}

pub fn perform(step: &PropagateStep, origin: &Origin) -> Result<Extra, Errno> {
    let p = Paths::new(step);
    for dir in [&p.base, &p.bind_first, &p.bind_second] {
        make_dirs(dir)?;
    }
    mount_tmpfs(&p.base)?;
    for dir in [&p.from_first, &p.from_second] {
        make_dirs(dir)?;
    }
    let flags = match step.ty {
        PropagationType::Shared | PropagationType::Slave => MsFlags::MS_SHARED,
        PropagationType::Private => MsFlags::MS_PRIVATE,
        PropagationType::Unbindable => MsFlags::MS_UNBINDABLE,
    };
    set_propagation(&p.base, flags)?;
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let h = sys_helper::spawn(PATIENCE, |ch| Ok(second(ch, step, &p)))?;
    if h.wait_ready().is_ok() {
        if step.less_privileged {
            let line = MapLine {
                inside: 0,
                uid: uid.as_raw(),
                gid: gid.as_raw(),
                count: 1,
            };
            // A failure shows in the helper's answer (it cannot mount
            // unmapped); the guard's refusal ends the step (and the helper).
            let refusals = guard::sent();
            let written = helper::write_maps(origin, h.pid(), &line);
            if guard::sent() > refusals {
                return written.map(|()| Extra::new());
            }
        }
        mount_tmpfs(&p.from_first)?;
        h.go();
    }
    let second = h.finish()?;
    let mut first = propagation_of(&p.base);
    first.insert("sees_second".into(), sees_mount(&p.from_second).into());
    first.insert("bind".into(), try_bind(&p.base, &p.bind_first)?);
    first.insert(
        "ns".into(),
        json!(crate::view::ns::id_of("self", "mnt").map(|id| id.ino)),
    );
    let mut extra = Extra::new();
    extra.insert("base".into(), p.base.clone().into());
    extra.insert("first".into(), Value::Object(first));
    extra.insert("second".into(), second);
    Ok(extra)
}
