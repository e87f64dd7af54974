//! Pipes between the probe's processes: one-way gates and line channels.

use std::cell::Cell;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// One end of a pipe, owned: closed when dropped, or at once by
/// [`End::close`] (through a shared reference, so that a forked child can
/// close its copy of an end it was lent).
pub struct End(Cell<Option<OwnedFd>>);

impl End {
    /// The descriptor's number (-1 once closed), for the calls that take one.
    pub fn fd(&self) -> RawFd {
        let fd = self.0.take();
        let raw = fd.as_ref().map_or(-1, |f| f.as_raw_fd());
        self.0.set(fd);
        raw
    }

    /// Close this end now.
    pub fn close(&self) {
        drop(self.0.take());
    }
}

impl std::fmt::Debug for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("End").field(&self.fd()).finish()
    }
}

impl From<OwnedFd> for End {
    fn from(fd: OwnedFd) -> End {
        End(Cell::new(Some(fd)))
    }
}

/// A pipe: its read end and its write end, each closed on drop.
#[derive(Debug)]
pub struct Pipe {
    pub read: End,
    pub write: End,
}

impl Pipe {
    pub fn new() -> Result<Pipe, Errno> {
        let (read, write) = owned()?;
        Ok(Pipe {
            read: read.into(),
            write: write.into(),
        })
    }
}

/// A pipe as two owned descriptors (read end, write end), closed on drop.
pub fn owned() -> Result<(OwnedFd, OwnedFd), Errno> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
}

/// Write all of `buf`, retrying on EINTR and short writes.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        // SAFETY: the pointer and length describe the live slice `buf`.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        match n {
            -1 if Errno::last() == Errno::EINTR => continue,
            -1 => return Err(Errno::last()),
            n => buf = &buf[n as usize..],
        }
    }
    Ok(())
}

/// Read until end of file.
pub fn read_to_end(fd: RawFd) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // SAFETY: the pointer and length describe the live buffer `chunk`.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        match n {
            -1 if Errno::last() == Errno::EINTR => continue,
            -1 => return Err(Errno::last()),
            0 => return Ok(out),
            n => out.extend_from_slice(&chunk[..n as usize]),
        }
    }
}

/// Block until the other end of `fd` is closed by every holder: how the
/// probe's processes wait to be released.
pub fn wait_closed(fd: RawFd) {
    let _ = read_to_end(fd);
}

/// Whether every writer of `fd` is gone (the release has happened),
/// without blocking.
pub fn closed_now(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd we own, zero timeout.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n == 1 && pfd.revents & libc::POLLHUP != 0
}

/// Wait until `fd` is readable or hung up, or `deadline` passes; whether it
/// became so in time.
pub fn readable_by(fd: RawFd, deadline: std::time::Instant) -> bool {
    ready_by([fd], deadline).is_some()
}

/// Wait until any of `fds` is readable (or hung up): which are, or `None`
/// once `deadline` passes.
fn ready_by<const N: usize>(fds: [RawFd; N], deadline: std::time::Instant) -> Option<[bool; N]> {
    let mut pfds = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: N pollfds we own, with a bounded timeout.
        match unsafe { libc::poll(pfds.as_mut_ptr(), N as libc::nfds_t, ms) } {
            -1 if Errno::last() == Errno::EINTR => continue,
            n if n > 0 => return Some(pfds.map(|p| p.revents != 0)),
            _ => return None,
        }
    }
}

/// Wait until `fd` is readable or hung up, or fail with ETIMEDOUT once
/// `deadline` passes.
pub fn await_readable(fd: RawFd, deadline: std::time::Instant) -> Result<(), Errno> {
    if readable_by(fd, deadline) {
        Ok(())
    } else {
        Err(Errno::ETIMEDOUT)
    }
}

/// One read of what `fd` holds into `out`; whether that was the end (every
/// writer gone, or the read failed).
fn read_into(fd: RawFd, out: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    loop {
        // SAFETY: the pointer and length describe the live buffer `chunk`.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        match n {
            -1 if Errno::last() == Errno::EINTR => continue,
            n if n <= 0 => return true,
            n => {
                out.extend_from_slice(&chunk[..n as usize]);
                return false;
            }
        }
    }
}

/// Wait until `fd` is readable, then add what one read of it gives to
/// `out`: EPIPE at end of file, ETIMEDOUT once `deadline` passes.
pub fn read_some_by(
    fd: RawFd,
    deadline: std::time::Instant,
    out: &mut Vec<u8>,
) -> Result<(), Errno> {
    await_readable(fd, deadline)?;
    if read_into(fd, out) {
        Err(Errno::EPIPE)
    } else {
        Ok(())
    }
}

/// Read until end of file, waiting at most until `deadline`: `Ok` with
/// everything once every writer is gone, `Err` with what came in time.
pub fn read_to_end_by(fd: RawFd, deadline: std::time::Instant) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    loop {
        if !readable_by(fd, deadline) {
            return Err(out);
        }
        if read_into(fd, &mut out) {
            return Ok(out);
        }
    }
}

/// Read until end of file or until the process whose pidfd is `ended` has
/// exited, waiting at most until `deadline`. A process that has exited
/// wrote everything it will: what is in the pipe then is all of it, even
/// when a descendant still holds a write end. `Ok` with everything, `Err`
/// with what came in time.
pub fn read_until_exit_by(
    fd: RawFd,
    ended: RawFd,
    deadline: std::time::Instant,
) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let Some([_, exited]) = ready_by([fd, ended], deadline) else {
            return Err(out);
        };
        if exited && !readable_by(fd, std::time::Instant::now()) {
            return Ok(out);
        }
        if read_into(fd, &mut out) {
            return Ok(out);
        }
    }
}

/// Send a 32-bit number through a pipe (a gate opening, with a value).
pub fn send_u32(fd: RawFd, value: u32) -> Result<(), Errno> {
    write_all(fd, &value.to_ne_bytes())
}

/// Receive a 32-bit number; `None` when the writer closed without sending.
pub fn recv_u32(fd: RawFd) -> Option<u32> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), 4 - got) };
        match n {
            -1 if Errno::last() == Errno::EINTR => continue,
            n if n <= 0 => return None,
            n => got += n as usize,
        }
    }
    Some(u32::from_ne_bytes(buf))
}
