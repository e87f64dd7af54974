//! Entering namespaces from a step's process: unshare(2), setns(2) by
//! descriptor, and the nsfs files of `/proc/<pid>/ns/`.

use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::unistd::Pid;

use super::errno::io_errno;
use super::process;
use crate::kind::NsType;
use crate::view::ns::NsId;

/// How long a step waits for a child it forked.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// Reap `pid`, killing it if it has not ended by the deadline.
pub fn reap_by(pid: Pid, deadline: Instant) {
    process::reap_within(pid, deadline);
}

/// The `CLONE_NEW*` flags of `types`.
pub fn flags_of(types: &[NsType]) -> u64 {
    types.iter().fold(0, |a, t| a | t.kind().flag)
}

pub fn unshare(flags: u64) -> Result<(), Errno> {
    // SAFETY: unshare takes plain flags; the caller is a single-threaded child.
    Errno::result(unsafe { libc::unshare(flags as libc::c_int) }).map(drop)
}

pub fn setns_fd(fd: RawFd, flags: u64) -> Result<(), Errno> {
    // SAFETY: setns takes a descriptor number and flags and touches no memory.
    Errno::result(unsafe { libc::setns(fd, flags as libc::c_int) }).map(drop)
}

pub fn open(path: &str) -> Result<OwnedFd, Errno> {
    let file = std::fs::File::open(path).map_err(io_errno)?;
    Ok(OwnedFd::from(file))
}

/// The namespace a `/proc/<pid>/ns/<link>` path names, or why it cannot be read.
pub fn ns_at(path: &str) -> Result<NsId, Errno> {
    let meta = std::fs::metadata(path).map_err(io_errno)?;
    Ok(NsId {
        ino: meta.ino(),
        dev: meta.dev(),
    })
}

/// The namespace an open nsfs descriptor refers to.
pub fn ns_of_fd(fd: &OwnedFd) -> Result<NsId, Errno> {
    let st = nix::sys::stat::fstat(fd)?;
    Ok(NsId {
        ino: st.st_ino,
        dev: st.st_dev,
    })
}
