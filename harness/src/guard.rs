//! The isolation guard: a step that would change the host runs only in a
//! namespace that really is new. A refusal is one typed event, sent to the
//! supervisor by whichever process of the probe refused.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::sync::{Mutex, OnceLock};

use nix::errno::Errno;

use crate::kind::NsType;
use crate::plan::GuardFailure;
use crate::sys::message::{self, Message};
use crate::view::ns::{self, NsId};

/// The namespaces the probe started in.
#[derive(Debug, Clone, Default)]
pub struct Origin(BTreeMap<String, NsId>);

impl Origin {
    /// Record the calling process's namespaces.
    pub fn here() -> Origin {
        Origin(ns::observe())
    }

    /// The calling process's namespaces as recorded ahead of its plan (by
    /// [`ready`]), or now when they were not: a process's namespaces change
    /// only by its own doing, and a process made ready does nothing but
    /// wait until its plan comes.
    pub fn ready_or_here() -> Origin {
        READY.get().cloned().unwrap_or_else(Origin::here)
    }

    /// The links recorded, by name (`uts`, `pid_for_children`, ...).
    pub fn ids(&self) -> &BTreeMap<String, NsId> {
        &self.0
    }

    /// The namespaces a probe outside recorded where it started, for the
    /// probe a runtime started inside a container.
    pub fn from_ids(ids: BTreeMap<String, NsId>) -> Origin {
        Origin(ids)
    }

    /// Check that the caller's namespace of `ty` (or the one named `link`,
    /// such as `time_for_children`) is not the one the probe started in.
    pub fn check_link(&self, ty: NsType, link: &str) -> Result<(), String> {
        let now = ns::id_of("self", link)
            .ok_or_else(|| format!("namespace not isolated: /proc/self/ns/{link} is unreadable"))?;
        match self.0.get(ty.name()) {
            Some(start) if *start == now => Err(format!(
                "namespace not isolated: the {ty} namespace is still {}:{}, the one the probe started in",
                now.dev, now.ino
            )),
            Some(_) => Ok(()),
            None => Err(format!("namespace not isolated: the starting {ty} namespace is unknown")),
        }
    }

    /// Check that process `pid`'s namespace of `ty` is not the one the probe
    /// started in (before writing, say, the maps of its user namespace).
    pub fn check_process(&self, ty: NsType, pid: i32) -> Result<(), String> {
        let now = ns::id_of(&pid.to_string(), ty.name())
            .ok_or_else(|| format!("namespace not isolated: /proc/{pid}/ns/{ty} is unreadable"))?;
        match self.0.get(ty.name()) {
            Some(start) if *start == now => Err(format!(
                "namespace not isolated: process {pid} is still in the {ty} namespace {}:{} the probe started in",
                now.dev, now.ino
            )),
            Some(_) => Ok(()),
            None => Err(format!(
                "namespace not isolated: the starting {ty} namespace is unknown"
            )),
        }
    }

    /// Check the caller's namespace of `ty`.
    pub fn check(&self, ty: NsType) -> Result<(), String> {
        self.check_link(ty, ty.name())
    }
}

/// The origin of this probe, kept for every process it forks.
static ORIGIN: OnceLock<Origin> = OnceLock::new();

/// Where refusals go: the write end of the supervisor's message pipe,
/// inherited by every process of the probe.
static CHANNEL: OnceLock<RawFd> = OnceLock::new();

/// Which process of the probe this is, and which step it runs, if any.
static POSITION: Mutex<Option<(String, Option<usize>)>> = Mutex::new(None);

thread_local! {
    /// How many refusals this thread sent. The probe is single-threaded,
    /// so that is the process's count; the unit tests, which run on
    /// threads of one process, each count only their own.
    static SENT: Cell<usize> = const { Cell::new(0) };
}

/// A change the guard refused. The refusal itself has gone to the
/// supervisor as an event when this is returned: the caller only stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("refused by the isolation guard")]
pub struct Refused;

/// A refused change stops a step like a failed syscall would; what the
/// trial's verdict becomes is decided by the refusal event, never by this
/// errno.
impl From<Refused> for Errno {
    fn from(_: Refused) -> Errno {
        Errno::EPERM
    }
}

/// The namespaces of a process made ready for a plan it has yet to get.
static READY: OnceLock<Origin> = OnceLock::new();

/// Record the calling process's namespaces ahead of its plan, off the
/// plan's path (the spawner's spare, see `sys::spare`).
pub fn ready() {
    let _ = READY.set(Origin::here());
}

/// Remember where the probe started, for [`ensure`].
pub fn remember(origin: &Origin) {
    let _ = ORIGIN.set(origin.clone());
}

/// Send refusals on `fd` from now on, in this process and its children.
pub fn report_to(fd: RawFd) {
    let _ = CHANNEL.set(fd);
}

/// Say which process this is and which step it runs (`None`: none, as
/// while a door creates its namespaces).
pub fn at(process: &str, step: Option<usize>) {
    if let Ok(mut p) = POSITION.lock() {
        *p = Some((process.to_string(), step));
    }
}

/// How many refusals this process (this thread, in a unit test) has sent
/// so far.
pub fn sent() -> usize {
    SENT.get()
}

/// Refuse a change of the namespace of `ty`: send the one refusal event
/// (the type, the process and step of [`at`], and `message`, which says
/// "namespace not isolated: ...").
pub fn refuse(ty: NsType, message: String) -> Refused {
    let (process, step) = POSITION
        .lock()
        .ok()
        .and_then(|p| p.clone())
        .unwrap_or_else(|| ("probe".to_string(), None));
    let event = Message::Guard(GuardFailure {
        process,
        step,
        ty,
        message,
    });
    if let Some(fd) = CHANNEL.get() {
        message::send(*fd, &event);
    }
    SENT.set(SENT.get() + 1);
    Refused
}

/// Refuse unless `check` (one of [`Origin`]'s) passed.
pub fn require(ty: NsType, check: Result<(), String>) -> Result<(), Refused> {
    check.map_err(|message| refuse(ty, message))
}

/// Check, right before a change that would alter the host if the caller's
/// namespace of `ty` were the one the probe started in, that it is not.
/// Every process of the probe calls this before every such change: the
/// steps' own helpers too, whatever namespaces they made or joined.
/// Fails closed when the origin is unknown.
pub fn ensure(ty: NsType) -> Result<(), Refused> {
    let verdict = match ORIGIN.get() {
        Some(origin) => origin.check(ty),
        None => Err(format!(
            "namespace not isolated: the {ty} namespace the probe started in is unknown"
        )),
    };
    require(ty, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse_one() {
        let _ = refuse(NsType::Uts, "namespace not isolated: a test".into());
    }

    #[test]
    fn counts_the_refusals_of_its_own_thread_only() {
        let before = sent();
        let other = std::thread::spawn(|| {
            refuse_one();
            sent()
        });
        assert_eq!(other.join().ok(), Some(1), "the other thread's count");
        assert_eq!(
            sent(),
            before,
            "another thread's refusal is not counted here"
        );
        refuse_one();
        assert_eq!(sent(), before + 1, "this thread's refusal is counted");
    }
}
