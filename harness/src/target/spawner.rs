//! The harness's side of the spawner (`sys::spawner`): each job thread
//! starts one, from the probe binary, the first time it runs a trial, and
//! asks it to start the probe process of every trial after. A spawner
//! that fails or stops answering is killed and another is started for the
//! next trial. It dies with the thread that started it (its death signal),
//! and is hung up on and reaped when that thread ends.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{shutdown, socketpair, AddressFamily, Shutdown, SockFlag, SockType};

use super::host::SUPERVISED_ARG;
use crate::sys::command::{self, Group};
use crate::sys::spawner::{self as wire, ENDED, FAILED, RUN, SPAWNER_ARG, STARTED};
use crate::sys::{fdpass, pipe};

/// How long a spawner may take to answer: its spare answers a request at
/// once, and a trial whose group was killed ends at once.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

/// A running spawner: its process and the harness's end of its socket.
struct Spawner {
    probe: PathBuf,
    group: Group,
    sock: OwnedFd,
}

thread_local! {
    /// This thread's spawner, once started.
    static SPAWNER: RefCell<Option<Spawner>> = const { RefCell::new(None) };
}

impl Spawner {
    /// Start a spawner from `probe`, in a process group of its own (a
    /// terminal's Ctrl-C is the harness's to handle, not the spawner's).
    fn start(probe: &Path) -> std::io::Result<Spawner> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let group = Group::spawn(
            Command::new(probe)
                .arg(SUPERVISED_ARG)
                .arg(std::process::id().to_string())
                .arg(SPAWNER_ARG)
                .stdin(Stdio::from(theirs))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        Ok(Spawner {
            probe: probe.to_path_buf(),
            group,
            sock: ours,
        })
    }

    /// Send `request` with `fds` and wait (at most [`ANSWER_LIMIT`]) for
    /// the answer: its tag and number.
    fn ask(&self, request: &[u8], fds: &[RawFd]) -> Result<(u8, i32), Errno> {
        fdpass::send(self.sock.as_raw_fd(), request, fds)?;
        self.answer(Instant::now() + ANSWER_LIMIT)
    }

    /// The next answer, waited for until `deadline`: its tag and number.
    fn answer(&self, deadline: Instant) -> Result<(u8, i32), Errno> {
        if !pipe::readable_by(self.sock.as_raw_fd(), deadline) {
            return Err(Errno::ETIMEDOUT);
        }
        let mut buf = [0u8; 5];
        match fdpass::recv(&self.sock, &mut buf)? {
            (0, _) => Err(Errno::EPIPE),
            (n, _) => wire::read_answer(&buf[..n]).ok_or(Errno::EPROTO),
        }
    }

    /// Hang up, so that the spawner reaps what it started (its waiting
    /// spare, the last trial's process) and leaves; dropped after, it is
    /// killed if it has not left within [`ANSWER_LIMIT`], and reaped.
    fn hang_up(self) {
        let _ = shutdown(self.sock.as_raw_fd(), Shutdown::Both);
        let _ = self.group.wait_for(ANSWER_LIMIT);
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        command::kill_group(self.group.pgid());
        let _ = self.group.child().wait();
    }
}

/// Hang up on this thread's spawner, if it has one, and reap it once it
/// has reaped what it started (killed if it does not leave): a job thread
/// does so as its last work, so that the spawner is gone when the run returns
/// (a thread's own values are dropped only after those waiting for it are
/// told it ended).
pub fn release() {
    if let Some(spawner) = SPAWNER.with(|cell| cell.borrow_mut().take()) {
        spawner.hang_up();
    }
}

/// Run `f` on this thread's running spawner (ESRCH when there is none);
/// one that fails is dropped (killed, reaped).
fn with_running<T>(f: impl FnOnce(&Spawner) -> Result<T, Errno>) -> Result<T, Errno> {
    SPAWNER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let answer = slot.as_ref().map_or(Err(Errno::ESRCH), f);
        if answer.is_err() {
            *slot = None;
        }
        answer
    })
}

/// Run `f` on this thread's spawner for `probe`, started if there is none
/// (or one of another probe); one that fails is dropped (killed, reaped).
fn with_spawner<T>(probe: &Path, f: impl FnOnce(&Spawner) -> Result<T, Errno>) -> Result<T, Errno> {
    SPAWNER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_some_and(|s| s.probe != probe) {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(Spawner::start(probe).map_err(|e| errno_of(&e))?);
        }
        Ok::<(), Errno>(())
    })?;
    with_running(f)
}

fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// A trial's probe process, started by this thread's spawner: the leader
/// of its own process group.
pub struct Trial {
    pid: i32,
}

/// Start a trial's process through this thread's spawner, from `probe`:
/// `stdio` become its standard input, output and error; `stand_in`, when
/// given, is exec'd in the probe's place.
pub fn start(probe: &Path, stand_in: Option<&Path>, stdio: [RawFd; 3]) -> std::io::Result<Trial> {
    let mut request = vec![RUN];
    request.extend(stand_in.map_or(&[][..], |p| p.as_os_str().as_bytes()));
    let answer = with_spawner(probe, |s| s.ask(&request, &stdio));
    match answer.map_err(std::io::Error::from)? {
        (STARTED, pid) => Ok(Trial { pid }),
        (FAILED, errno) => Err(std::io::Error::from_raw_os_error(errno)),
        _ => Err(Errno::EPROTO.into()),
    }
}

impl Trial {
    /// The group's id, the leader's pid.
    pub fn pgid(&self) -> i32 {
        self.pid
    }

    /// Wait at most `timeout` for the spawner to say that the leader ended
    /// (sleeping in poll(2) on its socket); whether it did. A spawner that
    /// is gone has nothing more to say: yes.
    pub fn wait_for(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        with_running(|s| Ok(pipe::readable_by(s.sock.as_raw_fd(), deadline))).unwrap_or(true)
    }

    /// Kill the whole group and take the spawner's word on how the leader
    /// ended. The spawner reaps the leader only when this thread asks for
    /// its next trial (or hangs up): until then its pid names the group
    /// still.
    pub fn end(self) -> std::io::Result<ExitStatus> {
        command::kill_group(self.pid);
        let answer = with_running(|s| s.answer(Instant::now() + ANSWER_LIMIT)).map_err(|e| {
            std::io::Error::other(format!("the spawner that started it is gone ({e})"))
        })?;
        match answer {
            (ENDED, status) => Ok(ExitStatus::from_raw(status)),
            _ => Err(Errno::EPROTO.into()),
        }
    }
}
