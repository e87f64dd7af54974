//! Writing a sysctl of a namespace: `/proc/sys` shows the namespaces of the
//! process that opens the file, so the caller's namespace of the sysctl's
//! type must be new (the isolation guard) before anything is written. A
//! sysctl this kernel does not have (no file) is said as `missing`, which
//! makes the trial a skip naming it rather than a failure.

use nix::errno::Errno;

use super::Extra;
use crate::guard;
use crate::kind::NsType;
use crate::sys::errno::io_errno;
use crate::view;

/// Write `value` to sysctl `name` of the caller's namespace of type `ty`,
/// then read it back (`value`); `missing` when the kernel has no such file.
pub fn write(name: &str, value: &str, ty: NsType) -> Result<Extra, Errno> {
    let path = view::sysctl::path(name);
    if !path.starts_with("/proc/sys/") || path.contains("..") {
        return Err(Errno::EINVAL);
    }
    let mut extra = Extra::new();
    if !std::path::Path::new(&path).exists() {
        extra.insert("missing".into(), name.into());
        return Ok(extra);
    }
    guard::ensure(ty)?;
    std::fs::write(&path, format!("{value}\n")).map_err(io_errno)?;
    let back = std::fs::read_to_string(&path).map_err(io_errno)?;
    extra.insert("value".into(), back.trim_end_matches('\n').into());
    Ok(extra)
}
