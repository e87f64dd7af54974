//! Short-lived helper children for the net steps: fork, optionally unshare a
//! new network namespace, report one JSON value over a pipe, and be reaped
//! with a bounded wait (killed when late). A helper whose guard refused a
//! change reports it like any errno; the step then fails as not isolated.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::unistd::Pid;
use serde_json::Value;

use crate::sys::process::{self, Forked};

/// How long a helper child may take, all told.
pub const CHILD_WAIT: Duration = Duration::from_secs(4);

/// Wait until `fd` is readable or `deadline` passes (ETIMEDOUT).
pub fn wait_readable(fd: RawFd, deadline: Instant) -> Result<(), Errno> {
    if crate::sys::pipe::readable_by(fd, deadline) {
        Ok(())
    } else {
        Err(Errno::ETIMEDOUT)
    }
}

/// The errno name of a result, or "ok": how a helper reports one attempt.
pub fn outcome<T>(r: Result<T, Errno>) -> Value {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}").into(),
    }
}

/// A running helper child and the read end of its report pipe.
pub struct Helper {
    pid: Pid,
    read: OwnedFd,
    deadline: Instant,
}

/// What the child body gets: the write end of the report pipe.
pub struct Report(OwnedFd);

impl Report {
    /// Write raw bytes to the parent (such as a one-byte "ready").
    pub fn send(&self, bytes: &[u8]) {
        let _ = nix::unistd::write(&self.0, bytes);
    }
}

/// Fork a helper; in the child, unshare a new network namespace first when
/// `new_net`, then run `body` and send what it returns, as JSON, and exit.
pub fn spawn(new_net: bool, body: impl FnOnce(&Report) -> Value) -> Result<Helper, Errno> {
    let (read, write) = crate::sys::pipe::owned()?;
    match process::fork(&[])? {
        Forked::Child => {
            drop(read);
            let report = Report(write);
            let value = if new_net {
                match nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
                    Ok(()) => body(&report),
                    Err(e) => serde_json::json!({ "unshare": format!("{e:?}") }),
                }
            } else {
                body(&report)
            };
            report.send(b"\n");
            report.send(value.to_string().as_bytes());
            drop(report);
            process::exit(0)
        }
        Forked::Parent(pid) => Ok(Helper {
            pid,
            read,
            deadline: Instant::now() + CHILD_WAIT,
        }),
    }
}

impl Helper {
    /// Wait for the first byte the child sends, bounded: `R` when it is
    /// ready; anything else means it gave up (EPIPE).
    pub fn ready(&self) -> Result<(), Errno> {
        wait_readable(self.read.as_raw_fd(), self.deadline)?;
        let mut b = [0u8; 1];
        match nix::unistd::read(&self.read, &mut b)? {
            1 if b[0] == b'R' => Ok(()),
            _ => Err(Errno::EPIPE),
        }
    }

    /// Read the child's report to its end and reap it; a child that is late
    /// is killed. Errors: ETIMEDOUT (late), EPROTO (not JSON).
    pub fn finish(self) -> Result<Value, Errno> {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        let read = loop {
            if let Err(e) = wait_readable(self.read.as_raw_fd(), self.deadline) {
                break Err(e);
            }
            match nix::unistd::read(&self.read, &mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) => continue,
                Err(e) => break Err(e),
            }
        };
        reap_bounded(self.pid, self.deadline);
        read?;
        let text = String::from_utf8_lossy(&bytes);
        let json = text.rsplit('\n').next().unwrap_or("");
        let value = serde_json::from_str(json).map_err(|_| Errno::EPROTO)?;
        Ok(value)
    }
}

/// Reap `pid`, a child of the caller, killing it if it has not exited by
/// `deadline` (only after waitpid said it is still a live child).
pub fn reap_bounded(pid: Pid, deadline: Instant) {
    process::reap_within(pid, deadline);
}

/// Run `body` in a helper child (in a new network namespace when `new_net`)
/// and return what it reported.
pub fn run(new_net: bool, body: impl FnOnce() -> Value) -> Result<Value, Errno> {
    spawn(new_net, |_| body())?.finish()
}
