//! Carrying out the steps of plan::pid. The self-contained steps run their
//! own helpers (`sys::helper`), create any nested pid namespace in those
//! helpers (never in the caller), get their typed answers back, level by
//! level, and reap them with a deadline; the processes that only wait (a
//! tree's members) are started with [`spawn`] and talk over pipes.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::sys::clone::{self, CloneArgs};
use nix::sys::wait::WaitStatus;
use nix::unistd::{getpid, getppid, Pid};
use serde_json::{json, Map, Value};

use super::signal;
use crate::guard;
use crate::kind::NsType;
use crate::plan::pid::{Kill, Killer, Nest, PidStep, Relative, SetTid, Target, Tree, MAX_NEST};
use crate::step::{Extra, StepEnv};
use crate::sys::board::{Board, Gate};
use crate::sys::helper::{self, Start};
use crate::sys::process::{self, Forked};

/// A helper that is the init of a new pid namespace.
pub(super) const NEW_PID: Start = Start::Clone(libc::CLONE_NEWPID as u64);

/// How long a step waits for its helpers, all told.
pub(super) const PATIENCE: Duration = Duration::from_secs(5);

pub fn perform(step: &PidStep, env: &StepEnv) -> Result<Extra, Errno> {
    match step {
        PidStep::Kill(k) => kill(k, env),
        PidStep::Nest(n) => nest(n),
        PidStep::KillInitTree(t) => kill_init_tree(t),
        PidStep::KillChain(c) => super::chain::kill_chain(c),
        PidStep::ForkAfterInitExit(_) => fork_after_init_exit(),
        PidStep::SignalFromParent(_) => signal_from_parent(),
        PidStep::Orphan(_) => orphan(),
        PidStep::Unshare(_) => unshare(),
        PidStep::SetTid(s) => set_tid(s),
        PidStep::SignalSelf(_) => signal::signal_self(),
        PidStep::Sigio(s) => signal::sigio(s),
        PidStep::MqNotify(m) => signal::mq_notify(m),
        PidStep::PidMax(p) => super::pid_max::pid_max(p),
        PidStep::InitViaSetns(_) => super::setns_init::init_via_setns(),
    }
}

/// How a helper is made.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum How {
    /// fork(2); the child dies with its parent.
    Fork,
    /// fork(2), and the child outlives its parent (for what must see the
    /// kernel, not PR_SET_PDEATHSIG, end a process).
    Loose,
    /// clone(CLONE_NEWPID): the child is the init of a new pid namespace
    /// and dies with its parent.
    NewPid,
    /// clone(CLONE_NEWPID), the child outliving its parent.
    LooseNewPid,
}

/// Start a helper running `body`, which returns its exit status.
pub(super) fn spawn(how: How, body: impl FnOnce() -> i32) -> Result<Pid, Errno> {
    let flags = match how {
        How::Fork | How::Loose => libc::SIGCHLD as u64,
        How::NewPid | How::LooseNewPid => (libc::CLONE_NEWPID | libc::SIGCHLD) as u64,
    };
    match clone::clone(flags)? {
        Forked::Child => {
            if matches!(how, How::Fork | How::NewPid) {
                process::child_setup(&[]);
            }
            process::exit(body())
        }
        Forked::Parent(pid) => Ok(pid),
    }
}

/// Reap `pid`, a child of the caller, killing it once `deadline` has
/// passed. It is killed only after waitpid(2) said it is a live child of
/// the caller: an unreaped child's pid cannot have been reused.
pub(super) fn await_exit(pid: Pid, deadline: Instant) -> Option<WaitStatus> {
    process::reap_within(pid, deadline)
}

/// The helper's answer, an object, as the step's extra; an answer that
/// carries an `errno` (from a process below the helper) fails the step.
pub(super) fn answered(value: Value) -> Result<Extra, Errno> {
    match value {
        Value::Object(map) => reported(map),
        _ => Err(Errno::EIO),
    }
}

/// The errno a helper reported as `errno`, as an error of the step.
pub(super) fn reported(map: Extra) -> Result<Extra, Errno> {
    match map.get("errno").and_then(Value::as_i64) {
        Some(e) => Err(Errno::from_raw(e as i32)),
        None => Ok(map),
    }
}

/// The caller's `NSpid` chain, as the mounted `/proc` shows it.
pub(super) fn own_nspid() -> Vec<i32> {
    std::fs::read_to_string("/proc/self/status")
        .map(|t| crate::view::pid::parse_nspid(&t))
        .unwrap_or_default()
}

fn ns_ino(pid: &str, link: &str) -> Value {
    crate::view::ns::id_of(pid, link).map_or(Value::Null, |id| id.ino.into())
}

fn kill(k: &Kill, env: &StepEnv) -> Result<Extra, Errno> {
    let sig = k.signal.number().ok_or(Errno::EINVAL)?;
    let pid = match k.target {
        Target::Relative(Relative::Myself) => getpid().as_raw(),
        Target::Relative(Relative::Parent) => getppid().as_raw(),
        Target::Relative(Relative::Supervisor) => env.supervisor,
        Target::Pid(p) => p,
    };
    let mut extra = Extra::new();
    extra.insert("pid".into(), pid.into());
    // A parent outside the namespace shows as 0, and kill(0) would signal
    // the caller's whole process group, which reaches outside.
    if pid == 0 {
        extra.insert("sent".into(), false.into());
        return Ok(extra);
    }
    // Any other group (below -1) reaches outside too, whatever check() said.
    if pid < -1 {
        return Err(Errno::EINVAL);
    }
    // A pid number (or -1, every process the caller may signal) names only
    // processes of the trial when the caller's pid namespace is new: in the
    // one the probe started in, it could reach the host's processes.
    guard::ensure(NsType::Pid)?;
    // SAFETY: kill(2) takes two integers; the guard just made sure the
    // caller's pid namespace is not the one the probe started in, and
    // `pid` is no process group.
    Errno::result(unsafe { libc::kill(pid, sig) })?;
    extra.insert("sent".into(), true.into());
    Ok(extra)
}

/// One level of `nest`: the init of the namespace made at `level`; the
/// deepest level answers for all.
fn nest_level(level: u32, depth: Option<u32>) -> Result<Extra, Errno> {
    let stop = |next: Option<Errno>| {
        let nspid = own_nspid();
        let answer = json!({
            "levels": level,
            "level": nspid.len().saturating_sub(1),
            "nspid": nspid,
            "pid": getpid().as_raw(),
            "ppid": getppid().as_raw(),
            "next_errno": next.map(crate::sys::errno::name),
        });
        answered(answer)
    };
    if depth == Some(level) || level >= MAX_NEST {
        return stop(None);
    }
    match helper::spawn_as(NEW_PID, PATIENCE, |_| nest_level(level + 1, depth)) {
        Err(e) => stop(Some(e)),
        Ok(child) => child.finish(),
    }
}

fn nest(n: &Nest) -> Result<Extra, Errno> {
    let mut extra = match helper::spawn_as(NEW_PID, PATIENCE, |_| nest_level(1, n.depth)) {
        Ok(h) => h.finish().map_err(|_| Errno::EIO)?,
        Err(e) if n.depth.is_none() => {
            let mut extra = Extra::new();
            extra.insert("levels".into(), 0.into());
            extra.insert("next_errno".into(), crate::sys::errno::name(e).into());
            return Ok(extra);
        }
        Err(e) => return Err(e),
    };
    let made = extra.get("levels").and_then(Value::as_u64).unwrap_or(0) as u32;
    let failed = extra
        .get("next_errno")
        .and_then(Value::as_str)
        .map(String::from);
    if let (Some(depth), Some(name)) = (n.depth, failed) {
        if made < depth {
            return Err(crate::sys::errno::by_name(&name));
        }
    }
    if n.depth.is_some() {
        extra.remove("next_errno");
    }
    Ok(extra)
}

/// The wires of a `kill_init_tree`.
struct TreeWires {
    /// Every member posts its pid as the step's caller sees it.
    pids: Board<i32>,
    /// Members wait here until the caller opens it.
    release: Gate,
    /// The caller lets the init through to kill (by = init).
    go: Gate,
    /// The init says it has killed and reaped its children (by = init).
    /// When it refuses to kill, it says nothing here: the refusal went to
    /// the supervisor as the guard's event.
    done: Board<()>,
    /// Where the caller's pid sits in a member's `NSpid`.
    index: usize,
}

impl TreeWires {
    /// A member announces itself, then waits to be killed or released.
    fn member(&self) -> i32 {
        self.pids
            .post(&own_nspid().get(self.index).copied().unwrap_or(0));
        self.release.wait();
        0
    }

    /// The ends only the caller keeps.
    fn caller_ends(&self) -> [RawFd; 4] {
        [
            self.pids.caller_end(),
            self.release.caller_end(),
            self.go.caller_end(),
            self.done.caller_end(),
        ]
    }
}

/// One level of the tree: `children` members, the next level's init, and
/// the caller of this function itself as a member.
fn tree_level(t: &Tree, depth: u32, p: &TreeWires, top: bool) -> i32 {
    for _ in 0..t.children {
        if spawn(How::Loose, || p.member()).is_err() {
            return 1;
        }
    }
    if depth > 0 && spawn(How::LooseNewPid, || tree_level(t, depth - 1, p, false)).is_err() {
        return 1;
    }
    if !(top && t.by == Killer::Init) {
        return p.member();
    }
    p.pids.post(&own_nspid().get(p.index).copied().unwrap_or(0));
    if !p.go.wait() || init_may_kill_all().is_err() {
        return 1;
    }
    // SAFETY: kill(2) with -1 from the init (pid 1) of a pid namespace that
    // init_may_kill_all() just found is not the one the probe started in:
    // it reaches only the tree.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    process::reap_children_within(Instant::now() + PATIENCE);
    p.done.post(&());
    p.release.wait();
    0
}

/// Whether the caller may kill(-1): only as the init (pid 1) of a pid
/// namespace that is not the one the probe started in. As pid 1 of a new
/// namespace, kill(-1) reaches that namespace and those below it only;
/// anywhere else (the clone faked, the namespace the host's) it could
/// reach every process of the machine.
fn init_may_kill_all() -> Result<(), guard::Refused> {
    guard::ensure(NsType::Pid)?;
    if getpid().as_raw() != 1 {
        let message = format!(
            "namespace not isolated: the tree's init is pid {}, not 1",
            getpid()
        );
        return Err(guard::refuse(NsType::Pid, message));
    }
    Ok(())
}

fn tree_wires() -> Result<TreeWires, Errno> {
    let index = own_nspid().len().checked_sub(1).ok_or(Errno::ENOENT)?;
    Ok(TreeWires {
        pids: Board::new()?,
        release: Gate::new()?,
        go: Gate::new()?,
        done: Board::new()?,
        index,
    })
}

/// Whether a process of the caller's namespace exists (a zombie counts).
fn exists(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only asks whether the pid exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Kill the tree's init, unless it was reaped already, and reap it.
fn end_init(init: Pid, reaped: bool, deadline: Instant) {
    if !reaped {
        let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
        await_exit(init, deadline);
    }
}

fn kill_init_tree(t: &Tree) -> Result<Extra, Errno> {
    let deadline = Instant::now() + PATIENCE;
    let p = tree_wires()?;
    let init = spawn(How::LooseNewPid, || {
        process::drop_inherited(&p.caller_ends());
        tree_level(t, t.depth, &p, true)
    });
    p.pids.posters_started();
    p.release.members_started();
    p.go.members_started();
    p.done.posters_started();
    let result = init.and_then(|init| {
        let count = (t.children + 1) * (t.depth + 1);
        let pids = p.pids.take(count as usize, deadline);
        if pids.len() != count as usize || pids.contains(&0) {
            end_init(init, false, deadline);
            return Err(Errno::EIO);
        }
        let reaped = match t.by {
            Killer::Parent => {
                let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
                await_exit(init, deadline);
                true
            }
            Killer::Init => {
                let _ = p.go.pass_one();
                if p.done.take(1, Instant::now() + PATIENCE).is_empty() {
                    end_init(init, false, deadline);
                    return Err(Errno::EIO);
                }
                false
            }
        };
        let survivors = pids.iter().filter(|pid| exists(**pid)).count();
        let init_survived = !reaped && exists(init.as_raw());
        end_init(init, reaped, deadline);
        let mut extra = Extra::new();
        extra.insert("processes".into(), pids.len().into());
        extra.insert("survivors".into(), survivors.into());
        extra.insert("init_survived".into(), init_survived.into());
        Ok(extra)
    });
    // Survivors, if any, leave once the gate is open.
    p.release.open();
    result
}

fn fork_after_init_exit() -> Result<Extra, Errno> {
    helper::in_child(PATIENCE, || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID)?;
        let deadline = Instant::now() + PATIENCE;
        let init = spawn(How::Fork, || 0)?;
        let ended = process::reap_within(init, deadline);
        let init_exited = matches!(ended, Some(WaitStatus::Exited(_, 0)));
        let fork_errno = match spawn(How::Fork, || 0) {
            Ok(pid) => {
                process::reap_within(pid, deadline);
                Value::Null
            }
            Err(e) => crate::sys::errno::name(e).into(),
        };
        answered(json!({ "init_exited": init_exited, "fork_errno": fork_errno }))
    })
}

fn signal_from_parent() -> Result<Extra, Errno> {
    let init = helper::spawn_as(NEW_PID, PATIENCE, |ch| {
        // SAFETY: sigset_t is plain data, filled by sigemptyset/sigaddset;
        // sigprocmask reads it.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            set
        };
        ch.ready();
        let wait = libc::timespec {
            tv_sec: PATIENCE.as_secs() as libc::time_t,
            tv_nsec: 0,
        };
        // SAFETY: sigtimedwait reads the set and the timeout and writes the
        // siginfo, all ours.
        Ok(unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            match libc::sigtimedwait(&set, &mut info, &wait) {
                -1 => json!({ "errno": Errno::last() as i32 }),
                _ => {
                    json!({ "si_pid": info.si_pid(), "si_code": info.si_code, "pid": getpid().as_raw() })
                }
            }
        })
    })?;
    let ready = init.wait_ready().is_ok();
    if ready {
        let _ = nix::sys::signal::kill(init.pid(), nix::sys::signal::Signal::SIGUSR1);
    }
    match init.finish() {
        Ok(info) if ready => answered(info),
        _ => Err(Errno::EIO),
    }
}

fn orphan() -> Result<Extra, Errno> {
    let deadline = Instant::now() + PATIENCE;
    let (go, report) = (Gate::new()?, Board::<Value>::new()?);
    let parent = spawn(How::Fork, || {
        process::drop_inherited(&[go.caller_end(), report.caller_end()]);
        let grandchild = spawn(How::Loose, || {
            go.wait();
            report.post(&json!({ "ppid": getppid().as_raw(), "pid": getpid().as_raw() }));
            0
        });
        i32::from(grandchild.is_err())
    });
    go.members_started();
    report.posters_started();
    // The grandchild is an orphan once its parent has been reaped.
    let ended = await_exit(parent?, deadline);
    go.open();
    let told = report.take(1, deadline).pop();
    if !matches!(ended, Some(WaitStatus::Exited(_, 0))) {
        return Err(Errno::ECHILD);
    }
    let Some(Value::Object(map)) = told else {
        return Err(Errno::EIO);
    };
    let ppid = map.get("ppid").and_then(Value::as_i64).unwrap_or(0) as i32;
    let pid = map.get("pid").and_then(Value::as_i64).unwrap_or(0) as i32;
    let adopted = ppid == getpid().as_raw();
    if adopted && pid > 0 {
        // A pid number heard over a pipe: reaped (and, when late, killed)
        // only as a child of the caller, in a pid namespace of the trial.
        guard::ensure(NsType::Pid)?;
        await_exit(Pid::from_raw(pid), deadline);
    }
    let mut extra = Extra::new();
    extra.insert("ppid".into(), ppid.into());
    extra.insert("adopted_by_caller".into(), adopted.into());
    Ok(extra)
}

fn unshare() -> Result<Extra, Errno> {
    helper::in_child(PATIENCE, || {
        let mut out = Map::new();
        out.insert("pid_before".into(), getpid().as_raw().into());
        out.insert("pid_ns_before".into(), ns_ino("self", "pid"));
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID)?;
        out.insert("pid_after".into(), getpid().as_raw().into());
        out.insert("pid_ns_after".into(), ns_ino("self", "pid"));
        out.insert(
            "for_children_unshared".into(),
            ns_ino("self", "pid_for_children"),
        );
        // The child tells its own PID and namespace (the mounted /proc may
        // belong to another PID namespace than the caller's), and lives on
        // until the caller has looked at its own `pid_for_children`.
        let child = helper::spawn(PATIENCE, |ch| {
            ch.ready();
            ch.wait_go();
            Ok(json!({ "pid": getpid().as_raw(), "ns": ns_ino("self", "pid") }))
        })?;
        let _ = child.wait_ready();
        out.insert(
            "for_children_after".into(),
            ns_ino("self", "pid_for_children"),
        );
        child.go();
        let told = child.finish().unwrap_or(Value::Null);
        out.insert("child_pid".into(), told["pid"].clone());
        out.insert("child_pid_ns".into(), told["ns"].clone());
        answered(Value::Object(out))
    })
}

/// The part of `set_tid` below the caller: `nest` more levels, then clone3.
fn set_tid_level(s: &SetTid, nest: u32) -> Result<Extra, Errno> {
    if nest > 0 {
        return helper::spawn_as(NEW_PID, PATIENCE, |_| set_tid_level(s, nest - 1))?.finish();
    }
    // The tids choose pids in the caller's namespace (and the one it
    // makes): never in the one the probe started in.
    guard::ensure(NsType::Pid)?;
    let flags = if s.newpid {
        libc::CLONE_NEWPID as u64
    } else {
        0
    };
    let args = CloneArgs::new(flags).with_set_tid(&s.tids);
    helper::spawn_as(Start::Clone3(&args), PATIENCE, |_| {
        answered(json!({ "nspid": own_nspid(), "pid": getpid().as_raw() }))
    })?
    .finish()
}

fn set_tid(s: &SetTid) -> Result<Extra, Errno> {
    helper::in_child(PATIENCE, || set_tid_level(s, s.nest))
}
