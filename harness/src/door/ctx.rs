//! The context a door and its steps run in: the supervisor's contract with
//! the doors. The probe fills it in; it lives beside the doors because the
//! probe calls into them (probe -> door), so a door naming the probe's type
//! would close a circle.

use std::os::fd::RawFd;

use crate::guard::Origin;
use crate::plan::Plan;
use crate::sys::helper::{self, TRIAL_LIFETIME};
use crate::sys::message::{self, Message};
use crate::sys::{errno, pipe, process};

/// What every door needs: the plan, where the probe started, and the pipes
/// to the supervisor.
pub struct Ctx<'a> {
    pub plan: &'a Plan,
    pub origin: &'a Origin,
    /// Write end of the views pipe.
    pub views: RawFd,
    /// Read end of the release pipe: end of file means "exit now".
    pub release: RawFd,
    /// Descriptors only the supervisor may hold.
    pub parent_only: Vec<RawFd>,
    /// The supervisor's effective uid and gid.
    pub caller: (u32, u32),
    /// The supervisor's pid, where it started.
    pub supervisor: i32,
    /// What the `inside` process runs; returns its exit status.
    pub body: &'a dyn Fn(&Ctx) -> i32,
    /// The view of the calling process, for a door process the plan
    /// observes (the unsharer).
    pub observe: &'a dyn Fn() -> serde_json::Value,
}

impl Ctx<'_> {
    pub fn send(&self, m: &Message) {
        message::send(self.views, m);
    }

    /// Report a failed syscall of the door, as process `who`.
    pub fn door_failed(&self, who: &str, syscall: &str, errno: nix::errno::Errno) {
        self.send(&Message::door_failure(who, syscall, errno));
    }

    /// The descriptors a child of this door must close: the supervisor's
    /// plus the extra ones given.
    pub fn closing(&self, extra: &[RawFd]) -> Vec<RawFd> {
        self.parent_only.iter().chain(extra).copied().collect()
    }

    /// Run the body in this process and leave with its status.
    pub fn become_inside(&self) -> ! {
        process::exit((self.body)(self))
    }

    /// Fork `inside` from this process (for pid and time namespaces, which
    /// apply to children), then wait for it, reporting how it ended if badly,
    /// and leave.
    pub fn fork_inside(&self, who: &str) -> ! {
        let ended = match helper::spawn(TRIAL_LIFETIME, |_| Ok((self.body)(self))) {
            Err(e) => {
                self.door_failed(who, "fork", e);
                process::exit(1)
            }
            Ok(inside) => inside.finish(),
        };
        let how = match ended {
            Ok(0) => None,
            Ok(code) => Some(format!("exited with status {code}")),
            Err(e) => Some(format!("ended without answering ({})", errno::name(e))),
        };
        // Once released, the init of a pid namespace may exit first and take
        // `inside` with it: that death is expected.
        if let Some(how) = how {
            if !pipe::closed_now(self.release) {
                self.send(&Message::error(who, format!("inside {how}")));
            }
        }
        process::drop_inherited(&[self.views]);
        process::exit(0)
    }
}
