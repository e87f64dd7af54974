//! Many processes to one: a board where any process of a step's tree posts
//! a typed line for the step's caller, and a gate its members wait at until
//! the caller lets one through or opens it for all (closes its end). For
//! trees whose members must outlive their parents (what ends them is the
//! kernel's, not `PR_SET_PDEATHSIG`) and answer the caller, not their
//! parent, where a helper's channel, which runs to the parent, cannot serve.

use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::time::Instant;

use nix::errno::Errno;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::pipe::{self, Pipe};

/// Typed lines from any process of a tree to the caller.
pub struct Board<V> {
    pipe: Pipe,
    kind: PhantomData<fn(V) -> V>,
}

impl<V: Serialize + DeserializeOwned> Board<V> {
    pub fn new() -> Result<Board<V>, Errno> {
        Ok(Board {
            pipe: Pipe::new()?,
            kind: PhantomData,
        })
    }

    /// Post `value` as one line in one write (atomic on a pipe, the line
    /// being shorter than PIPE_BUF).
    pub fn post(&self, value: &V) {
        let mut line = serde_json::to_vec(value).unwrap_or_default();
        line.push(b'\n');
        let _ = pipe::write_all(self.pipe.write.fd(), &line);
    }

    /// In the caller, once every poster is started: close its own copy of
    /// the writing end, so that the board ends when the posters are gone.
    pub fn posters_started(&self) {
        self.pipe.write.close();
    }

    /// The end only the caller keeps, for a member to close.
    pub fn caller_end(&self) -> RawFd {
        self.pipe.read.fd()
    }

    /// Read at most `count` values before `deadline`; fewer when the
    /// posters are gone or the deadline passed first.
    pub fn take(&self, count: usize, deadline: Instant) -> Vec<V> {
        let mut values = Vec::new();
        while values.len() < count {
            match self
                .line(deadline)
                .and_then(|l| serde_json::from_slice(&l).ok())
            {
                Some(v) => values.push(v),
                None => break,
            }
        }
        values
    }

    fn line(&self, deadline: Instant) -> Option<Vec<u8>> {
        let fd = self.pipe.read.fd();
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            if !pipe::readable_by(fd, deadline) {
                return None;
            }
            // SAFETY: one byte into the buffer we own.
            match unsafe { libc::read(fd, byte.as_mut_ptr().cast(), 1) } {
                -1 if Errno::last() == Errno::EINTR => continue,
                1 if byte[0] == b'\n' => return Some(line),
                1 => line.push(byte[0]),
                _ => return None,
            }
        }
    }
}

/// Where the members of a tree wait for the caller.
pub struct Gate(Pipe);

impl Gate {
    pub fn new() -> Result<Gate, Errno> {
        Pipe::new().map(Gate)
    }

    /// Wait until the caller lets one through (true) or opens the gate for
    /// all (false). Unbounded: a member is ended with its tree.
    pub fn wait(&self) -> bool {
        let mut byte = [0u8; 1];
        loop {
            // SAFETY: one byte into a buffer we own.
            match unsafe { libc::read(self.0.read.fd(), byte.as_mut_ptr().cast(), 1) } {
                -1 if Errno::last() == Errno::EINTR => continue,
                n => return n == 1,
            }
        }
    }

    /// In the caller, once every member is started: close its own copy of
    /// the waiting end.
    pub fn members_started(&self) {
        self.0.read.close();
    }

    /// Let one member through.
    pub fn pass_one(&self) -> Result<(), Errno> {
        pipe::write_all(self.0.write.fd(), b"g")
    }

    /// Open the gate for every member.
    pub fn open(&self) {
        self.0.write.close();
    }

    /// The end only the caller keeps, for a member to close.
    pub fn caller_end(&self) -> RawFd {
        self.0.write.fd()
    }
}
