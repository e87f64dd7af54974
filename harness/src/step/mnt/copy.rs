//! `copy_table`: a new mount namespace starts with a copy of its creator's
//! mount table (mount_namespaces(7)): the same mount points, in the same
//! order, on the same filesystems, as new mounts with new ids.

use std::collections::BTreeSet;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use serde_json::json;

use super::helper::PATIENCE;
use crate::step::Extra;
use crate::sys::helper::in_child;
use crate::view::mnt::{read_mountinfo, Mount};

/// The helper's mount table, as sent back.
fn copied() -> Result<Vec<Mount>, Errno> {
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)?;
    Ok(read_mountinfo())
}

/// The mount points of `mounts` in order, with their filesystem and root.
fn shape(mounts: &[Mount]) -> Vec<(String, String, String, String)> {
    mounts
        .iter()
        .map(|m| {
            (
                m.mount_point.clone(),
                m.fstype.clone(),
                m.source.clone(),
                m.root.clone(),
            )
        })
        .collect()
}

pub fn perform() -> Result<Extra, Errno> {
    let here = read_mountinfo();
    let there = in_child(PATIENCE, copied)?;
    let ids: BTreeSet<u32> = here.iter().map(|m| m.id).collect();
    let common = there.iter().filter(|m| ids.contains(&m.id)).count();
    let points =
        |ms: &[Mount]| -> BTreeSet<String> { ms.iter().map(|m| m.mount_point.clone()).collect() };
    let (p_here, p_there) = (points(&here), points(&there));
    let mut extra = Extra::new();
    extra.insert("mounts".into(), here.len().into());
    extra.insert("copied".into(), there.len().into());
    extra.insert("ids_in_common".into(), common.into());
    extra.insert(
        "only_here".into(),
        json!(p_here.difference(&p_there).collect::<Vec<_>>()),
    );
    extra.insert(
        "only_there".into(),
        json!(p_there.difference(&p_here).collect::<Vec<_>>()),
    );
    extra.insert("same_shape".into(), (shape(&here) == shape(&there)).into());
    Ok(extra)
}
