//! `kill_chain`: pidns05 as LTP runs it. A chain of nested pid namespaces,
//! each made by the init of the one above, each init with a witness (a
//! plain child); the caller, outside them all, sends SIGKILL to the init of
//! one level. That level and every level below it end with their init
//! (pid_namespaces(7)); the levels above, their inits and witnesses, live on.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde_json::Value;

use super::tree::{await_exit, hold, own_nspid, poll_in, spawn, How, PATIENCE};
use crate::plan::pid::Chain;
use crate::step::Extra;
use crate::sys::pipe::{self, Pipe};
use crate::sys::process;

/// The pipes of a chain, and where the caller's pid sits in `NSpid`.
struct ChainPipes {
    /// Every process says who it is here: four numbers (see `announce`).
    reports: Pipe,
    /// Every process waits for end of file here: the caller holds the write end.
    release: Pipe,
    index: usize,
}

/// One process of the chain, as it announced itself.
struct Member {
    /// Its level below the caller, from its `NSpid` (1 is the top).
    level: u32,
    init: bool,
    /// Its pid in the caller's namespace, and in its own.
    pid: i32,
    own_pid: i32,
}

/// Say who this process is, in one write (atomic on a pipe): its level,
/// whether it is the init, its pid in the caller's namespace and in its own.
fn announce(p: &ChainPipes, init: bool) {
    let nspid = own_nspid();
    let level = nspid.len().saturating_sub(p.index + 1) as u32;
    let pid = nspid.get(p.index).copied().unwrap_or(0) as u32;
    let own = nspid.last().copied().unwrap_or(0) as u32;
    let mut msg = Vec::with_capacity(16);
    for v in [level, u32::from(init), pid, own] {
        msg.extend_from_slice(&v.to_ne_bytes());
    }
    let _ = pipe::write_all(p.reports.write.fd(), &msg);
}

/// The init of level `n`: its witness, the next level's init, then itself.
fn level(c: &Chain, n: u32, p: &ChainPipes) -> i32 {
    let witness = || {
        announce(p, false);
        hold(p.release.read.fd());
        0
    };
    if spawn(How::Loose, witness).is_err() {
        return 1;
    }
    if n < c.depth && spawn(How::LooseNewPid, || level(c, n + 1, p)).is_err() {
        return 1;
    }
    announce(p, true);
    hold(p.release.read.fd());
    0
}

fn read_member(fd: i32, deadline: Instant) -> Option<Member> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() || !poll_in(fd, left) {
        return None;
    }
    let level = pipe::recv_u32(fd)?;
    let init = pipe::recv_u32(fd)? == 1;
    let pid = pipe::recv_u32(fd)? as i32;
    let own_pid = pipe::recv_u32(fd)? as i32;
    Some(Member {
        level,
        init,
        pid,
        own_pid,
    })
}

/// Whether the process of `fd` has exited by `deadline` (a pidfd is
/// readable once its process has ended).
fn exited_by(fd: &OwnedFd, deadline: Instant) -> bool {
    use std::os::fd::AsRawFd;
    pipe::readable_by(fd.as_raw_fd(), deadline)
}

/// Every member announced, kill the chosen init, wait for the levels from
/// it down to end, and say who has exited.
fn judge(c: &Chain, p: &ChainPipes, deadline: Instant) -> Result<Extra, Errno> {
    let mut members = Vec::new();
    while members.len() < 2 * c.depth as usize {
        members.push(read_member(p.reports.read.fd(), deadline).ok_or(Errno::EIO)?);
    }
    members.sort_by_key(|m| (m.level, !m.init));
    // Opened while every member still waits on the release pipe, so no pid
    // can have been reused.
    let fds = members
        .iter()
        .map(|m| process::pidfd_open(m.pid))
        .collect::<Result<Vec<_>, _>>()?;
    let victim = members
        .iter()
        .position(|m| m.init && m.level == c.kill)
        .ok_or(Errno::EIO)?;
    let kill = rustix::process::pidfd_send_signal(&fds[victim], rustix::process::Signal::KILL)
        .map_err(|e| Errno::from_raw(e.raw_os_error()));
    for (m, fd) in members.iter().zip(&fds) {
        if m.level >= c.kill {
            exited_by(fd, deadline);
        }
    }
    let now = Instant::now();
    let column = |init: bool, f: &dyn Fn(&Member, &OwnedFd) -> Value| -> Value {
        let values = members.iter().zip(&fds).filter(|(m, _)| m.init == init);
        Value::Array(values.map(|(m, fd)| f(m, fd)).collect())
    };
    let mut extra = Extra::new();
    extra.insert("kill".into(), crate::sys::errno::outcome(kill));
    extra.insert("levels".into(), column(true, &|m, _| m.level.into()));
    extra.insert("init_pid".into(), column(true, &|m, _| m.own_pid.into()));
    extra.insert(
        "witness_pid".into(),
        column(false, &|m, _| m.own_pid.into()),
    );
    extra.insert(
        "init_exited".into(),
        column(true, &|_, fd| exited_by(fd, now).into()),
    );
    extra.insert(
        "witness_exited".into(),
        column(false, &|_, fd| exited_by(fd, now).into()),
    );
    Ok(extra)
}

pub fn kill_chain(c: &Chain) -> Result<Extra, Errno> {
    let deadline = Instant::now() + PATIENCE;
    let index = own_nspid().len().checked_sub(1).ok_or(Errno::ENOENT)?;
    let p = ChainPipes {
        reports: Pipe::new()?,
        release: Pipe::new()?,
        index,
    };
    let caller_ends = [p.reports.read.fd(), p.release.write.fd()];
    let top = spawn(How::NewPid, || {
        process::drop_inherited(&caller_ends);
        level(c, 1, &p)
    });
    p.reports.write.close();
    p.release.read.close();
    let result = match top {
        Ok(_) => judge(c, &p, deadline),
        Err(e) => Err(e),
    };
    // Everyone left goes once the release pipe has no writer; the top init
    // takes the levels below it along.
    p.reports.read.close();
    p.release.write.close();
    if let Ok(top) = top {
        await_exit(top, deadline + Duration::from_millis(500));
    }
    result
}
