//! File steps: stat(2) of a path, to see which ids its owner maps to.

use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;

use super::Extra;

pub fn stat(path: &str) -> Result<Extra, Errno> {
    let meta = std::fs::metadata(path).map_err(crate::sys::errno::io_errno)?;
    let mut extra = Extra::new();
    extra.insert("uid".into(), meta.uid().into());
    extra.insert("gid".into(), meta.gid().into());
    extra.insert("mode".into(), format!("{:o}", meta.mode() & 0o7777).into());
    Ok(extra)
}
