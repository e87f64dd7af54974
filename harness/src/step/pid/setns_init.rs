//! The init of a pid namespace had through setns(2) (after 6.18): a process
//! that unshared CLONE_NEWPID opens its pid_for_children before the
//! namespace has a process, joins it again by setns, and forks.

use std::os::fd::AsRawFd;
use std::time::Instant;

use nix::errno::Errno;

use crate::kind::NsType;
use crate::step::Extra;
use crate::sys::helper::in_child;
use crate::sys::ns::{flags_of, ns_at, ns_of_fd, open, reap_by, setns_fd, unshare, DEADLINE};
use crate::sys::pipe::{self, Pipe};
use crate::sys::process::{self, Forked};

/// A child that sends its pid and its pid namespace's inode, and waits.
fn report_and_wait(gate: &Pipe, release: &Pipe) -> ! {
    pipe::close(gate.read);
    pipe::close(release.write);
    let ino = ns_at("/proc/self/ns/pid").map_or(0, |id| id.ino as u32);
    let _ = pipe::send_u32(gate.write, std::process::id());
    let _ = pipe::send_u32(gate.write, ino);
    pipe::close(gate.write);
    pipe::wait_closed(release.read);
    process::exit(0)
}

/// Fork a child of [`report_and_wait`]: its pid and namespace inode.
fn fork_reporter(release: &Pipe) -> Result<(nix::unistd::Pid, Option<(u32, u32)>), Errno> {
    let gate = Pipe::new()?;
    let pid = match process::fork(&[])? {
        Forked::Child => report_and_wait(&gate, release),
        Forked::Parent(pid) => pid,
    };
    pipe::close(gate.write);
    let deadline = Instant::now() + DEADLINE;
    let recv = || {
        pipe::readable_by(gate.read, deadline)
            .then(|| pipe::recv_u32(gate.read))
            .flatten()
    };
    let got = recv().zip(recv());
    pipe::close(gate.read);
    Ok((pid, got))
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
    let target_ino = ns_of_fd(&target)?.ino as u32;
    setns_fd(own.as_raw_fd(), flag)?;
    setns_fd(target.as_raw_fd(), flag)?;
    let release = Pipe::new()?;
    let (first, first_got) = fork_reporter(&release)?;
    let (second, second_got) = fork_reporter(&release)?;
    pipe::close(release.write);
    pipe::close(release.read);
    let deadline = Instant::now() + DEADLINE;
    reap_by(first, deadline);
    reap_by(second, deadline);
    let (first_pid, first_ino) = first_got.ok_or(Errno::ECHILD)?;
    let (second_pid, second_ino) = second_got.ok_or(Errno::ECHILD)?;
    extra.insert("first_pid".into(), first_pid.into());
    extra.insert("first_in_it".into(), (first_ino == target_ino).into());
    extra.insert("second_pid".into(), second_pid.into());
    extra.insert("second_in_it".into(), (second_ino == target_ino).into());
    Ok(extra)
}

pub fn init_via_setns() -> Result<Extra, Errno> {
    in_child(DEADLINE * 2, in_new_ns)
}
