//! Writing uid and gid maps: by the parent for a child in a new user
//! namespace, or by the probe for itself when it runs rootless.

use std::path::Path;

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::guard;
use crate::kind::NsType;
use crate::plan::{CallerTag, MapLine, Outside, Setgroups, UserSettings};
use crate::view::ns::{self, NsId};

/// A failed write: which file, and the errno.
#[derive(Debug, Clone)]
pub struct MapError {
    pub file: String,
    pub errno: Errno,
}

fn write(path: &Path, data: &str) -> Result<(), MapError> {
    std::fs::write(path, data).map_err(|e| MapError {
        file: path.display().to_string(),
        errno: crate::sys::errno::io_errno(e),
    })
}

pub use crate::plan::render_map as render;

/// Whether the caller has CAP_SETGID in its own user namespace, which lets
/// it write a gid map without denying setgroups first.
fn can_setgid() -> bool {
    caps::has_cap(None, caps::CapSet::Effective, caps::Capability::CAP_SETGID).unwrap_or(false)
}

/// Refuse, sending the guard's event, unless the user namespace of
/// process `pid` differs from `before`: a user namespace the caller meant to
/// leave (its own, or the one it was in before unshare(2)).
fn ensure_new(pid: &str, before: Option<NsId>) -> Result<(), MapError> {
    let now = ns::id_of(pid, "user");
    if now.is_some() && before.is_some() && now != before {
        return Ok(());
    }
    let message =
        format!("namespace not isolated: the user namespace of process {pid} is not new ({now:?})");
    Err(MapError {
        file: format!("/proc/{pid}/ns/user"),
        errno: guard::refuse(NsType::User, message).into(),
    })
}

/// Write setgroups, uid_map and gid_map of process `pid` (in a new user
/// namespace) from `settings`. Without maps, 0 inside maps to `caller`.
/// Each write is refused unless `pid` is in a user namespace other than
/// the caller's (the caller has checked it against the probe's origin).
pub fn write_for(pid: Pid, settings: &UserSettings, caller: (u32, u32)) -> Result<(), MapError> {
    if settings.unmapped {
        return Ok(());
    }
    let target = pid.as_raw().to_string();
    let own = ns::id_of("self", "user");
    let dir = Path::new("/proc").join(&target);
    let default = [MapLine(0, Outside::Caller(CallerTag::Caller), 1)];
    let uid_map = render(settings.uid_map.as_deref().unwrap_or(&default), caller.0);
    let gid_map = render(settings.gid_map.as_deref().unwrap_or(&default), caller.1);
    let setgroups = settings
        .setgroups
        .or((!can_setgid()).then_some(Setgroups::Deny));
    if let Some(value) = setgroups {
        let word = match value {
            Setgroups::Allow => "allow",
            Setgroups::Deny => "deny",
        };
        ensure_new(&target, own)?;
        write(&dir.join("setgroups"), word)?;
    }
    ensure_new(&target, own)?;
    write(&dir.join("uid_map"), &uid_map)?;
    ensure_new(&target, own)?;
    write(&dir.join("gid_map"), &gid_map)
}

/// Enter a new user namespace in which the caller is root: how the probe
/// runs a trial when the suite runs as an ordinary user.
pub fn enter_outer() -> Result<(), MapError> {
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    // The probe's origin is recorded only once it is in there: compare
    // with the user namespace it was in before.
    let before = ns::id_of("self", "user");
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).map_err(|errno| MapError {
        file: "unshare(CLONE_NEWUSER)".into(),
        errno,
    })?;
    let me = Path::new("/proc/self");
    ensure_new("self", before)?;
    write(&me.join("setgroups"), "deny")?;
    ensure_new("self", before)?;
    write(&me.join("uid_map"), &format!("0 {uid} 1\n"))?;
    ensure_new("self", before)?;
    write(&me.join("gid_map"), &format!("0 {gid} 1\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn refuses_a_user_namespace_that_is_not_new() {
        let own = ns::id_of("self", "user");
        assert!(own.is_some());
        let refusals = guard::sent();
        assert!(ensure_new("self", own).is_err());
        assert_eq!(
            guard::sent(),
            refusals + 1,
            "the refusal is sent as an event"
        );
        assert!(ensure_new("self", None).is_err());
        let other = Some(NsId { ino: 1, dev: 1 });
        assert!(ensure_new("self", other).is_ok());
    }

    #[rstest]
    #[case(vec![MapLine(0, Outside::Caller(CallerTag::Caller), 1)], 1000, "0 1000 1\n")]
    #[case(vec![MapLine(0, Outside::Id(100000), 65536)], 7, "0 100000 65536\n")]
    #[case(vec![MapLine(0, Outside::Id(0), 1), MapLine(1, Outside::Id(10), 5)], 0, "0 0 1\n1 10 5\n")]
    fn renders_map_lines(#[case] lines: Vec<MapLine>, #[case] caller: u32, #[case] text: &str) {
        assert_eq!(render(&lines, caller), text);
    }
}
