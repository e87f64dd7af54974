//! Pipes between the probe's processes: one-way gates and line channels.

use std::os::fd::RawFd;

use nix::errno::Errno;

/// A pipe as two raw descriptors, so that forked children can close the end
/// they do not use by number.
#[derive(Debug, Clone, Copy)]
pub struct Pipe {
    pub read: RawFd,
    pub write: RawFd,
}

impl Pipe {
    pub fn new() -> Result<Pipe, Errno> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array we own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
            return Err(Errno::last());
        }
        Ok(Pipe {
            read: fds[0],
            write: fds[1],
        })
    }
}

/// A pipe as two owned descriptors (read end, write end), closed on drop.
pub fn owned() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd), Errno> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
}

/// Close a descriptor by number, ignoring errors (it is ours, and done with).
pub fn close(fd: RawFd) {
    // SAFETY: closing a descriptor this process owns and no longer uses.
    unsafe { libc::close(fd) };
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
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd we own, with a bounded timeout.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        match n {
            -1 if Errno::last() == Errno::EINTR => continue,
            n => return n == 1,
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

/// Read until end of file, waiting at most until `deadline`: `Ok` with
/// everything once every writer is gone, `Err` with what came in time.
pub fn read_to_end_by(fd: RawFd, deadline: std::time::Instant) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if !readable_by(fd, deadline) {
            return Err(out);
        }
        // SAFETY: the pointer and length describe the live buffer `chunk`.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        match n {
            -1 if Errno::last() == Errno::EINTR => continue,
            n if n <= 0 => return Ok(out),
            n => out.extend_from_slice(&chunk[..n as usize]),
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
