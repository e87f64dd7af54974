//! `sibling_maps`: userns03 as LTP runs it. Two sibling helpers each
//! unshare a user namespace; the step maps one inside id of each to its own
//! uid and gid; then the first helper's maps are read by itself, by its
//! sibling and by the step. user_namespaces(7): the outside id is relative
//! to the parent namespace for a reader in the same namespace as the
//! process, and to the reader's own namespace otherwise.

use std::time::Duration;

use nix::errno::Errno;
use nix::unistd::Pid;
use serde_json::{json, Value};

use super::{ensure_user_of, rearm, unshare_user};
use crate::guard::Origin;
use crate::plan::user::SiblingMaps;
use crate::step::Extra;
use crate::sys::errno::io_errno;
use crate::sys::helper::{self, Helper};
use crate::view::user::parse_id_map;

const LIMIT: Duration = Duration::from_secs(4);

/// The uid and gid maps of `pid` as the caller reads them.
fn maps_of(pid: &str) -> Result<Value, Errno> {
    let read = |file: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .map(|t| json!(parse_id_map(&t)))
            .map_err(io_errno)
    };
    Ok(json!({"uid_map": read("uid_map")?, "gid_map": read("gid_map")?}))
}

/// Write `inside <uid> 1` and `inside <gid> 1` for `pid` (setgroups denied
/// first), each write guarded by the helper's user namespace.
fn write_maps(origin: &Origin, pid: Pid, inside: u32) -> Result<(), Errno> {
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    for (file, text) in [
        ("setgroups", "deny".to_string()),
        ("uid_map", format!("{inside} {uid} 1")),
        ("gid_map", format!("{inside} {gid} 1")),
    ] {
        ensure_user_of(origin, pid)?;
        std::fs::write(format!("/proc/{pid}/{file}"), text).map_err(io_errno)?;
    }
    Ok(())
}

/// A helper in a new user namespace that, once mapped, reads the maps of
/// `whose` (`self` or a pid), then waits to be let go.
fn spawn_reader(whose: Option<Pid>) -> Result<Helper<Value>, Errno> {
    helper::spawn(LIMIT, move |ch| {
        unshare_user()?;
        rearm();
        ch.ready();
        if !ch.wait_go() {
            return Err(Errno::ETIMEDOUT);
        }
        let who = whose.map_or("self".to_string(), |p| p.to_string());
        let maps = maps_of(&who)?;
        ch.ready();
        ch.wait_go();
        Ok(maps)
    })
}

pub fn sibling_maps(s: &SiblingMaps, origin: &Origin) -> Result<Extra, Errno> {
    let first = spawn_reader(None)?;
    let second = spawn_reader(Some(first.pid()))?;
    first.wait_ready()?;
    second.wait_ready()?;
    write_maps(origin, first.pid(), s.first)?;
    write_maps(origin, second.pid(), s.second)?;
    first.go();
    first.wait_ready()?;
    second.go();
    second.wait_ready()?;
    let from_parent = maps_of(&first.pid().to_string())?;
    second.go();
    first.go();
    let mut extra = Extra::new();
    extra.insert("uid".into(), nix::unistd::geteuid().as_raw().into());
    extra.insert("gid".into(), nix::unistd::getegid().as_raw().into());
    extra.insert("own".into(), first.finish()?);
    extra.insert("sibling".into(), second.finish()?);
    extra.insert("parent".into(), from_parent);
    Ok(extra)
}
