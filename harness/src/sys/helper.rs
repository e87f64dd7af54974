//! The typed helper process: run part of a step in a forked child, whatever
//! namespaces it makes or joins dying with it, and bring its typed answer
//! back within a limit. A helper that must meet its parent half-way tells
//! it a typed value ("ready", with what it made: a pid, an inode, a status)
//! and is held until the parent releases it ("go"), or dies with the
//! parent; then it may send its final answer. Every wait is bounded.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::clone::{self, CloneArgs};
use super::pipe;
use super::process::{self, Forked};

/// What a helper sends back: its answer, or the errno it failed with.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply<T> {
    Ok(T),
    Errno(i32),
}

/// The byte that opens a helper's "ready" line (its value, JSON, then a
/// newline); an answer starts with `{`.
const READY: u8 = b'R';

/// The helper's side of its pipes; it tells its parent a `V` when ready.
pub struct Channel<V = ()> {
    up: OwnedFd,
    down: OwnedFd,
    limit: Duration,
    told: PhantomData<fn(V)>,
}

impl Channel<()> {
    /// Tell the parent that the helper is ready.
    pub fn ready(&self) {
        self.tell(&());
    }
}

impl<V: Serialize> Channel<V> {
    /// Tell the parent that the helper is ready, and `value`.
    pub fn tell(&self, value: &V) {
        let mut line = vec![READY];
        line.extend(serde_json::to_vec(value).unwrap_or_default());
        line.push(b'\n');
        let _ = pipe::write_all(self.up.as_raw_fd(), &line);
    }

    /// Tell the parent `value`, then stay until it releases the helper
    /// (within the limit): whether it did.
    pub fn hold(&self, value: &V) -> bool {
        self.tell(value);
        self.wait_go()
    }
}

impl<V> Channel<V> {
    /// Wait for the parent's "go"; false if it never came within the limit.
    pub fn wait_go(&self) -> bool {
        read_byte(&self.down, Instant::now() + self.limit).is_ok()
    }
}

/// The parent's handle on a running helper that tells a `V` when ready and
/// answers with a `T`.
pub struct Helper<T, V = ()> {
    pid: Pid,
    down: Option<OwnedFd>,
    up: OwnedFd,
    limit: Duration,
    /// What came up the pipe and was not taken yet: what followed a
    /// "ready" line, or the answer, when it came instead.
    pending: RefCell<Vec<u8>>,
    done: bool,
    answer: PhantomData<fn() -> (T, V)>,
}

/// The limit of a helper that lives as long as its trial (a door's
/// processes): the harness's timeout, which kills the probe with its whole
/// tree, is what bounds them; this only keeps the waits finite.
pub const TRIAL_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How a helper process is made.
pub enum Start<'a> {
    /// fork(2).
    Fork,
    /// clone(2) with these `CLONE_NEW*` bits: the helper starts in new
    /// namespaces (a new pid namespace's init, say).
    Clone(u64),
    /// clone3(2) with these arguments (chosen pids, a cgroup, ...).
    Clone3(&'a CloneArgs),
}

impl Start<'_> {
    fn fork(&self) -> Result<Forked, Errno> {
        let forked = match self {
            Start::Fork => return process::fork(&[]),
            Start::Clone(flags) => clone::clone(flags | libc::SIGCHLD as u64)?,
            Start::Clone3(args) => clone::clone3(args)?,
        };
        if let Forked::Child = forked {
            process::child_setup(&[]);
        }
        Ok(forked)
    }
}

/// Fork a helper that runs `body` and sends back what it returns. Each wait
/// on it (for "ready", for the answer) lasts at most `limit`.
pub fn spawn<T: Serialize>(
    limit: Duration,
    body: impl FnOnce(&Channel) -> Result<T, Errno>,
) -> Result<Helper<T>, Errno> {
    spawn_as(Start::Fork, limit, body)
}

/// [`spawn`], the helper made as `start` says.
pub fn spawn_as<T: Serialize>(
    start: Start,
    limit: Duration,
    body: impl FnOnce(&Channel) -> Result<T, Errno>,
) -> Result<Helper<T>, Errno> {
    spawn_telling(start, limit, body)
}

/// [`spawn_as`], for a helper that tells its parent a `V` when ready
/// ([`Channel::tell`], [`Channel::hold`]; [`Helper::wait_value`]).
pub fn spawn_telling<T: Serialize, V: Serialize>(
    start: Start,
    limit: Duration,
    body: impl FnOnce(&Channel<V>) -> Result<T, Errno>,
) -> Result<Helper<T, V>, Errno> {
    let (down_r, down_w) = pipe::owned()?;
    let (up_r, up_w) = pipe::owned()?;
    match start.fork()? {
        Forked::Child => {
            drop((down_w, up_r));
            let channel = Channel {
                up: up_w,
                down: down_r,
                limit,
                told: PhantomData,
            };
            let reply = match body(&channel) {
                Ok(value) => Reply::Ok(value),
                Err(e) => Reply::Errno(e as i32),
            };
            if let Ok(text) = serde_json::to_vec(&reply) {
                let _ = pipe::write_all(channel.up.as_raw_fd(), &text);
            }
            process::exit(0)
        }
        Forked::Parent(pid) => Ok(Helper {
            pid,
            down: Some(down_w),
            up: up_r,
            limit,
            pending: RefCell::new(Vec::new()),
            done: false,
            answer: PhantomData,
        }),
    }
}

/// Run `body` in a forked child and return what it gave back. A child that
/// takes longer than `limit` is killed: ETIMEDOUT. One that dies without
/// answering gives ECHILD.
pub fn in_child<T: Serialize + DeserializeOwned>(
    limit: Duration,
    body: impl FnOnce() -> Result<T, Errno>,
) -> Result<T, Errno> {
    spawn(limit, |_| body())?.finish()
}

/// Read one byte, waiting until `deadline`: EPIPE at end of file.
fn read_byte(fd: &OwnedFd, deadline: Instant) -> Result<u8, Errno> {
    pipe::await_readable(fd.as_raw_fd(), deadline)?;
    let mut byte = [0u8; 1];
    match nix::unistd::read(fd, &mut byte)? {
        0 => Err(Errno::EPIPE),
        _ => Ok(byte[0]),
    }
}

impl<T: DeserializeOwned> Helper<T> {
    /// Wait for the helper's "ready". A helper that answers at once (it
    /// failed before it was ready) gives EPROTO here, and its answer from
    /// [`Helper::finish`].
    pub fn wait_ready(&self) -> Result<(), Errno> {
        self.wait_value()
    }
}

impl<T: DeserializeOwned, V: DeserializeOwned> Helper<T, V> {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Wait for the value the helper tells when ready. A helper that
    /// answers at once (it failed before it was ready) gives EPROTO here,
    /// and its answer from [`Helper::finish`]; one that dies first, EPIPE.
    pub fn wait_value(&self) -> Result<V, Errno> {
        let deadline = Instant::now() + self.limit;
        let mut pending = self.pending.borrow_mut();
        loop {
            if pending.first().is_some_and(|b| *b != READY) {
                return Err(Errno::EPROTO);
            }
            if let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                return serde_json::from_slice(&line[1..end]).map_err(|_| Errno::EPROTO);
            }
            pipe::read_some_by(self.up.as_raw_fd(), deadline, &mut pending)?;
        }
    }

    /// Let the helper go on (release a held one).
    pub fn go(&self) {
        if let Some(fd) = &self.down {
            let _ = pipe::write_all(fd.as_raw_fd(), b"G");
        }
    }

    /// Hand the helper over to the caller, who reaps it (a door's process,
    /// which the supervisor releases and reaps with the others): its pid.
    pub fn leave(mut self) -> Pid {
        self.done = true;
        self.pid
    }

    /// Release a held helper and take its answer ([`Helper::finish`]).
    pub fn release(self) -> Result<T, Errno> {
        self.go();
        self.finish()
    }

    /// Read the helper's answer, then reap it, all within the limit. The
    /// answer is whole once the helper has exited, whoever else still holds
    /// its pipe (a process it left behind). A helper that does not answer
    /// in time is killed: ETIMEDOUT; one that dies without answering:
    /// ECHILD; one that answers garbage: EPROTO.
    pub fn finish(mut self) -> Result<T, Errno> {
        self.down = None;
        self.done = true;
        let deadline = Instant::now() + self.limit;
        let up = self.up.as_raw_fd();
        let ending = process::Ending::watch(self.pid);
        let read = match ending.fd() {
            Some(ended) => pipe::read_until_exit_by(up, ended, deadline),
            None => pipe::read_to_end_by(up, deadline),
        };
        ending.reap_by(deadline);
        let mut text = self.pending.take();
        text.extend(read.map_err(|_| Errno::ETIMEDOUT)?);
        if text.is_empty() {
            return Err(Errno::ECHILD);
        }
        match serde_json::from_slice(&text).map_err(|_| Errno::EPROTO)? {
            Reply::Ok(value) => Ok(value),
            Reply::Errno(e) => Err(Errno::from_raw(e)),
        }
    }
}

impl<T, V> Drop for Helper<T, V> {
    /// A helper dropped before `finish` (the step failed half-way) is killed
    /// and reaped, so that nothing is left behind.
    fn drop(&mut self) {
        if !self.done {
            let _ = kill(self.pid, Signal::SIGKILL);
            process::reap(self.pid);
        }
    }
}

/// Fork children that only wait, all on one gate (one pipe for any number
/// of them: a process's descriptors are limited), until a fork fails or
/// `most` are made; then release them and reap each within `limit`. How
/// many were made, and the errno of the fork that failed.
pub fn crowd(most: u32, limit: Duration) -> Result<(u32, Option<Errno>), Errno> {
    let (gate_r, gate_w) = pipe::owned()?;
    let mut children = Vec::new();
    let mut refused = None;
    while children.len() < most as usize {
        match process::fork(&[gate_w.as_raw_fd()]) {
            Ok(Forked::Child) => {
                pipe::wait_closed(gate_r.as_raw_fd());
                process::exit(0)
            }
            Ok(Forked::Parent(pid)) => children.push(pid),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    drop(gate_w);
    let deadline = Instant::now() + limit;
    for pid in &children {
        process::reap_within(*pid, deadline);
    }
    Ok((children.len() as u32, refused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_whole_once_the_helper_exits_whoever_holds_its_pipe() {
        let (gate_r, gate_w) = pipe::owned().expect("a pipe");
        // Were the answer read until end of file, it would never end before
        // the limit (the gate closes after): ETIMEDOUT.
        let (gate, open) = (gate_r.as_raw_fd(), gate_w.as_raw_fd());
        let answer = in_child(Duration::from_secs(20), || {
            // A process the helper leaves behind, holding the helper's pipe
            // until the test closes the gate.
            if let Ok(Forked::Child) = process::fork_outliving() {
                process::drop_inherited(&[open]);
                pipe::wait_closed(gate);
                process::exit(0)
            }
            Ok(7u32)
        });
        drop((gate_r, gate_w));
        assert_eq!(answer, Ok(7));
    }

    #[test]
    fn values_and_the_answer_read_at_once_are_each_taken_in_turn() {
        let limit = Duration::from_secs(20);
        let helper = spawn_telling(Start::Fork, limit, |ch: &Channel<u32>| {
            ch.tell(&1);
            ch.tell(&2);
            Ok(3u32)
        })
        .expect("a helper");
        // Everything is in the pipe before the first read takes it all.
        let ended = process::pidfd_open(helper.pid().as_raw()).expect("a pidfd");
        assert!(pipe::readable_by(ended.as_raw_fd(), Instant::now() + limit));
        assert_eq!(helper.wait_value(), Ok(1));
        assert_eq!(helper.wait_value(), Ok(2));
        assert_eq!(
            helper.wait_value(),
            Err(Errno::EPROTO),
            "the answer is no value"
        );
        assert_eq!(helper.finish(), Ok(3));
    }
}
