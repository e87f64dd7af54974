//! `kill_chain`: pidns05 as LTP runs it. A chain of nested pid namespaces,
//! each made by the init of the one above, each init with a witness (a
//! plain child); the caller, outside them all, sends SIGKILL to the init of
//! one level. That level and every level below it end with their init
//! (pid_namespaces(7)); the levels above, their inits and witnesses, live on.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde_json::Value;

use serde::{Deserialize, Serialize};

use super::tree::{await_exit, own_nspid, spawn, How, PATIENCE};
use crate::plan::pid::Chain;
use crate::step::Extra;
use crate::sys::board::{Board, Gate};
use crate::sys::pipe;
use crate::sys::process;

/// The wires of a chain, and where the caller's pid sits in `NSpid`.
struct ChainWires {
    /// Every process says who it is here (see `announce`).
    reports: Board<Member>,
    /// Every process waits here until the caller opens it.
    release: Gate,
    index: usize,
}

/// One process of the chain, as it announced itself.
#[derive(Serialize, Deserialize)]
struct Member {
    /// Its level below the caller, from its `NSpid` (1 is the top).
    level: u32,
    init: bool,
    /// Its pid in the caller's namespace, and in its own.
    pid: i32,
    own_pid: i32,
}

/// Say who this process is: its level, whether it is the init, its pid in
/// the caller's namespace and in its own.
fn announce(p: &ChainWires, init: bool) {
    let nspid = own_nspid();
    p.reports.post(&Member {
        level: nspid.len().saturating_sub(p.index + 1) as u32,
        init,
        pid: nspid.get(p.index).copied().unwrap_or(0),
        own_pid: nspid.last().copied().unwrap_or(0),
    });
}

/// The init of level `n`: its witness, the next level's init, then itself.
fn level(c: &Chain, n: u32, p: &ChainWires) -> i32 {
    let witness = || {
        announce(p, false);
        p.release.wait();
        0
    };
    if spawn(How::Loose, witness).is_err() {
        return 1;
    }
    if n < c.depth && spawn(How::LooseNewPid, || level(c, n + 1, p)).is_err() {
        return 1;
    }
    announce(p, true);
    p.release.wait();
    0
}

/// Whether the process of `fd` has exited by `deadline` (a pidfd is
/// readable once its process has ended).
fn exited_by(fd: &OwnedFd, deadline: Instant) -> bool {
    use std::os::fd::AsRawFd;
    pipe::readable_by(fd.as_raw_fd(), deadline)
}

/// Every member announced, kill the chosen init, wait for the levels from
/// it down to end, and say who has exited.
fn judge(c: &Chain, p: &ChainWires, deadline: Instant) -> Result<Extra, Errno> {
    let count = 2 * c.depth as usize;
    let mut members = p.reports.take(count, deadline);
    if members.len() < count {
        return Err(Errno::EIO);
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
    let p = ChainWires {
        reports: Board::new()?,
        release: Gate::new()?,
        index,
    };
    let top = spawn(How::NewPid, || {
        process::drop_inherited(&[p.reports.caller_end(), p.release.caller_end()]);
        level(c, 1, &p)
    });
    p.reports.posters_started();
    p.release.members_started();
    let result = match top {
        Ok(_) => judge(c, &p, deadline),
        Err(e) => Err(e),
    };
    // Everyone left goes once the gate is open; the top init takes the
    // levels below it along.
    p.release.open();
    if let Ok(top) = top {
        await_exit(top, deadline + Duration::from_millis(500));
    }
    result
}
