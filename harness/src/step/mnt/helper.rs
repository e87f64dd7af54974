//! What the mount steps' helper processes share (each runs through
//! `sys::helper`, the second side of a comparison): how long the step waits
//! for its helper, and the maps of a helper's new user namespace. A helper in
//! which the guard refused a change fails with the guard's error.

use std::time::Duration;

use nix::errno::Errno;
use nix::unistd::Pid;

use super::sandbox::refuse;
use crate::guard::Origin;
use crate::kind::NsType;

/// How long the step waits for its helper at each point.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The ids a map line of [`write_maps`] gives.
pub struct MapLine {
    pub inside: u32,
    pub uid: u32,
    pub gid: u32,
    pub count: u32,
}

/// Write the uid and gid maps of the helper's new user namespace: one line
/// each, `inside uid count` and `inside gid count`, the outside ids in this
/// process's namespace; setgroups is denied first so that an unprivileged
/// writer may write the gid map. Each write is refused when the helper's
/// user namespace is the one the probe started in (its unshare did nothing).
pub fn write_maps(origin: &Origin, pid: Pid, line: &MapLine) -> Result<(), Errno> {
    let &MapLine {
        inside,
        uid,
        gid,
        count,
    } = line;
    let write = |file: &str, text: String| {
        origin
            .check_process(NsType::User, pid.as_raw())
            .map_err(|why| refuse(why.trim_start_matches("namespace not isolated: ")))?;
        std::fs::write(format!("/proc/{pid}/{file}"), text).map_err(crate::sys::errno::io_errno)
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{inside} {uid} {count}"))?;
    write("gid_map", format!("{inside} {gid} {count}"))
}
