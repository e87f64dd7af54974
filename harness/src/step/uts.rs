//! UTS steps: setting the hostname and the NIS domain name.

use nix::errno::Errno;

use super::Extra;

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

/// Carry out one of the steps of plan::uts.
pub fn perform(step: &crate::plan::uts::UtsStep, _env: &super::StepEnv) -> Result<Extra, Errno> {
    match *step {}
}
