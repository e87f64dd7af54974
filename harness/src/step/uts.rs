//! UTS steps: setting the hostname and the NIS domain name, reading them
//! back, and going into a new UTS namespace and back out with setns.

use std::os::fd::AsRawFd;

use nix::errno::Errno;

use super::nsfs::{in_child, ns_at, ns_of_fd, open, setns_fd, unshare};
use super::{Extra, StepEnv};
use crate::kind::NsType;
use crate::plan::uts::{SetnsBackStep, UtsStep};

pub fn sethostname(name: &str) -> Result<Extra, Errno> {
    nix::unistd::sethostname(name)?;
    Ok(Extra::new())
}

pub fn setdomainname(name: &str) -> Result<Extra, Errno> {
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

fn setns_back(s: &SetnsBackStep, env: &StepEnv) -> Result<Extra, Errno> {
    in_child(|| {
        let original = open("/proc/self/ns/uts")?;
        let ty = NsType::Uts;
        unshare(ty.kind().flag)?;
        // The child's own new namespace: never the one the probe started in.
        env.origin.check(ty).map_err(|_| Errno::EPERM)?;
        let new = open("/proc/self/ns/uts")?;
        nix::unistd::sethostname(&s.hostname)?;
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
            env.origin.check(ty).map_err(|_| Errno::EPERM)?;
            nix::unistd::sethostname(outer)?;
            setns_fd(new.as_raw_fd(), ty.kind().flag)?;
            extra.insert("inner_again".into(), names()?.into());
        }
        Ok(extra)
    })
}

/// Carry out one of the steps of plan::uts.
pub fn perform(step: &UtsStep, env: &StepEnv) -> Result<Extra, Errno> {
    match step {
        UtsStep::Read(_) => names(),
        UtsStep::SetnsBack(s) => setns_back(s, env),
    }
}
