//! kernel.pid_max per pid namespace (6.14): set in a namespace a child makes
//! with its own user namespace, seen there and not on the host, and bounding
//! the pids of a nested namespace whose own limit is higher.
//!
//! The isolation holds twice over: the value is written only by the init of
//! a pid namespace the step made, after the guard has checked that its pid
//! and user namespaces are new; and that user namespace is the writer's own,
//! and the writer is never the kernel's global root (a root caller first
//! becomes nobody), so on a kernel whose pid_max is still global the write
//! is refused (the sysctl's file belongs to global root, whatever user
//! namespace a process is in) instead of changing the host.

use nix::errno::Errno;

use crate::guard;
use crate::kind::NsType;
use crate::plan::pid::{PidMax, PID_MAX_CASE};
use crate::step::Extra;
use crate::sys::errno::io_errno;
use crate::sys::helper::{self, in_child};
use crate::sys::ns::{flags_of, unshare, DEADLINE};
use crate::sys::process;

const PID_MAX: &str = "/proc/sys/kernel/pid_max";

fn read_pid_max() -> Result<u64, Errno> {
    let text = std::fs::read_to_string(PID_MAX).map_err(io_errno)?;
    text.trim().parse().map_err(|_| Errno::EINVAL)
}

/// Write `value` to pid_max, once the guard has seen new pid and user
/// namespaces: the errno's name, or `ok`.
fn write_pid_max(value: u32) -> Result<String, Errno> {
    guard::ensure(NsType::Pid).map_err(Errno::from)?;
    guard::ensure(NsType::User).map_err(Errno::from)?;
    Ok(match std::fs::write(PID_MAX, value.to_string()) {
        Ok(()) => "ok".into(),
        Err(e) => format!("{:?}", io_errno(e)),
    })
}

/// The init of the nested namespace: its own higher limit, and how many
/// processes it can make under the outer one's.
fn nested(limit: u32) -> Result<Extra, Errno> {
    let mut extra = Extra::new();
    extra.insert("nested_write".into(), write_pid_max(limit)?.into());
    extra.insert("nested_set".into(), read_pid_max()?.into());
    let (made, refused) = helper::crowd(limit, DEADLINE)?;
    extra.insert("nested_forks".into(), made.into());
    extra.insert(
        "nested_errno".into(),
        refused.map(|e| format!("{e:?}")).into(),
    );
    Ok(extra)
}

/// The init of the outer new namespace: sets the limit, then makes the
/// nested namespace.
fn outer_init(limit: u32) -> Result<Extra, Errno> {
    let mut extra = Extra::new();
    extra.insert("write".into(), write_pid_max(limit)?.into());
    extra.insert("set".into(), read_pid_max()?.into());
    unshare(flags_of(&[NsType::Pid]))?;
    let nested_limit = (limit * 2).min(PID_MAX_CASE * 4);
    extra.extend(in_child(DEADLINE * 2, || nested(nested_limit))?);
    extra.insert("set_after".into(), read_pid_max()?.into());
    Ok(extra)
}

/// Give up global root (no groups, uid and gid 65534) when the caller is
/// root one level out of its user namespace.
fn leave_global_root() -> Result<(), Errno> {
    if !crate::view::user::euid_maps_to_root() {
        return Ok(());
    }
    const NOBODY: u32 = 65534;
    // SAFETY: setgroups with no groups reads no memory; setresgid and
    // setresuid take plain ids.
    unsafe {
        Errno::result(libc::setgroups(0, std::ptr::null()))?;
        Errno::result(libc::setresgid(NOBODY, NOBODY, NOBODY))?;
        Errno::result(libc::setresuid(NOBODY, NOBODY, NOBODY))?;
    }
    process::rearm_deathsig();
    match crate::view::user::euid_maps_to_root() {
        true => Err(Errno::EPERM),
        false => Ok(()),
    }
}

pub fn pid_max(p: &PidMax) -> Result<Extra, Errno> {
    let before = read_pid_max()?;
    let limit = p.limit;
    let inner = in_child(DEADLINE * 3, || {
        leave_global_root()?;
        unshare(flags_of(&[NsType::User, NsType::Pid]))?;
        in_child(DEADLINE * 2, || outer_init(limit))
    })?;
    let mut extra = Extra::new();
    extra.insert("host_before".into(), before.into());
    extra.extend(inner);
    extra.insert("host_after".into(), read_pid_max()?.into());
    Ok(extra)
}
