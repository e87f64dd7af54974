//! Entering namespaces from a step's process: unshare(2), setns(2) by
//! descriptor, and the nsfs files of `/proc/<pid>/ns/`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
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

/// `_IOR(NSIO, 13, __u64)`.
const NS_GET_ID: u64 = 0x8008_b70d;

/// NS_GET_ID (6.18): the 64-bit id of the namespace `fd` refers to; ENOTTY
/// where the kernel lacks it.
pub fn ns_get_id(fd: &OwnedFd) -> Result<u64, Errno> {
    let mut id: u64 = 0;
    // SAFETY: NS_GET_ID writes one u64 into `id`.
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_ID as _, &mut id as *mut u64) })?;
    Ok(id)
}

/// The largest handle the kernel hands out (MAX_HANDLE_SZ).
pub const MAX_HANDLE: usize = 128;

/// `struct file_handle` with room for any handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FileHandle {
    pub bytes: u32,
    pub kind: i32,
    pub data: [u8; MAX_HANDLE],
}

/// name_to_handle_at(fd, "", AT_EMPTY_PATH): the file handle of an nsfs
/// file (6.18); EOPNOTSUPP where nsfs has no export operations.
pub fn file_handle(fd: &OwnedFd) -> Result<FileHandle, Errno> {
    let mut handle = FileHandle {
        bytes: MAX_HANDLE as u32,
        kind: 0,
        data: [0; MAX_HANDLE],
    };
    let mut mount_id: libc::c_int = 0;
    // SAFETY: the path is an empty C string, `handle` has room for
    // MAX_HANDLE bytes as its `bytes` says, and `mount_id` is one int.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            fd.as_raw_fd(),
            c"".as_ptr(),
            &mut handle as *mut FileHandle,
            &mut mount_id as *mut libc::c_int,
            libc::AT_EMPTY_PATH,
        )
    };
    Errno::result(ret)?;
    Ok(handle)
}
