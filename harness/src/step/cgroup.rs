//! Carrying out the steps of plan::cgroup: cgroups of the step's own in the
//! cgroup2 hierarchy, kept by a guardian that removes them even when the
//! probe is killed, and processes the step forked moved into them.
//!
//! These cgroups are in the host's hierarchy by design. The step touches
//! only cgroups it created itself ([`Own`], made only by the guardian's
//! mkdir), with names no one else uses (pid, counter and random bits); a
//! name that exists already is left alone and forgotten. Mounts are made
//! only in a mount namespace the guard found is not the host's.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::sys::clone::CloneArgs;
use crate::sys::errno::io_errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use serde_json::{json, Map, Value};

use super::{Extra, StepEnv};
use crate::guard;
use crate::kind::NsType;
use crate::plan::cgroup::{CgroupStep, Via};
use crate::sys::helper::{self, in_child, Channel, Helper, Start};
use crate::sys::pipe::{self, Pipe};
use crate::sys::process::{self, Forked};
use crate::view::{cgroup as cview, mnt};

const NEWCGROUP: i32 = libc::CLONE_NEWCGROUP;

/// How long a step waits for its processes, and the guardian for the
/// cgroups to empty.
const LIMIT: Duration = Duration::from_secs(3);

/// Where the nested process mounts cgroup2, in a mount namespace of its own.
const MOUNT_AT: &str = "/tmp";

/// Numbers the step's cgroups within the probe process.
static NEXT: AtomicU32 = AtomicU32::new(1);

pub fn perform(step: &CgroupStep, env: &StepEnv) -> Result<Extra, Errno> {
    // In a new pid namespace the guardian would die with its init, and the
    // cgroups would outlive a killed probe: refuse.
    if env.origin.check(NsType::Pid).is_ok() {
        return Err(Errno::ENOTSUP);
    }
    let base = locate(env)?;
    let mut guardian = Guardian::start()?;
    let result = match step {
        CgroupStep::Nested { via, mount } => nested(&mut guardian, &base, *via, *mount),
        CgroupStep::CloneInto { newcgroup } => clone_into(&mut guardian, &base, *newcgroup),
    };
    guardian.finish();
    result
}

/// The cgroup v2 path of process `pid` (`self` for the caller), relative to
/// the caller's cgroup namespace root.
fn v2_path(pid: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    cview::parse_cgroup(&text)
        .into_iter()
        .find(|l| l.hierarchy == 0)
        .map(|l| l.path)
}

/// The directory of cgroup `path` in a cgroup2 mount of `mounts` whose root
/// is `path` or above it (both relative to the same cgroup namespace).
fn dir_in_mount(path: &str, mounts: &[mnt::Mount]) -> Option<PathBuf> {
    mounts
        .iter()
        .filter(|m| m.fstype == "cgroup2")
        .find_map(|m| {
            let root = m.root.trim_end_matches('/');
            let rest = path.strip_prefix(root)?;
            if !rest.is_empty() && !rest.starts_with('/') {
                return None;
            }
            let point = m.mount_point.trim_end_matches('/');
            Some(PathBuf::from(format!("{point}{rest}")))
        })
}

/// The directory of the caller's own cgroup. Seen from a new cgroup
/// namespace the hierarchy's mount may lie above the root (`/..`); then a
/// helper joins the supervisor's cgroup namespace to find it.
fn locate(env: &StepEnv) -> Result<PathBuf, Errno> {
    let path = v2_path("self").ok_or(Errno::ENOENT)?;
    if let Some(dir) = dir_in_mount(&path, &mnt::read_mountinfo()) {
        return Ok(dir);
    }
    let me = nix::unistd::getpid();
    let supervisor = env.supervisor;
    let found = in_child(LIMIT, || {
        let ns = File::open(format!("/proc/{supervisor}/ns/cgroup")).map_err(io_errno)?;
        nix::sched::setns(&ns, CloneFlags::from_bits_retain(NEWCGROUP))?;
        let path = v2_path(&me.to_string()).ok_or(Errno::ENOENT)?;
        let dir = dir_in_mount(&path, &mnt::read_mountinfo()).ok_or(Errno::ENOENT)?;
        let mut extra = Extra::new();
        extra.insert("dir".into(), dir.display().to_string().into());
        Ok(extra)
    })?;
    match found.get("dir") {
        Some(Value::String(d)) => Ok(PathBuf::from(d)),
        _ => Err(Errno::ENOENT),
    }
}

/// Remove `dir`, retrying while it is busy (its last processes exiting)
/// until `deadline`: each retry waits for the kernel to notify a change of
/// the cgroup's `cgroup.events` (`populated 0` once they are gone).
fn remove_dir(dir: &Path, deadline: Instant) {
    let events = File::open(dir.join("cgroup.events")).ok();
    loop {
        match std::fs::remove_dir(dir).map_err(io_errno) {
            Err(Errno::EBUSY) if Instant::now() < deadline => {
                if !events.as_ref().is_some_and(|e| emptied_by(e, deadline)) {
                    return;
                }
            }
            _ => return,
        }
    }
}

/// Wait until the cgroup whose `cgroup.events` is `events` has no process
/// left, or `deadline`; whether it has none. A kernfs file is readable with
/// POLLPRI when it changed since it was last read.
fn emptied_by(events: &File, deadline: Instant) -> bool {
    loop {
        let mut text = String::new();
        let read = std::io::Read::read_to_string(&mut &*events, &mut text);
        let _ = std::io::Seek::rewind(&mut &*events);
        if read.is_err() {
            return false;
        }
        if text.lines().any(|l| l == "populated 0") {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd: events.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        };
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one pollfd we own, with a bounded timeout.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            0 => return false,
            -1 if Errno::last() != Errno::EINTR => return false,
            _ => {}
        }
    }
}

/// A cgroup directory the step created itself (only [`Guardian::mkdir`]
/// makes one): the only kind the step moves processes into or removes.
struct Own(PathBuf);

/// A process that outlives the probe's process group (its own session, no
/// parent-death signal) and removes the step's cgroups once the pipe from
/// the step closes, whether the step finished or was killed.
struct Guardian {
    pid: Pid,
    feed: pipe::End,
    dirs: Vec<PathBuf>,
}

/// What the guardian is told: `+dir` before the step creates it, `-dir`
/// when creating it failed (it is not the step's: never remove it).
fn feed_line(made: bool, dir: &Path) -> String {
    format!("{}{}\n", if made { '+' } else { '-' }, dir.display())
}

/// The directories the guardian must remove, last made first: those fed
/// with `+` and not taken back with `-`.
fn to_remove(text: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(dir) = line.strip_prefix('+') {
            dirs.push(dir);
        } else if let Some(dir) = line.strip_prefix('-') {
            dirs.retain(|d| *d != dir);
        }
    }
    dirs.iter().rev().map(PathBuf::from).collect()
}

impl Guardian {
    /// Fork the guardian and wait until it has left the probe's session,
    /// so that no kill of the probe's process group can reach it any more.
    fn start() -> Result<Guardian, Errno> {
        let feed = Pipe::new()?;
        let ready = match Pipe::new() {
            Ok(r) => r,
            Err(e) => {
                feed.read.close();
                feed.write.close();
                return Err(e);
            }
        };
        let forked = process::fork_outliving();
        if let Ok(Forked::Child) = forked {
            guardian_main(feed.read.fd(), ready.write.fd());
        }
        feed.read.close();
        ready.write.close();
        let confirmed = forked.is_ok()
            && pipe::readable_by(ready.read.fd(), Instant::now() + LIMIT)
            && pipe::recv_u32(ready.read.fd()).is_some();
        ready.read.close();
        let pid = match forked {
            Ok(Forked::Parent(pid)) => pid,
            Ok(Forked::Child) => process::exit(1),
            Err(e) => {
                feed.write.close();
                return Err(e);
            }
        };
        let guardian = Guardian {
            pid,
            feed: feed.write,
            dirs: Vec::new(),
        };
        if !confirmed {
            guardian.finish();
            return Err(Errno::ECHILD);
        }
        Ok(guardian)
    }

    /// Tell the guardian about `dir`, then create it. When it cannot be
    /// created (it existed already, say) it is not the step's: the
    /// guardian is told to forget it, and nothing touches it.
    fn mkdir(&mut self, dir: &Path) -> Result<Own, Errno> {
        pipe::write_all(self.feed.fd(), feed_line(true, dir).as_bytes())?;
        match std::fs::create_dir(dir).map_err(io_errno) {
            Ok(()) => {
                self.dirs.push(dir.to_path_buf());
                Ok(Own(dir.to_path_buf()))
            }
            Err(e) => {
                // If this write fails, the feed is broken and the guardian
                // removes nothing it was told after the last full line.
                let _ = pipe::write_all(self.feed.fd(), feed_line(false, dir).as_bytes());
                Err(e)
            }
        }
    }

    /// Remove the cgroups, release the guardian and reap it.
    fn finish(self) {
        let deadline = Instant::now() + LIMIT;
        for dir in self.dirs.iter().rev() {
            remove_dir(dir, deadline);
        }
        self.feed.close();
        process::reap_within(self.pid, deadline + LIMIT);
    }
}

fn guardian_main(feed: RawFd, ready: RawFd) -> ! {
    // SAFETY: setsid and close_range take integers and touch no memory; the
    // descriptors closed are this process's copies, used by nothing here.
    unsafe {
        libc::setsid();
    }
    let _ = pipe::send_u32(ready, 1);
    // SAFETY: as above.
    unsafe {
        if feed > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (feed - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (feed + 1) as u32, u32::MAX, 0u32);
    }
    let text = pipe::read_to_end(feed).unwrap_or_default();
    let deadline = Instant::now() + LIMIT;
    let text = String::from_utf8_lossy(&text);
    // A line cut short by a killed step is no instruction.
    let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    for dir in to_remove(whole) {
        remove_dir(&dir, deadline);
    }
    process::exit(0)
}

/// Move process `pid` (a child of the step) into the step's cgroup `dir`.
fn enter(dir: &Own, pid: Pid) -> Result<(), Errno> {
    std::fs::write(dir.0.join("cgroup.procs"), pid.to_string()).map_err(io_errno)
}

/// Eight random bytes from getrandom(2), as hex (zeros if it fails: the
/// pid and counter still make the name the probe's).
fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer we own.
    unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new cgroup name: `nsconform-<pid>-<n>-<random>`.
fn new_name() -> String {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("nsconform-{}-{n}-{}", nix::unistd::getpid(), random_hex())
}

/// What the process in the nested namespace sees.
fn nested_report(sibling: Pid, step: Pid, mount: bool) -> Value {
    let mut m = Map::new();
    m.insert("pid".into(), nix::unistd::getpid().as_raw().into());
    m.insert("self".into(), v2_path("self").into());
    m.insert("sibling".into(), v2_path(&sibling.to_string()).into());
    m.insert("parent".into(), v2_path(&step.to_string()).into());
    if mount {
        match mount_cgroup2() {
            Ok((root, procs)) => {
                let me = nix::unistd::getpid().as_raw().to_string();
                m.insert("mount_root".into(), root.into());
                m.insert("mount_procs".into(), procs.len().into());
                m.insert("mount_procs_self".into(), procs.contains(&me).into());
            }
            Err(e) => {
                m.insert("mount_errno".into(), format!("{e:?}").into());
            }
        }
    }
    Value::Object(m)
}

/// In a new mount namespace: make every mount private, mount cgroup2 on
/// MOUNT_AT, and say its mountinfo root and the pids its cgroup.procs lists.
fn mount_cgroup2() -> Result<(Option<String>, Vec<String>), Errno> {
    use nix::mount::{mount, MsFlags};
    let none: Option<&str> = None;
    // The namespace was made by unshare, setns or clone just before; in
    // the host's, this would change the propagation of every host mount.
    guard::ensure(NsType::Mnt)?;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)?;
    guard::ensure(NsType::Mnt)?;
    mount(
        Some("cgroup2"),
        MOUNT_AT,
        Some("cgroup2"),
        MsFlags::empty(),
        none,
    )?;
    let procs = std::fs::read_to_string(format!("{MOUNT_AT}/cgroup.procs")).map_err(io_errno)?;
    let procs = procs.lines().map(str::to_string).collect();
    Ok((mount_root(&mnt::read_mountinfo()), procs))
}

/// The root field of the last cgroup2 mount on MOUNT_AT.
fn mount_root(mounts: &[mnt::Mount]) -> Option<String> {
    mounts
        .iter()
        .rev()
        .find(|m| m.fstype == "cgroup2" && m.mount_point == MOUNT_AT)
        .map(|m| m.root.clone())
}

fn errno_line(e: Errno) -> Value {
    json!({ "errno": format!("{e:?}") })
}

/// The worker, once the step has moved it: enter a new cgroup namespace by
/// `via`, then be (or clone) the nested process, which tells its report
/// and is held until the step has looked at it from outside.
fn worker(ch: &Channel<Value>, via: Via, holder: Option<Pid>, from: (Pid, Pid), mount: bool) {
    if !ch.wait_go() {
        return;
    }
    let (sibling, step) = from;
    let newns = if mount { libc::CLONE_NEWNS } else { 0 };
    let entered = match via {
        Via::Unshare => nix::sched::unshare(CloneFlags::from_bits_retain(NEWCGROUP | newns)),
        Via::Setns => setns_holder(holder, newns),
        Via::Clone | Via::Clone3 => {
            let flags = (NEWCGROUP | newns) as u64;
            let args = CloneArgs::new(flags);
            let start = match via {
                Via::Clone3 => Start::Clone3(&args),
                _ => Start::Clone(flags),
            };
            let nested = helper::spawn_telling(start, LIMIT, |inner| {
                inner.hold(&nested_report(sibling, step, mount));
                Ok(())
            });
            match nested.and_then(|n| n.wait_value().map(|report| (n, report))) {
                Ok((n, report)) => {
                    ch.hold(&report);
                    let _ = n.release();
                }
                Err(e) => ch.tell(&errno_line(e)),
            }
            return;
        }
    };
    match entered {
        Ok(()) => drop(ch.hold(&nested_report(sibling, step, mount))),
        Err(e) => ch.tell(&errno_line(e)),
    }
}

fn setns_holder(holder: Option<Pid>, newns: i32) -> Result<(), Errno> {
    let holder = holder.ok_or(Errno::ESRCH)?;
    let ns = File::open(format!("/proc/{holder}/ns/cgroup")).map_err(io_errno)?;
    nix::sched::setns(&ns, CloneFlags::from_bits_retain(NEWCGROUP))?;
    if newns != 0 {
        nix::sched::unshare(CloneFlags::from_bits_retain(newns))?;
    }
    Ok(())
}

/// A process of the nested scenario that first closes its copy of the
/// guardian's `feed` (which no child keeps), then runs `body`.
fn member<T: serde::Serialize, V: serde::Serialize>(
    feed: RawFd,
    body: impl FnOnce(&Channel<V>) -> T,
) -> Result<Helper<T, V>, Errno> {
    helper::spawn_telling(Start::Fork, LIMIT, |ch| {
        process::drop_inherited(&[feed]);
        Ok(body(ch))
    })
}

/// Start the holder of the setns variant in `dir`: once moved there, it
/// unshares a cgroup namespace and is held.
fn start_holder(feed: RawFd, dir: &Own) -> Result<Helper<()>, Errno> {
    let holder = member(feed, |ch: &Channel| {
        if ch.wait_go() && nix::sched::unshare(CloneFlags::from_bits_retain(NEWCGROUP)).is_ok() {
            ch.ready();
            ch.wait_go();
        }
    })?;
    enter(dir, holder.pid())?;
    holder.go();
    holder.wait_ready().map_err(|_| Errno::ECHILD)?;
    Ok(holder)
}

/// Run the nested scenario with cgroups `a` and `b`.
fn run_nested(feed: RawFd, dirs: (&Own, &Own), via: Via, mount: bool) -> Result<Extra, Errno> {
    let step = nix::unistd::getpid();
    let sibling = member(feed, |ch: &Channel| ch.wait_go())?;
    enter(dirs.1, sibling.pid())?;
    let holder = match via {
        Via::Setns => Some(start_holder(feed, dirs.0)?),
        _ => None,
    };
    let holder_pid = holder.as_ref().map(Helper::pid);
    let from = (sibling.pid(), step);
    let worker = member(feed, |ch| worker(ch, via, holder_pid, from, mount))?;
    enter(dirs.0, worker.pid())?;
    worker.go();
    let Value::Object(mut extra) = worker.wait_value()? else {
        return Err(Errno::EIO);
    };
    if let Some(Value::String(e)) = extra.get("errno") {
        return Err(crate::sys::errno::by_name(e));
    }
    let nested = extra.get("pid").and_then(Value::as_i64).unwrap_or(0);
    extra.insert("outside".into(), v2_path(&nested.to_string()).into());
    if mount {
        let mounts = std::fs::read_to_string(format!("/proc/{nested}/mountinfo"))
            .map(|t| mnt::parse_mountinfo(&t))
            .unwrap_or_default();
        extra.insert("mount_root_outside".into(), mount_root(&mounts).into());
    }
    extra.remove("pid");
    let _ = worker.release();
    let _ = holder.map(Helper::release);
    let _ = sibling.release();
    Ok(extra)
}

fn nested(g: &mut Guardian, base: &Path, via: Via, mount: bool) -> Result<Extra, Errno> {
    let (a, b) = (new_name(), new_name());
    let dir_a = g.mkdir(&base.join(&a))?;
    let dir_b = g.mkdir(&base.join(&b))?;
    let mut extra = run_nested(g.feed.fd(), (&dir_a, &dir_b), via, mount)?;
    extra.insert("a".into(), a.into());
    extra.insert("b".into(), b.into());
    Ok(extra)
}

fn clone_into(g: &mut Guardian, base: &Path, newcgroup: bool) -> Result<Extra, Errno> {
    let a = new_name();
    let dir = g.mkdir(&base.join(&a))?;
    let target = File::open(&dir.0).map_err(io_errno)?;
    let flags = if newcgroup { NEWCGROUP as u64 } else { 0 };
    let args = CloneArgs::new(flags).into_cgroup(target.as_raw_fd());
    // The child says where it sees itself, and lives on until the step has
    // looked at it from outside.
    let child = helper::spawn_as(Start::Clone3(&args), LIMIT, |ch| {
        let path = v2_path("self");
        ch.ready();
        ch.wait_go();
        Ok(path)
    })?;
    child.wait_ready()?;
    let outside = v2_path(&child.pid().to_string());
    child.go();
    let path = child.finish()?;
    let mut extra = Extra::new();
    extra.insert("path".into(), path.into());
    extra.insert("outside".into(), outside.into());
    extra.insert("a".into(), a.into());
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const MOUNTS: &str = "\
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
    const ABOVE: &str = "\
41 31 0:38 /.. /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
    const BELOW: &str = "\
41 31 0:38 /a /mnt rw - cgroup2 cgroup2 rw\n";

    #[rstest]
    #[case(MOUNTS, "/", Some("/sys/fs/cgroup/unified/"))]
    #[case(MOUNTS, "/a/b", Some("/sys/fs/cgroup/unified/a/b"))]
    #[case(ABOVE, "/", None)]
    #[case(BELOW, "/a/b", Some("/mnt/b"))]
    #[case(BELOW, "/ab", None)]
    #[case("", "/", None)]
    fn finds_dir(#[case] mounts: &str, #[case] path: &str, #[case] want: Option<&str>) {
        let got = dir_in_mount(path, &mnt::parse_mountinfo(mounts));
        assert_eq!(got, want.map(PathBuf::from));
    }

    #[test]
    fn the_guardian_forgets_what_the_step_did_not_make() {
        let text = "+/c/a\n+/c/b\n-/c/b\n+/c/d\n";
        assert_eq!(
            to_remove(text),
            [PathBuf::from("/c/d"), PathBuf::from("/c/a")]
        );
        assert_eq!(feed_line(false, Path::new("/c/b")), "-/c/b\n");
        assert!(to_remove("").is_empty());
    }

    #[test]
    fn names_are_unique() {
        assert_ne!(new_name(), new_name());
        assert!(new_name().starts_with(&format!("nsconform-{}-", std::process::id())));
    }
}
