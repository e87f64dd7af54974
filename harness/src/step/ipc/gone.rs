//! `mqueue_gone`: POSIX message queues are destroyed with their IPC
//! namespace. The namespace's mqueue filesystem lives as long as the
//! namespace (its internal mount is dropped when the namespace is freed), so
//! an inotify(7) watch on a queue sees IN_UNMOUNT and IN_IGNORED once the
//! last process has left and no mount holds the filesystem. The kernel
//! frees a namespace in a work item, so the wait is bounded.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use rustix::fs::inotify;
use serde_json::{json, Value};

use super::{mount_mqueue, open_queue, queue_in_new_ns, queues};
use crate::guard;
use crate::kind::NsType;
use crate::plan::ipc::MqueueGoneStep;
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::ns::{unshare, DEADLINE};

/// How long the namespace's destruction may take.
const CLEANUP_WAIT: Duration = Duration::from_secs(4);

fn rustix_errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// The names of the events of one read of an inotify descriptor.
fn event_names(buf: &[u8], out: &mut Vec<&'static str>) -> bool {
    let mut at = 0;
    let mut ignored = false;
    while at + 16 <= buf.len() {
        let mask = u32::from_ne_bytes([buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]]);
        let len = u32::from_ne_bytes([buf[at + 12], buf[at + 13], buf[at + 14], buf[at + 15]]);
        for (bit, name) in [
            (libc::IN_DELETE_SELF, "delete_self"),
            (libc::IN_UNMOUNT, "unmount"),
            (libc::IN_IGNORED, "ignored"),
        ] {
            if mask & bit != 0 {
                out.push(name);
                ignored |= bit == libc::IN_IGNORED;
            }
        }
        at += 16 + len as usize;
    }
    ignored
}

/// The events of the watch, until IN_IGNORED (the watch is gone) or the wait ends.
fn await_events(fd: &OwnedFd) -> Vec<&'static str> {
    let deadline = Instant::now() + CLEANUP_WAIT;
    let mut names = Vec::new();
    let mut buf = [0u8; 1024];
    while crate::sys::pipe::readable_by(fd.as_raw_fd(), deadline) {
        match nix::unistd::read(fd, &mut buf) {
            Ok(n) if event_names(&buf[..n], &mut names) => break,
            Ok(_) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    names
}

pub fn mqueue_gone(s: &MqueueGoneStep) -> Result<Extra, Errno> {
    crate::sys::helper::in_child(DEADLINE + CLEANUP_WAIT, || {
        queue_in_new_ns(&s.name)?;
        mount_mqueue(&s.mount)?;
        let mut extra = Extra::new();
        extra.insert("listed".into(), queues(&s.mount)?);
        let watch = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(rustix_errno)?;
        let path = format!("{}/{}", s.mount, s.name.trim_start_matches('/'));
        inotify::add_watch(&watch, path.as_str(), inotify::WatchFlags::ALL_EVENTS)
            .map_err(rustix_errno)?;
        guard::ensure(NsType::Mnt)?;
        extra.insert(
            "umount".into(),
            outcome(nix::mount::umount(s.mount.as_str())),
        );
        // Leave the namespace: nothing holds it any more.
        unshare(libc::CLONE_NEWIPC as u64)?;
        extra.insert("events".into(), json!(await_events(&watch)));
        let elsewhere: Value = outcome(open_queue(&s.name));
        extra.insert("in_new_ns".into(), elsewhere);
        Ok(extra)
    })
}
