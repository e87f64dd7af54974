//! A forked helper for a mount step: the second side of a comparison. It
//! talks to the step over two pipes (single bytes to say "ready" and "go",
//! then one JSON document), and every wait on it is bounded. A helper in
//! which the guard refused a change answers `{"guard": ...}` instead, and
//! the step fails with the guard's error.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use super::sandbox::refuse;
use crate::guard::Origin;
use crate::kind::NsType;
use crate::sys::pipe;
use crate::sys::process::{self, Forked};

/// How long the step waits for its helper at each point.
const PATIENCE: Duration = Duration::from_secs(5);

/// The helper's end of the pipes.
pub struct Channel {
    to_parent: OwnedFd,
    from_parent: OwnedFd,
}

impl Channel {
    /// Tell the step that the helper is ready.
    pub fn ready(&self) {
        let _ = nix::unistd::write(&self.to_parent, b"R");
    }

    /// Wait for the step's "go"; false if it never came.
    pub fn wait_go(&self) -> bool {
        read_byte(&self.from_parent, Instant::now() + PATIENCE).is_ok()
    }
}

/// The step's handle on its helper.
pub struct Helper {
    pid: Pid,
    to_child: Option<OwnedFd>,
    from_child: OwnedFd,
    /// The first byte of the answer, when it came instead of "ready".
    early: std::cell::Cell<Option<u8>>,
}

/// Fork a helper that runs `body` and sends back the JSON it returns.
pub fn spawn(body: impl FnOnce(&Channel) -> Value) -> Result<Helper, Errno> {
    let (down_r, down_w) = pipe::owned()?;
    let (up_r, up_w) = pipe::owned()?;
    match process::fork(&[])? {
        Forked::Child => {
            drop((down_w, up_r));
            let channel = Channel {
                to_parent: up_w,
                from_parent: down_r,
            };
            let result = body(&channel);
            let text = result.to_string();
            let mut bytes = text.as_bytes();
            while !bytes.is_empty() {
                match nix::unistd::write(&channel.to_parent, bytes) {
                    Ok(n) => bytes = &bytes[n..],
                    Err(Errno::EINTR) => continue,
                    Err(_) => process::exit(1),
                }
            }
            process::exit(0)
        }
        Forked::Parent(pid) => Ok(Helper {
            pid,
            to_child: Some(down_w),
            from_child: up_r,
            early: std::cell::Cell::new(None),
        }),
    }
}

/// Read one byte, waiting until `deadline`.
fn read_byte(fd: &OwnedFd, deadline: Instant) -> Result<u8, Errno> {
    wait_readable(fd, deadline)?;
    let mut byte = [0u8; 1];
    match nix::unistd::read(fd, &mut byte)? {
        0 => Err(Errno::EPIPE),
        _ => Ok(byte[0]),
    }
}

/// Wait until `fd` is readable (or closed), or fail with ETIMEDOUT.
fn wait_readable(fd: &OwnedFd, deadline: Instant) -> Result<(), Errno> {
    if crate::sys::pipe::readable_by(fd.as_raw_fd(), deadline) {
        Ok(())
    } else {
        Err(Errno::ETIMEDOUT)
    }
}

impl Helper {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Wait for the helper's "ready". A helper that answers at once (it
    /// failed before it was ready) gives EPROTO here, and its answer from
    /// `finish`.
    pub fn wait_ready(&self) -> Result<(), Errno> {
        match read_byte(&self.from_child, Instant::now() + PATIENCE)? {
            b'R' => Ok(()),
            other => {
                self.early.set(Some(other));
                Err(Errno::EPROTO)
            }
        }
    }

    /// Let the helper go on.
    pub fn go(&self) {
        if let Some(fd) = &self.to_child {
            let _ = nix::unistd::write(fd, b"G");
        }
    }

    /// Read the helper's JSON document, then reap it, all within a bound.
    /// A helper that does not answer in time is killed.
    pub fn finish(mut self) -> Result<Value, Errno> {
        self.to_child = None;
        let deadline = Instant::now() + PATIENCE;
        let mut text: Vec<u8> = self.early.take().into_iter().collect();
        let mut buf = [0u8; 4096];
        let read = loop {
            if let Err(e) = wait_readable(&self.from_child, deadline) {
                break Err(e);
            }
            match nix::unistd::read(&self.from_child, &mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => text.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) => continue,
                Err(e) => break Err(e),
            }
        };
        if read.is_err() {
            let _ = kill(self.pid, Signal::SIGKILL);
        }
        let ended = process::reap(self.pid);
        read?;
        if ended.is_some() && text.is_empty() {
            return Err(Errno::ECHILD);
        }
        let answer: Value = serde_json::from_slice(&text).map_err(|_| Errno::EPROTO)?;
        Ok(answer)
    }
}

impl Drop for Helper {
    /// A helper dropped before `finish` (the step failed half-way) is killed
    /// and reaped, so that nothing is left behind.
    fn drop(&mut self) {
        if self.to_child.is_some() {
            let _ = kill(self.pid, Signal::SIGKILL);
            process::reap(self.pid);
        }
    }
}

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

/// `"ok"` or the errno name: how a call inside a helper went.
pub fn outcome<T>(r: Result<T, Errno>) -> Value {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}").into(),
    }
}
