//! Running another program from a probe process (a container runtime, a
//! tool): its standard streams are descriptors the caller names, it dies
//! with the caller, and the caller waits for it.

use std::os::fd::{BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};

/// Dup `fd` for a child's standard stream.
fn stdio(fd: RawFd) -> std::io::Result<Stdio> {
    // SAFETY: `fd` is a descriptor the calling process holds open for as
    // long as this call lasts; it is only borrowed to duplicate it.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    fd.try_clone_to_owned().map(Stdio::from)
}

/// Run `cmd` with `stdin` and `stdout` as its standard input and output
/// (its standard error is the caller's), killed if the caller dies, and
/// wait for it.
pub fn run_with(cmd: &mut Command, stdin: RawFd, stdout: RawFd) -> std::io::Result<ExitStatus> {
    cmd.stdin(stdio(stdin)?)
        .stdout(stdio(stdout)?)
        .stderr(Stdio::inherit());
    // SAFETY: the closure runs between fork and exec and calls only prctl,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            );
            Ok(())
        });
    }
    cmd.status()
}

/// Run `cmd` with no input and no output, and wait for it; whether it ran
/// and succeeded.
pub fn run_quiet(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Become a child subreaper, so that the processes a detached runtime
/// leaves behind (the container's process) are reparented to the caller.
pub fn adopt_orphans() -> Result<(), nix::errno::Errno> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// Wait for every child of the caller (adopted ones too) until none is
/// left.
pub fn reap_children() {
    loop {
        match nix::sys::wait::waitpid(None, None) {
            Err(nix::errno::Errno::EINTR) | Ok(_) => continue,
            Err(_) => return,
        }
    }
}
