//! The raw baseline: a door's own syscalls with the same flags, an exec of
//! the static probe and a wait, with nothing of the harness around them.
//! Each round forks from this single-threaded process; the children call
//! only async-signal-safe functions.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nsconform::kind::NsType;
use nsconform::plan::{Door, DoorKind, SyscallDoor};

/// Exit statuses of the baseline's own processes when a syscall fails.
const FAILED: i32 = 120;

/// What one round needs, prepared before any fork.
pub struct Raw {
    probe: CString,
    null: OwnedFd,
    types: Vec<NsType>,
    flags: u64,
    needs_child: bool,
}

impl Raw {
    pub fn new(probe: &Path, types: Vec<NsType>) -> std::io::Result<Raw> {
        let probe = CString::new(probe.as_os_str().as_encoded_bytes())?;
        let null = std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/null")?
            .into();
        let flags = types.iter().fold(0, |a, t| a | t.kind().flag);
        let needs_child = types.contains(&NsType::Pid) || types.contains(&NsType::Time);
        Ok(Raw {
            probe,
            null,
            types,
            flags,
            needs_child,
        })
    }

    /// One round through `door`; `Err` names what failed.
    pub fn once(&self, door: Door) -> Result<(), String> {
        let code = match door.kind() {
            DoorKind::Syscall(SyscallDoor::Clone) => {
                self.wait(self.clone_flags(self.flags), |_| self.exec())
            }
            DoorKind::Syscall(SyscallDoor::Clone3) => {
                self.wait(self.clone3(self.flags), |_| self.exec())
            }
            DoorKind::Syscall(SyscallDoor::Unshare) => {
                self.wait(self.clone_flags(0), |_| self.unshare())
            }
            DoorKind::Syscall(SyscallDoor::Setns | SyscallDoor::SetnsPidfd) => {
                self.with_holder(door)
            }
            DoorKind::Runtime => return Err(format!("{door} is a runtime door: no raw baseline")),
        };
        match code {
            0 | 2 => Ok(()),
            c => Err(format!("the raw {door} round ended with status {c}")),
        }
    }

    /// In a child: the probe on /dev/null (it reads an empty plan, says so
    /// and exits with 2), or `FAILED`.
    fn exec(&self) -> ! {
        self.exec_on(self.null.as_raw_fd(), &[self.probe.as_ptr()])
    }

    /// In a child: the probe with `args` after its name, `input` as its
    /// standard input and /dev/null as its output, or `FAILED`.
    fn exec_on(&self, input: libc::c_int, args: &[*const libc::c_char]) -> ! {
        let null = self.null.as_raw_fd();
        let mut argv = [std::ptr::null(); 4];
        argv[..args.len().min(3)].copy_from_slice(&args[..args.len().min(3)]);
        let envp = [std::ptr::null()];
        // SAFETY: dup2, execve and _exit are async-signal-safe; the pointers
        // come from CStrings and arrays that outlive the call.
        unsafe {
            libc::dup2(input, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            libc::execve(self.probe.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(FAILED)
        }
    }

    /// One run of the probe alone on `plan` (a memfd holding a trial's
    /// plan), supervised by this process as the harness would: the door,
    /// the steps, the views the fixture judges and the extra processes of
    /// the trial, all the kernel work of the trial, with no harness around.
    pub fn alone(&self, plan: &OwnedFd) -> Result<(), String> {
        let fd = plan.as_raw_fd();
        // SAFETY: lseek takes a descriptor this function borrows.
        if unsafe { libc::lseek(fd, 0, libc::SEEK_SET) } != 0 {
            return Err("cannot rewind the plan".into());
        }
        let flag = CString::new(nsconform::target::host::SUPERVISED_ARG).unwrap_or_default();
        let parent = CString::new(std::process::id().to_string()).unwrap_or_default();
        let args = [self.probe.as_ptr(), flag.as_ptr(), parent.as_ptr()];
        match self.wait(self.clone_flags(0), |raw| raw.exec_on(fd, &args)) {
            0 => Ok(()),
            c => Err(format!("the probe alone ended with status {c}")),
        }
    }

    /// In a child that entered namespaces applying to its children: fork
    /// the exec, wait for it and pass its status on.
    fn exec_in_child(&self) -> ! {
        if !self.needs_child {
            self.exec()
        }
        let code = self.wait(self.clone_flags(0), |_| self.exec());
        exit(code)
    }

    fn unshare(&self) -> ! {
        // SAFETY: unshare takes plain flags and touches no memory.
        if unsafe { libc::unshare(self.flags as libc::c_int) } != 0 {
            exit(FAILED + 1)
        }
        self.exec_in_child()
    }

    /// clone(2) without a new stack (fork-like) with `flags`.
    fn clone_flags(&self, flags: u64) -> libc::c_long {
        let flags = flags | libc::SIGCHLD as u64;
        // SAFETY: with a null stack clone behaves like fork, sound in this
        // single-threaded process.
        unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) }
    }

    /// clone3(2) with `flags`, fork-like.
    fn clone3(&self, flags: u64) -> libc::c_long {
        // struct clone_args (CLONE_ARGS_SIZE_VER2): flags first, exit_signal fifth.
        let mut args = [0u64; 11];
        args[0] = flags;
        args[4] = libc::SIGCHLD as u64;
        let size = std::mem::size_of_val(&args);
        // SAFETY: `args` is a valid clone_args of `size` bytes for the call's
        // duration; without a stack the child runs on a copy of ours.
        unsafe { libc::syscall(libc::SYS_clone3, args.as_ptr(), size) }
    }

    /// Run `child` in the process `pid` names (0 there), wait for it here.
    fn wait(&self, pid: libc::c_long, child: impl FnOnce(&Raw) -> i32) -> i32 {
        match pid {
            -1 => FAILED + 2,
            0 => exit(child(self)),
            pid => reap(pid as libc::pid_t),
        }
    }

    /// A holder in new namespaces, blocked on a pipe; a joiner enters its
    /// namespaces (by /proc links or by pidfd) and execs the probe.
    fn with_holder(&self, door: Door) -> i32 {
        let Ok((read, write)) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) else {
            return FAILED + 3;
        };
        let holder = self.clone3(self.flags);
        if holder == 0 {
            drop(write);
            let mut byte = [0u8; 1];
            let _ = rustix::io::read(&read, &mut byte);
            exit(0)
        }
        drop(read);
        if holder < 0 {
            return FAILED + 2;
        }
        let code = self.join(door, holder as libc::pid_t);
        drop(write);
        let held = reap(holder as libc::pid_t);
        if code == 0 || code == 2 {
            held
        } else {
            code
        }
    }

    fn join(&self, door: Door, holder: libc::pid_t) -> i32 {
        let links: Vec<(CString, u64)> = self
            .types
            .iter()
            .map(|t| {
                let path = format!("/proc/{holder}/ns/{}", t.kind().name);
                (CString::new(path).unwrap_or_default(), t.kind().flag)
            })
            .collect();
        // SAFETY: pidfd_open takes a pid and flags and touches no memory.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, holder, 0) } as libc::c_int;
        let code = self.wait(self.clone_flags(0), |raw| {
            let entered = match door {
                Door::SetnsPidfd => setns(pidfd, raw.flags),
                _ => links.iter().all(|(path, flag)| {
                    // SAFETY: open takes a NUL-terminated path that outlives the call.
                    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
                    fd >= 0 && setns(fd, *flag)
                }),
            };
            if !entered {
                exit(FAILED + 4)
            }
            raw.exec_in_child()
        });
        if pidfd >= 0 {
            // SAFETY: closing the pidfd this function opened.
            unsafe { libc::close(pidfd) };
        }
        code
    }
}

fn setns(fd: libc::c_int, flags: u64) -> bool {
    // SAFETY: setns takes a descriptor and flags and touches no memory.
    unsafe { libc::setns(fd, flags as libc::c_int) == 0 }
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit ends the process at once, running nothing of the parent's.
    unsafe { libc::_exit(code) }
}

/// Wait for `pid`: its exit status, or 128 + the signal that killed it.
fn reap(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into a local integer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return FAILED + 5;
        }
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}
