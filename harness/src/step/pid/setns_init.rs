//! The init of a pid namespace had through setns(2) (after 6.18): a process
//! that unshared CLONE_NEWPID opens its pid_for_children before the
//! namespace has a process, joins it again by setns, and forks.

use std::os::fd::AsRawFd;

use nix::errno::Errno;

use crate::kind::NsType;
use crate::step::Extra;
use crate::sys::helper::{self, in_child, Helper};
use crate::sys::ns::{flags_of, ns_at, ns_of_fd, open, setns_fd, unshare, DEADLINE};

/// A helper that answers with its pid and its pid namespace's inode, once
/// let go: alive until then, so that the next one is forked beside it.
fn reporter() -> Result<Helper<(u32, u64)>, Errno> {
    let h = helper::spawn(DEADLINE, |ch| {
        let ino = ns_at("/proc/self/ns/pid")?.ino;
        ch.ready();
        ch.wait_go();
        Ok((std::process::id(), ino))
    })?;
    h.wait_ready()?;
    Ok(h)
}

fn in_new_ns() -> Result<Extra, Errno> {
    let flag = flags_of(&[NsType::Pid]);
    let own = open("/proc/self/ns/pid")?;
    unshare(flag)?;
    let mut extra = Extra::new();
    let target = match open("/proc/self/ns/pid_for_children") {
        Ok(fd) => fd,
        Err(e) => {
            extra.insert("opened".into(), format!("{e:?}").into());
            return Ok(extra);
        }
    };
    extra.insert("opened".into(), true.into());
    let target_ino = ns_of_fd(&target)?.ino;
    setns_fd(own.as_raw_fd(), flag)?;
    setns_fd(target.as_raw_fd(), flag)?;
    let first = reporter()?;
    let second = reporter()?;
    // The second answers before the first, the namespace's init, ends and
    // takes the namespace's other processes with it.
    second.go();
    let (second_pid, second_ino) = second.finish()?;
    first.go();
    let (first_pid, first_ino) = first.finish()?;
    extra.insert("first_pid".into(), first_pid.into());
    extra.insert("first_in_it".into(), (first_ino == target_ino).into());
    extra.insert("second_pid".into(), second_pid.into());
    extra.insert("second_in_it".into(), (second_ino == target_ino).into());
    Ok(extra)
}

pub fn init_via_setns() -> Result<Extra, Errno> {
    in_child(DEADLINE * 2, in_new_ns)
}
