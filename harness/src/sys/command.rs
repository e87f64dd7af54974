//! Running another program: from a probe process (a container runtime, a
//! tool), its standard streams descriptors the caller names, dying with the
//! caller; and from the harness (a probe, qemu), in a process group of its
//! own that is waited for with a bound, then killed whole and reaped.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
pub fn die_with_caller(cmd: &mut Command) {
    // SAFETY: the closure runs between fork and exec and calls only prctl,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            super::process::rearm_deathsig();
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

/// A pidfd of a process that has exited and been reaped: a child that
/// leaves at once, before it would exec anything. Started as `Command`
/// starts any program, so the caller may be multithreaded (the harness).
pub fn pidfd_of_a_gone_child() -> Option<OwnedFd> {
    let mut cmd = Command::new("/");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure runs between fork and exec and calls only _exit,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| libc::_exit(0));
    }
    let mut child = cmd.spawn().ok()?;
    let fd = super::process::pidfd_open(child.id() as libc::pid_t).ok();
    child.wait().ok()?;
    fd
}

/// Whether `check` holds in a child that runs it between fork and exec and
/// leaves with its answer before it would exec anything. Started as
/// `Command` starts any program, so the caller may be multithreaded.
///
/// # Safety
///
/// `check` runs in the forked child of a possibly multithreaded process:
/// it must call only async-signal-safe functions (raw syscalls, no
/// allocation, no locks).
pub unsafe fn holds_in_a_child(check: impl Fn() -> bool + Send + Sync + 'static) -> bool {
    let mut cmd = Command::new("/");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure calls `check`, async-signal-safe by this
    // function's contract, then _exit, which is.
    unsafe {
        cmd.pre_exec(move || libc::_exit(if check() { 0 } else { 1 }));
    }
    cmd.status().is_ok_and(|s| s.success())
}

/// A program started as the leader of a process group of its own: all it
/// starts that does not leave the group is killed with it.
pub struct Group(Child);

impl Group {
    /// Start `cmd` in a new process group.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Group> {
        cmd.process_group(0).spawn().map(Group)
    }

    /// The group's id, the leader's pid.
    pub fn pgid(&self) -> i32 {
        self.0.id() as i32
    }

    /// The leader, for its piped streams.
    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }

    /// Wait for the leader to end, at most `timeout` (sleeping in poll(2) on
    /// a pidfd); whether it ended. Without pidfds the answer is yes at once.
    pub fn wait_for(&self, timeout: Duration) -> bool {
        ended_within(self.pgid(), timeout)
    }

    /// Kill the whole group and reap the leader.
    pub fn end(mut self) -> std::io::Result<ExitStatus> {
        kill_group(self.pgid());
        self.0.wait()
    }
}

/// Wait for process `pid` (a child or not) to end, at most `timeout`,
/// sleeping in poll(2) on a pidfd; whether it ended. Without pidfds the
/// answer is yes at once.
pub fn ended_within(pid: i32, timeout: Duration) -> bool {
    match super::process::pidfd_open(pid) {
        Ok(fd) => super::pipe::readable_by(fd.as_raw_fd(), Instant::now() + timeout),
        Err(_) => true,
    }
}

/// Kill process group `pgid` with SIGKILL.
pub fn kill_group(pgid: i32) {
    let pgid = nix::unistd::Pid::from_raw(pgid);
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
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
