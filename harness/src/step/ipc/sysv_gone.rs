//! `sysv_gone`: System V objects are destroyed with their IPC namespace,
//! seen from outside the dead namespace. A locked segment (SHM_LOCK) is
//! charged to its user's RLIMIT_MEMLOCK count of the user namespace it was
//! locked in, and the charge goes only when the segment is destroyed: by
//! shm_exit_ns, when the namespace is freed. The limit is one page, so while
//! the segment lives a second page cannot be locked, in its namespace or in
//! the step's own; once the namespace is gone, one can, in a new namespace.
//!
//! The kernel frees an IPC namespace in a work item. The wait for it is the
//! kernel's own: with `user.max_ipc_namespaces` at 1 in a user namespace of
//! the step, a new IPC namespace can be made there only once the old one is
//! freed, and create_ipc_ns waits for the pending frees (flush_work) before
//! it gives up with ENOSPC (since 6.3, a80c4adcb574). free_ipc_ns destroys
//! the objects (shm_exit_ns) before it gives the count back.

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::guard;
use crate::kind::NsType;
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::helper;
use crate::sys::ns::{unshare, DEADLINE};

/// The limit on IPC namespaces of the step's user namespace.
const MAX_IPC_NAMESPACES: &str = "/proc/sys/user/max_ipc_namespaces";

fn page() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4096, |p| p as usize)
}

/// A new private segment of one page, locked with SHM_LOCK.
fn locked_segment() -> Result<(), Errno> {
    guard::ensure(NsType::Ipc)?;
    // SAFETY: shmget takes plain integers and touches no memory of ours.
    let id = Errno::result(unsafe { libc::shmget(libc::IPC_PRIVATE, page(), 0o600) })?;
    // SAFETY: SHM_LOCK takes no buffer; a null pointer is what it expects.
    Errno::result(unsafe { libc::shmctl(id, libc::SHM_LOCK, std::ptr::null_mut()) }).map(drop)
}

/// In a new IPC namespace: lock a page, then try a second one.
fn lock_two() -> Result<Extra, Errno> {
    let mut extra = Extra::new();
    extra.insert("lock".into(), outcome(locked_segment()));
    extra.insert("second_lock".into(), outcome(locked_segment()));
    Ok(extra)
}

/// A user namespace of the step's own with at most one IPC namespace, and
/// a lock limit of one page.
fn limited_user_ns() -> Result<(), Errno> {
    unshare(libc::CLONE_NEWUSER as u64)?;
    guard::ensure(NsType::User)?;
    std::fs::write(MAX_IPC_NAMESPACES, "1\n").map_err(crate::sys::errno::io_errno)?;
    let (_, hard) = getrlimit(Resource::RLIMIT_MEMLOCK)?;
    setrlimit(Resource::RLIMIT_MEMLOCK, page() as u64, hard)
}

pub fn sysv_gone() -> Result<Extra, Errno> {
    helper::in_child(DEADLINE * 4, || {
        limited_user_ns()?;
        let first = helper::spawn(DEADLINE, |ch| {
            unshare(libc::CLONE_NEWIPC as u64)?;
            let extra = lock_two()?;
            ch.ready();
            ch.wait_go();
            Ok(extra)
        })?;
        let ready = first.wait_ready();
        // While the first namespace lives, its charge is seen from the
        // step's own IPC namespace, and no second one can be made.
        let while_alive = helper::in_child(DEADLINE, || {
            let mut extra = Extra::new();
            extra.insert("lock".into(), outcome(locked_segment()));
            extra.insert("new_ns".into(), outcome(unshare(libc::CLONE_NEWIPC as u64)));
            Ok(extra)
        })?;
        first.go();
        let mut extra = first.finish()?;
        ready?;
        extra.insert("while_alive".into(), serde_json::Value::Object(while_alive));
        // The first namespace's last process is reaped: its namespace is
        // freed, or about to be, and unshare waits for that.
        let after = helper::in_child(DEADLINE, || {
            unshare(libc::CLONE_NEWIPC as u64)?;
            lock_two()
        });
        match after {
            Ok(after) => extra.insert("after".into(), serde_json::Value::Object(after)),
            Err(e) => extra.insert("after".into(), outcome::<()>(Err(e))),
        };
        Ok(extra)
    })
}
