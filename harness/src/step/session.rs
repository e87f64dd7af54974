//! Session steps: setsid(2).

use nix::errno::Errno;

use super::Extra;

pub fn setsid() -> Result<Extra, Errno> {
    let sid = nix::unistd::setsid()?;
    let mut extra = Extra::new();
    extra.insert("sid".into(), sid.as_raw().into());
    Ok(extra)
}
