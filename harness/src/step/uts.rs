//! UTS steps: setting the hostname and the NIS domain name, reading them
//! back, and going into a new UTS namespace and back out with setns.

use std::os::fd::AsRawFd;

use nix::errno::Errno;

use super::{Extra, StepEnv};
use crate::guard;
use crate::kind::NsType;
use crate::plan::uts::{AncestorOwnedStep, SetnsBackStep, UtsStep};
use crate::sys::errno::outcome;
use crate::sys::helper::in_child;
use crate::sys::ns::{ns_at, ns_of_fd, open, setns_fd, unshare, DEADLINE};

/// Set the hostname; refused unless the caller's UTS namespace is new.
pub fn sethostname(name: &str) -> Result<Extra, Errno> {
    guard::ensure(NsType::Uts)?;
    nix::unistd::sethostname(name)?;
    Ok(Extra::new())
}

/// Set the NIS domain name; refused unless the caller's UTS namespace is new.
pub fn setdomainname(name: &str) -> Result<Extra, Errno> {
    guard::ensure(NsType::Uts)?;
    // SAFETY: the pointer and length describe the live string `name`.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(ret)?;
    Ok(Extra::new())
}

/// The hostname and domain name, now.
fn names() -> Result<Extra, Errno> {
    let u = nix::sys::utsname::uname()?;
    let mut extra = Extra::new();
    let text = |s: &std::ffi::OsStr| s.to_string_lossy().into_owned();
    extra.insert("hostname".into(), text(u.nodename()).into());
    extra.insert("domainname".into(), text(u.domainname()).into());
    Ok(extra)
}

fn setns_back(s: &SetnsBackStep) -> Result<Extra, Errno> {
    in_child(DEADLINE, || {
        let original = open("/proc/self/ns/uts")?;
        let ty = NsType::Uts;
        unshare(ty.kind().flag)?;
        let new = open("/proc/self/ns/uts")?;
        // Each change is guarded: the child's namespace must be new.
        sethostname(&s.hostname)?;
        if let Some(d) = &s.domainname {
            setdomainname(d)?;
        }
        let inner = names()?;
        setns_fd(original.as_raw_fd(), ty.kind().flag)?;
        let restored = names()?;
        let back = ns_at("/proc/self/ns/uts")? == ns_of_fd(&original)?;
        let mut extra = Extra::new();
        extra.insert("inner".into(), inner.into());
        extra.insert("restored".into(), restored.into());
        extra.insert("ns_restored".into(), back.into());
        if let Some(outer) = &s.outer_hostname {
            // Back in the process's namespace: it must be new to the trial.
            sethostname(outer)?;
            setns_fd(new.as_raw_fd(), ty.kind().flag)?;
            extra.insert("inner_again".into(), names()?.into());
        }
        Ok(extra)
    })
}

/// In a child: a new user namespace alone, the attempts in the UTS
/// namespace an ancestor of it owns, then a UTS namespace of its own.
fn ancestor_owned(s: &AncestorOwnedStep) -> Result<Extra, Errno> {
    in_child(DEADLINE, || {
        let before = names()?;
        unshare(NsType::User.kind().flag)?;
        guard::ensure(NsType::User)?;
        let mut extra = Extra::new();
        // Each attempt is guarded: the UTS namespace must be the trial's.
        extra.insert("sethostname".into(), outcome(sethostname(&s.hostname)));
        extra.insert("setdomainname".into(), outcome(setdomainname(&s.hostname)));
        extra.insert("after_attempts".into(), names()?.into());
        extra.insert("before".into(), before.into());
        unshare(NsType::Uts.kind().flag)?;
        extra.insert("own_sethostname".into(), outcome(sethostname(&s.hostname)));
        extra.insert("own".into(), names()?.into());
        Ok(extra)
    })
}

/// Carry out one of the steps of plan::uts.
pub fn perform(step: &UtsStep, _env: &StepEnv) -> Result<Extra, Errno> {
    match step {
        UtsStep::Read(_) => names(),
        UtsStep::SetnsBack(s) => setns_back(s),
        UtsStep::AncestorOwned(s) => ancestor_owned(s),
    }
}
