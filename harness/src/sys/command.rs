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
    die_with_caller(cmd);
    cmd.status()
}

/// Arrange for `cmd`'s process to be killed when the caller dies.
fn die_with_caller(cmd: &mut Command) {
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
}

/// Run `cmd` with no input, killed if the caller dies, and wait for it:
/// its standard output.
pub fn output(cmd: &mut Command) -> std::io::Result<Vec<u8>> {
    cmd.stdin(Stdio::null()).stderr(Stdio::inherit());
    die_with_caller(cmd);
    Ok(cmd.output()?.stdout)
}

/// Run `cmd` with no input and no output, and wait for it; whether it ran
/// and succeeded.
pub fn run_quiet(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
