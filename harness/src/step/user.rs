//! Carrying out the steps of plan::user. Each step forks a helper and lets
//! it make the nested user namespaces, so that the process running the step
//! keeps its own namespaces and credentials; every helper is reaped within a
//! deadline, and killed if it overruns it.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::sync::OnceLock;
use std::time::Duration;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod sibling;

use super::{Extra, StepEnv};
use crate::guard::{self, Origin};
use crate::kind::NsType;
use crate::plan::user::{
    self, Call, MapWrite, SetnsTarget, UserStep, WriteMaps, Writer, SELF_STATUS_ARG,
};
use crate::plan::{MapLine, Setgroups};
use crate::sys::errno::io_errno;
use crate::sys::helper::{self, Channel, Start};
use crate::sys::pipe;
use crate::sys::process;
use crate::view::user::{parse_caps, parse_id_map, parse_setgroups};

/// How long a step's helper may take in all.
const HELPER_TIME: Duration = Duration::from_secs(8);
/// How long the nested child of `write_maps` may take.
const CHILD_TIME: Duration = Duration::from_secs(4);

pub fn perform(step: &UserStep, env: &StepEnv) -> Result<Extra, Errno> {
    match step {
        UserStep::WriteMaps(w) => helper::in_child(HELPER_TIME, || write_maps(w, env.origin)),
        UserStep::Nest(n) => {
            let start = own_level(env.origin);
            helper::in_child(HELPER_TIME, || nest(n.max, start))
        }
        UserStep::UnshareThreaded(_) => helper::in_child(HELPER_TIME, unshare_threaded),
        UserStep::UnshareFlags(u) => {
            let bits = user::flag_bits(&u.flags).ok_or(Errno::EINVAL)?;
            helper::in_child(HELPER_TIME, || unshare_flags(bits, u.call))
        }
        UserStep::SetnsTo(SetnsTarget::Sibling) => helper::in_child(HELPER_TIME, setns_to_sibling),
        UserStep::SiblingMaps(m) => sibling::sibling_maps(m, env.origin),
        UserStep::SetnsTo(target) => {
            let parent = File::open("/proc/self/ns/user").map_err(io_errno)?;
            helper::in_child(HELPER_TIME, || setns_to(&parent, *target))
        }
    }
}

/// The nsfs inode of the initial user namespace (PROC_USER_INIT_INO, fixed
/// since Linux 3.8).
const INITIAL_USER_INO: u64 = 0xEFFF_FFFD;

/// The level of the user namespace the probe started in (the initial one
/// is 0), counting the one it entered first for a rootless run; unknown
/// (None) unless it started in the initial user namespace, since nsfs
/// shows no namespace above the caller's own (NS_GET_PARENT gives EPERM).
static START_LEVEL: OnceLock<Option<u32>> = OnceLock::new();

/// Record where the probe starts, before it enters any user namespace
/// (`outer_userns`: it will enter one first, one level down).
pub fn remember_start_level(outer_userns: bool) {
    let initial =
        crate::view::ns::id_of("self", "user").is_some_and(|id| id.ino == INITIAL_USER_INO);
    let _ = START_LEVEL.set(initial.then_some(u32::from(outer_userns)));
}

/// The level of the caller's user namespace, where it can be known: the
/// start's, one deeper when the door made a new one (a door makes at most one).
fn own_level(origin: &Origin) -> Option<u32> {
    let start = START_LEVEL.get().copied().flatten()?;
    Some(start + u32::from(origin.check(NsType::User).is_ok()))
}

fn unshare_user() -> Result<(), Errno> {
    nix::sched::unshare(CloneFlags::CLONE_NEWUSER)
}

/// Make this process dumpable again (a change of ids clears it, which
/// gives its `/proc` files to root) and dying with its parent again.
fn rearm() {
    // SAFETY: prctl with plain integer arguments; no memory is passed.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
    process::rearm_deathsig();
}

/// Take on the writer's ids and capabilities.
fn become_writer(w: &Writer) -> Result<(), Errno> {
    if let Some(g) = w.gid {
        let g = nix::unistd::Gid::from_raw(g);
        nix::unistd::setresgid(g, g, g)?;
    }
    if let Some(u) = w.uid {
        let u = nix::unistd::Uid::from_raw(u);
        nix::unistd::setresuid(u, u, u)?;
    }
    crate::sys::process::rearm_deathsig();
    if w.drop_caps {
        let keep: caps::CapsHashSet = w.keep.iter().filter_map(|c| c.parse().ok()).collect();
        for set in [caps::CapSet::Effective, caps::CapSet::Permitted] {
            caps::set(None, set, &keep).map_err(|_| Errno::EPERM)?;
        }
    }
    rearm();
    Ok(())
}

/// Map lines as the kernel reads them, `caller` resolved to `caller`.
fn render(lines: &[MapLine], caller: u32) -> String {
    crate::plan::render_map(lines, caller)
}

/// `n` lines `i i 1`.
fn identity(n: u32) -> String {
    (0..n).map(|i| format!("{i} {i} 1\n")).collect()
}

/// The text of one write, and the file it goes to.
fn write_text(write: &MapWrite, caller: (u32, u32)) -> String {
    match write {
        MapWrite::Setgroups(Setgroups::Allow) => "allow".into(),
        MapWrite::Setgroups(Setgroups::Deny) => "deny".into(),
        MapWrite::UidMap(lines) => render(lines, caller.0),
        MapWrite::GidMap(lines) => render(lines, caller.1),
        MapWrite::UidMapIdentity(n) | MapWrite::GidMapIdentity(n) => identity(*n),
    }
}

/// Refuse unless process `pid` is out of the user namespace the probe
/// started in: its maps and setgroups would be the host's otherwise.
fn ensure_user_of(origin: &Origin, pid: Pid) -> Result<(), Errno> {
    Ok(guard::require(
        NsType::User,
        origin.check_process(NsType::User, pid.as_raw()),
    )?)
}

/// Carry out the writes to `/proc/<pid>/`, each with its result; each
/// write is guarded by the user namespace of `pid`.
fn do_writes(
    origin: &Origin,
    pid: Pid,
    writes: &[MapWrite],
    caller: (u32, u32),
) -> Result<Vec<Value>, Errno> {
    let mut out = Vec::new();
    for w in writes {
        let path = format!("/proc/{pid}/{}", w.file());
        ensure_user_of(origin, pid)?;
        out.push(match std::fs::write(&path, write_text(w, caller)) {
            Ok(()) => json!({ "file": w.file(), "ok": true }),
            Err(e) => json!({ "file": w.file(), "errno": crate::sys::errno::name(io_errno(e)) }),
        });
    }
    Ok(out)
}

fn read_map(path: &str) -> Value {
    match std::fs::read_to_string(path) {
        Ok(text) => json!(parse_id_map(&text)),
        Err(_) => Value::Null,
    }
}

/// What the nested child reports about itself, once the maps are written.
fn child_report() -> Value {
    let ids = nix::unistd::getresuid().ok();
    let gids = nix::unistd::getresgid().ok();
    let [cap_effective, cap_permitted, _] = std::fs::read_to_string("/proc/self/status")
        .map(|t| parse_caps(&t))
        .unwrap_or_default();
    let parent = nix::unistd::getppid();
    let root = nix::sys::stat::stat("/").ok();
    json!({
        "uid": ids.map(|r| r.real.as_raw()),
        "euid": ids.map(|r| r.effective.as_raw()),
        "gid": gids.map(|r| r.real.as_raw()),
        "egid": gids.map(|r| r.effective.as_raw()),
        "cap_effective": cap_effective,
        "cap_permitted": cap_permitted,
        "uid_map": read_map("/proc/self/uid_map"),
        "gid_map": read_map("/proc/self/gid_map"),
        "parent_uid_map": read_map(&format!("/proc/{parent}/uid_map")),
        "parent_gid_map": read_map(&format!("/proc/{parent}/gid_map")),
        "root_owner": root.map(|s| json!({ "uid": s.st_uid, "gid": s.st_gid })),
    })
}

/// The probe run again after execve(2), in a child of the nested process
/// (with its ids and capabilities): the status text it prints.
fn status_after_exec() -> Option<String> {
    let mut cmd = std::process::Command::new("/proc/self/exe");
    cmd.arg0("nsconform-probe").arg(SELF_STATUS_ARG);
    crate::sys::command::output(&mut cmd)
        .ok()
        .map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// What the nested child of `write_maps` answers.
#[derive(Serialize, Deserialize)]
struct Nested {
    child: Value,
    /// The status of the probe run again, when the step asks for an exec.
    after_exec: Option<String>,
}

/// The nested child: unshare, say ready, wait for go, report, maybe exec.
fn nested_child(ch: &Channel, exec: bool) -> Result<Nested, Errno> {
    unshare_user()?;
    rearm();
    ch.ready();
    if !ch.wait_go() {
        return Err(Errno::ECHILD);
    }
    Ok(Nested {
        child: child_report(),
        after_exec: exec.then(status_after_exec).flatten(),
    })
}

/// The writer's side of `write_maps`.
fn write_maps(w: &WriteMaps, origin: &Origin) -> Result<Extra, Errno> {
    if let Some(writer) = &w.writer {
        become_writer(writer)?;
    }
    let caller = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    let h = helper::spawn(CHILD_TIME, |ch| nested_child(ch, w.exec))?;
    let mut extra = Extra::new();
    let mut refused = Ok(());
    if h.wait_ready().is_ok() {
        match do_writes(origin, h.pid(), &w.writes, caller) {
            Ok(writes) => {
                extra.insert("writes".into(), writes.into());
                read_back(h.pid(), &mut extra);
                h.go();
            }
            Err(e) => refused = Err(e),
        }
    }
    let nested = h.finish();
    refused?;
    take_report(nested?, &mut extra);
    Ok(extra)
}

/// The maps and setgroups of process `pid`, as the writer reads them back.
fn read_back(pid: Pid, extra: &mut Extra) {
    for file in ["uid_map", "gid_map"] {
        extra.insert(file.into(), read_map(&format!("/proc/{pid}/{file}")));
    }
    let sg = std::fs::read_to_string(format!("/proc/{pid}/setgroups")).ok();
    extra.insert(
        "setgroups".into(),
        json!(sg.and_then(|t| parse_setgroups(&t))),
    );
}

/// Put the nested child's report (and, after an exec, the capabilities
/// of the probe run again) into `extra`.
fn take_report(nested: Nested, extra: &mut Extra) {
    extra.insert("child".into(), nested.child);
    if let Some(status) = nested.after_exec.filter(|s| !s.is_empty()) {
        let [eff, prm, _] = parse_caps(&status);
        extra.insert(
            "after_exec".into(),
            json!({ "cap_effective": eff, "cap_permitted": prm }),
        );
    }
}

/// Create user namespaces one inside the other, mapping 0 in each to the
/// ids the process had in the one before.
/// `start` is the level the caller's namespace is at, when known: the step
/// says then the level of the deepest namespace made (`deepest`).
fn nest(max: u32, start: Option<u32>) -> Result<Extra, Errno> {
    let mut extra = Extra::new();
    extra.insert("start_level".into(), json!(start));
    for level in 0..max {
        let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
        if let Err(e) = unshare_user() {
            extra.insert("levels".into(), level.into());
            extra.insert("deepest".into(), json!(start.map(|s| s + level)));
            extra.insert("next_errno".into(), crate::sys::errno::name(e).into());
            return Ok(extra);
        }
        guard::ensure(NsType::User)?;
        std::fs::write("/proc/self/setgroups", "deny").map_err(io_errno)?;
        guard::ensure(NsType::User)?;
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1\n")).map_err(io_errno)?;
        guard::ensure(NsType::User)?;
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1\n")).map_err(io_errno)?;
    }
    extra.insert("levels".into(), max.into());
    extra.insert("deepest".into(), json!(start.map(|s| s + max)));
    extra.insert("next_errno".into(), Value::Null);
    Ok(extra)
}

/// Start a second thread, then try unshare(CLONE_NEWUSER).
fn unshare_threaded() -> Result<Extra, Errno> {
    let (reader, writer) = pipe::owned()?;
    let thread = std::thread::Builder::new()
        .spawn(move || pipe::wait_closed(reader.as_raw_fd()))
        .map_err(io_errno)?;
    let result = unshare_user();
    drop(writer);
    let _ = thread.join();
    result.map(|()| Extra::new())
}

/// One unshare(2), or one fork-like clone(2), with `bits`.
fn unshare_flags(bits: i32, call: Call) -> Result<Extra, Errno> {
    let mut extra = Extra::new();
    match call {
        Call::Unshare => {
            let before = crate::view::ns::id_of("self", "user");
            nix::sched::unshare(CloneFlags::from_bits_retain(bits))?;
            let after = crate::view::ns::id_of("self", "user");
            // What the unshare made: a new user namespace, or none.
            extra.insert("new_user_ns".into(), (before != after).into());
        }
        Call::Clone => {
            let start = Start::Clone(bits as u64);
            let _ = helper::spawn_as(start, Duration::from_secs(1), |_| Ok(()))?.finish();
        }
    }
    Ok(extra)
}

/// Unshare a user namespace, then setns(2) to `target`.
fn setns_to(parent: &File, target: SetnsTarget) -> Result<Extra, Errno> {
    unshare_user()?;
    let own;
    let fd: &File = match target {
        SetnsTarget::Parent => parent,
        SetnsTarget::Own | SetnsTarget::Sibling => {
            own = File::open("/proc/self/ns/user").map_err(io_errno)?;
            &own
        }
    };
    nix::sched::setns(fd, CloneFlags::CLONE_NEWUSER)?;
    Ok(Extra::new())
}

/// A sibling unshares a user namespace and holds it; the caller opens it,
/// unshares a user namespace of its own, and calls setns(2) to the
/// sibling's. Neither namespace is an ancestor of the other.
fn setns_to_sibling() -> Result<Extra, Errno> {
    let sibling = helper::spawn(Duration::from_secs(1), |ch| {
        unshare_user()?;
        rearm();
        ch.ready();
        ch.wait_go();
        Ok(())
    })?;
    let result = match sibling.wait_ready() {
        Ok(()) => File::open(format!("/proc/{}/ns/user", sibling.pid()))
            .map_err(io_errno)
            .and_then(|theirs| {
                unshare_user()?;
                nix::sched::setns(&theirs, CloneFlags::CLONE_NEWUSER)?;
                Ok(Extra::new())
            }),
        Err(_) => Err(Errno::ECHILD),
    };
    let _ = sibling.finish();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CallerTag, Outside};
    use rstest::rstest;

    #[test]
    fn refuses_maps_of_a_process_in_the_starting_user_namespace() {
        let origin = Origin::here();
        let me = nix::unistd::getpid();
        let refusals = guard::sent();
        assert!(ensure_user_of(&origin, me).is_err());
        assert_eq!(
            guard::sent(),
            refusals + 1,
            "the refusal is sent as an event"
        );
    }

    #[test]
    fn writes_identity_lines() {
        assert_eq!(identity(3), "0 0 1\n1 1 1\n2 2 1\n");
        assert!(identity(341).len() < 4096);
    }

    #[rstest]
    #[case(MapWrite::Setgroups(Setgroups::Deny), "deny")]
    #[case(MapWrite::UidMap(vec![MapLine(0, Outside::Caller(CallerTag::Caller), 1)]), "0 7 1\n")]
    #[case(MapWrite::GidMap(vec![MapLine(1, Outside::Id(5), 2)]), "1 5 2\n")]
    fn renders_writes(#[case] write: MapWrite, #[case] text: &str) {
        assert_eq!(write_text(&write, (7, 8)), text);
    }

    #[test]
    fn reads_a_report_with_exec() {
        let mut extra = Extra::new();
        let nested = Nested {
            child: json!({"uid": 5}),
            after_exec: Some(
                "Name:\tx\nCapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t1\nCapAmb:\t0\n".into(),
            ),
        };
        take_report(nested, &mut extra);
        assert_eq!(extra["child"]["uid"], 5);
        assert!(extra.contains_key("after_exec"));
    }
}
