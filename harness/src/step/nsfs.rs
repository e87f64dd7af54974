//! Carrying out the steps of plan::nsfs: ioctl_ns(2) requests, and setns,
//! unshare, clone and clone3 calls made in forked children that end with the
//! step. Also the helpers the ipc and uts steps share: running a body in a
//! forked child with a bounded wait, and naming namespaces by identity.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use nix::errno::Errno;

use crate::sys::clone::CloneArgs;
use serde_json::{json, Value};

use super::{Extra, StepEnv};
use crate::guard;
use crate::kind::{NsType, KINDS};
use crate::plan::nsfs::{
    CreateCall, CreateStep, DropPrivilege, ForChildrenStep, IoctlStep, NsRequest, NsfsStep,
    SetnsPidfdStep, SetnsStep,
};
use crate::sys::fdpass;
use crate::sys::helper::{self, Channel, Helper, Start};
use crate::sys::ns::{flags_of, ns_at, ns_of_fd, open, setns_fd, unshare};
use crate::sys::pipe;
use crate::sys::process;
use crate::view::ns::NsId;

pub(super) use crate::sys::ns::DEADLINE;

const NS_GET_USERNS: u64 = 0xb701;
const NS_GET_PARENT: u64 = 0xb702;
const NS_GET_NSTYPE: u64 = 0xb703;
const NS_GET_OWNER_UID: u64 = 0xb704;

pub fn perform(step: &NsfsStep, env: &StepEnv) -> Result<Extra, Errno> {
    match step {
        NsfsStep::Ioctl(s) => ioctl(s, env),
        NsfsStep::Setns(s) => setns(s, env),
        NsfsStep::SetnsPidfd(s) => setns_pidfd(s),
        NsfsStep::Create(s) => create(s),
        NsfsStep::ForChildren(s) => for_children(s),
        NsfsStep::Handle(s) => super::nstree::handle(s),
        NsfsStep::Ids(_) => super::nstree::ids(),
        NsfsStep::Listns(_) => super::nstree::listns(),
    }
}

fn id_json(id: NsId) -> Value {
    json!({ "ino": id.ino, "dev": id.dev })
}

/// A `/proc/supervisor/...` path turned into the supervisor's real one.
fn resolve(path: &str, env: &StepEnv) -> String {
    match path.strip_prefix("/proc/supervisor/") {
        Some(rest) => format!("/proc/{}/{rest}", env.supervisor),
        None => path.to_string(),
    }
}

/// A `CLONE_NEW*` value by its type's name.
fn type_name(flag: i64) -> Value {
    match KINDS.iter().find(|k| k.flag as i64 == flag) {
        Some(k) => k.name.into(),
        None => flag.into(),
    }
}

/// Give up privilege as `drop` says; on failure, the call and its errno.
pub(super) fn drop_privilege(drop: &DropPrivilege) -> Result<(), (&'static str, Errno)> {
    if drop.unmapped_user {
        unshare(libc::CLONE_NEWUSER as u64).map_err(|e| ("unshare(CLONE_NEWUSER)", e))?;
    }
    if let Some(uid) = drop.uid {
        // SAFETY: setresuid takes plain ids.
        let ret = unsafe { libc::setresuid(uid, uid, uid) };
        Errno::result(ret).map_err(|e| ("setresuid", e))?;
        crate::sys::process::rearm_deathsig();
    }
    if drop.caps {
        use caps::CapSet;
        for set in [
            CapSet::Ambient,
            CapSet::Effective,
            CapSet::Inheritable,
            CapSet::Permitted,
        ] {
            caps::clear(None, set).map_err(|_| ("capset", Errno::EPERM))?;
        }
    }
    Ok(())
}

fn setup_failed(what: &str, e: Errno) -> Extra {
    let mut extra = Extra::new();
    extra.insert("setup".into(), what.into());
    extra.insert("setup_errno".into(), format!("{e:?}").into());
    extra
}

// ---- ioctl_ns ------------------------------------------------------------

fn ioctl(s: &IoctlStep, env: &StepEnv) -> Result<Extra, Errno> {
    let path = resolve(&s.path, env);
    if s.unshare.is_empty() {
        return ns_ioctl(open(&path)?, s.request);
    }
    ns_ioctl(fd_from_child(&path, flags_of(&s.unshare))?, s.request)
}

/// A forked child unshares `flags` (with a new PID namespace, it also forks
/// a process into it) and opens `path`; the descriptor comes back over a
/// socket, so that the caller acts on a namespace it is not in.
fn fd_from_child(path: &str, flags: u64) -> Result<OwnedFd, Errno> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    let caller_end = ours.as_raw_fd();
    let child = helper::spawn(DEADLINE, |_| {
        process::drop_inherited(&[caller_end]);
        let (fd, holder) = open_after_unshare(path, flags)?;
        send_fd(&theirs, &fd)?;
        if holder.is_some() {
            // The new PID namespace must live until the caller has
            // used the descriptor: wait for the socket to close.
            let _ = pipe::readable_by(theirs.as_raw_fd(), Instant::now() + DEADLINE);
        }
        Ok(())
    })?;
    drop(theirs);
    let deadline = Instant::now() + DEADLINE;
    let got = if pipe::readable_by(ours.as_raw_fd(), deadline) {
        recv_fd(&ours)
    } else {
        Err(Errno::ETIMEDOUT)
    };
    drop(ours);
    let _ = child.finish();
    got
}

/// A process that only holds a namespace (its first child's) until dropped.
type Holder = Helper<bool>;

/// Unshare, fork a holder into a new PID namespace if one was made, and open.
fn open_after_unshare(path: &str, flags: u64) -> Result<(OwnedFd, Option<Holder>), Errno> {
    unshare(flags)?;
    let holder = if flags & libc::CLONE_NEWPID as u64 != 0 {
        Some(helper::spawn(DEADLINE, |ch| Ok(ch.wait_go()))?)
    } else {
        None
    };
    Ok((open(path)?, holder))
}

fn send_fd(sock: &OwnedFd, fd: &OwnedFd) -> Result<(), Errno> {
    fdpass::send(sock.as_raw_fd(), b"f", &[fd.as_raw_fd()])
}

fn recv_fd(sock: &OwnedFd) -> Result<OwnedFd, Errno> {
    let mut byte = [0u8; 1];
    let (_, fds) = fdpass::recv(sock, &mut byte)?;
    fds.into_iter().next().ok_or(Errno::ECHILD)
}

fn raw_ioctl(fd: &OwnedFd, request: u64, arg: *mut libc::c_void) -> Result<i32, Errno> {
    // SAFETY: `arg` is null or points to a live buffer of the size the
    // request writes (u32 for NS_GET_OWNER_UID, u64 for NS_GET_ID).
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg) })
}

/// One ioctl_ns request on `path`.
pub(super) fn ns_ioctl(fd: OwnedFd, request: NsRequest) -> Result<Extra, Errno> {
    let mut extra = Extra::new();
    match request {
        NsRequest::GetNstype => {
            let t = raw_ioctl(&fd, NS_GET_NSTYPE, std::ptr::null_mut())?;
            extra.insert("nstype".into(), type_name(t.into()));
        }
        NsRequest::GetUserns | NsRequest::GetParent => {
            let req = match request {
                NsRequest::GetUserns => NS_GET_USERNS,
                _ => NS_GET_PARENT,
            };
            let raw = raw_ioctl(&fd, req, std::ptr::null_mut())?;
            // SAFETY: the ioctl returned a new descriptor that nothing else owns.
            let got = unsafe { OwnedFd::from_raw_fd(raw) };
            extra.insert("ns".into(), id_json(ns_of_fd(&got)?));
            let t = raw_ioctl(&got, NS_GET_NSTYPE, std::ptr::null_mut())?;
            extra.insert("nstype".into(), type_name(t.into()));
        }
        NsRequest::GetOwnerUid => {
            let mut uid: u32 = u32::MAX;
            raw_ioctl(&fd, NS_GET_OWNER_UID, (&mut uid as *mut u32).cast())?;
            extra.insert("uid".into(), uid.into());
        }
        NsRequest::GetId => {
            extra.insert("id".into(), crate::sys::ns::ns_get_id(&fd)?.into());
        }
    }
    Ok(extra)
}

// ---- setns ---------------------------------------------------------------

/// A descriptor number that is not open: one just closed.
fn closed_fd() -> Result<RawFd, Errno> {
    let fd = open("/dev/null")?;
    Ok(fd.as_raw_fd())
}

fn setns(s: &SetnsStep, env: &StepEnv) -> Result<Extra, Errno> {
    let path = s.path.as_deref().map(|p| resolve(p, env));
    let flags = match s.nstype_raw {
        Some(raw) => raw as u32 as u64,
        None => s.nstype.map_or(0, |t| t.kind().flag),
    };
    let leave = flags_of(&s.unshare);
    helper::in_child(DEADLINE, || {
        let fd = path.as_deref().map(open).transpose()?;
        let raw = match &fd {
            Some(fd) => fd.as_raw_fd(),
            None => closed_fd()?,
        };
        if let Err((what, e)) = drop_privilege(&s.drop) {
            return Ok(setup_failed(what, e));
        }
        let mut extra = Extra::new();
        let kind = joined_kind(fd.as_ref(), s.nstype);
        if leave != 0 {
            unshare(leave)?;
            if let (Some(fd), Some(t)) = (&fd, kind) {
                let now = ns_at(&format!("/proc/self/ns/{}", t.name()))?;
                extra.insert("left".into(), (ns_of_fd(fd)? != now).into());
            }
        }
        setns_fd(raw, flags)?;
        if let (Some(fd), Some(t)) = (&fd, kind) {
            let now = ns_at(&format!("/proc/self/ns/{}", t.name()))?;
            extra.insert("joined".into(), (ns_of_fd(fd)? == now).into());
        }
        Ok(extra)
    })
}

/// The type whose link `joined` compares: `nstype`, or with none, the type
/// NS_GET_NSTYPE names for the descriptor (none for a file that is not a
/// namespace).
fn joined_kind(fd: Option<&OwnedFd>, nstype: Option<NsType>) -> Option<NsType> {
    if nstype.is_some() {
        return nstype;
    }
    let flag = raw_ioctl(fd?, NS_GET_NSTYPE, std::ptr::null_mut()).ok()?;
    KINDS
        .iter()
        .find(|k| k.flag as i64 == i64::from(flag))
        .and_then(|k| NsType::from_name(k.name))
}

// ---- setns through a pidfd ----------------------------------------------

/// What the target of setns_pidfd tells: its namespaces' inode numbers, by
/// type, or the errno its setting up failed with.
type Told = Result<Vec<u32>, i32>;

/// The target of setns_pidfd: unshares, names itself, says so, and waits.
fn pidfd_target(s: &SetnsPidfdStep, ch: &Channel<Told>) {
    let made = unshare(flags_of(&s.types)).and_then(|()| {
        match (&s.hostname, s.types.contains(&NsType::Uts)) {
            (Some(name), true) => guard::ensure(NsType::Uts)
                .map_err(Errno::from)
                .and_then(|()| nix::unistd::sethostname(name)),
            _ => Ok(()),
        }
    });
    let ino =
        |t: &NsType| ns_at(&format!("/proc/self/ns/{}", t.name())).map_or(0, |id| id.ino as u32);
    ch.hold(
        &made
            .map(|()| s.types.iter().map(ino).collect())
            .map_err(|e| e as i32),
    );
}

fn setns_pidfd(s: &SetnsPidfdStep) -> Result<Extra, Errno> {
    let target = helper::spawn_telling(Start::Fork, DEADLINE * 2, |ch| {
        pidfd_target(s, ch);
        Ok(())
    })?;
    match target.wait_value().map_err(|_| Errno::ETIMEDOUT)? {
        Ok(inos) => join_target(s, target, &inos),
        Err(e) => Ok(setup_failed("unshare", Errno::from_raw(e))),
    }
}

/// The joiner of setns_pidfd; `inos` are the target's namespaces, by type.
fn join_target(s: &SetnsPidfdStep, target: Helper<(), Told>, inos: &[u32]) -> Result<Extra, Errno> {
    let pidfd = crate::sys::process::pidfd_open(target.pid().as_raw())?;
    let target = match s.reaped {
        true => {
            let _ = target.release();
            None
        }
        false => Some(target),
    };
    let flags = if s.no_flags { 0 } else { flags_of(&s.types) };
    let joined = helper::in_child(DEADLINE, || {
        setns_fd(pidfd.as_raw_fd(), flags)?;
        let mut joined = Extra::new();
        for (t, ino) in s.types.iter().zip(inos) {
            let now = ns_at(&format!("/proc/self/ns/{}", t.name()))?;
            joined.insert(t.name().into(), (now.ino as u32 == *ino).into());
        }
        let mut extra = Extra::new();
        extra.insert("joined".into(), Value::Object(joined));
        let host = nix::unistd::gethostname().map_err(|_| Errno::EIO)?;
        extra.insert(
            "hostname".into(),
            host.to_string_lossy().into_owned().into(),
        );
        Ok(extra)
    });
    if let Some(target) = target {
        let _ = target.release();
    }
    joined
}

// ---- unshare, clone, clone3 ---------------------------------------------

/// A fork-like clone or clone3 with `flags` (and for clone3 the PIDs
/// `set_tid`); the new process exits at once.
fn clone_and_reap(call: CreateCall, flags: u64, set_tid: &[i32]) -> Result<(), Errno> {
    let args = CloneArgs::new(flags).with_set_tid(set_tid);
    let start = match call {
        CreateCall::Clone => Start::Clone(flags),
        _ => Start::Clone3(&args),
    };
    let _ = helper::spawn_as(start, DEADLINE, |_| Ok(()))?.finish();
    Ok(())
}

fn create(s: &CreateStep) -> Result<Extra, Errno> {
    let flags = s.bits().map_err(|_| Errno::EINVAL)?;
    helper::in_child(DEADLINE, || {
        if let Err((what, e)) = drop_privilege(&s.drop) {
            return Ok(setup_failed(what, e));
        }
        match s.call {
            CreateCall::Unshare => unshare(flags)?,
            call => clone_and_reap(call, flags, &s.set_tid)?,
        }
        Ok(Extra::new())
    })
}

// ---- *_for_children ------------------------------------------------------

/// Where the process's own namespace and its children's stand against the
/// original one and the new one.
fn relations(name: &str, link: &str, original: NsId, new: NsId) -> Value {
    let rel = |path: String| match ns_at(&path) {
        Ok(id) if id == original => "original".to_string(),
        Ok(id) if id == new => "new".to_string(),
        Ok(_) => "other".to_string(),
        Err(e) => format!("{e:?}"),
    };
    json!({
        "own": rel(format!("/proc/self/ns/{name}")),
        "for_children": rel(format!("/proc/self/ns/{link}")),
    })
}

/// The grandchild of for_children: tells its own namespace's inode number
/// and its children's, and waits to be released.
fn grandchild(name: &str, link: &str, ch: &Channel<(u32, u32)>) {
    let ino = |p: String| ns_at(&p).map_or(0, |id| id.ino as u32);
    ch.hold(&(
        ino(format!("/proc/self/ns/{name}")),
        ino(format!("/proc/self/ns/{link}")),
    ));
}

fn for_children(s: &ForChildrenStep) -> Result<Extra, Errno> {
    let kind = s.ty.kind();
    let (name, link) = (kind.name, kind.for_children.ok_or(Errno::EINVAL)?);
    helper::in_child(DEADLINE, || {
        let own = format!("/proc/self/ns/{name}");
        let original = ns_at(&own)?;
        let placeholder = NsId { ino: 0, dev: 0 };
        let before = relations(name, link, original, placeholder);
        let original_fd = open(&own)?;
        unshare(kind.flag)?;
        let after_unshare = relations(name, link, original, placeholder);
        let grand = helper::spawn_telling(Start::Fork, DEADLINE, |ch| {
            grandchild(name, link, ch);
            Ok(())
        })?;
        let told = grand.wait_value().ok();
        let (g_own, g_children) = (told.map(|t| t.0), told.map(|t| t.1));
        let result = follow(name, link, original, &original_fd, g_own, g_children);
        let _ = grand.release();
        let mut extra = result?;
        extra.insert("before".into(), before);
        extra.insert("after_unshare".into(), after_unshare);
        Ok(extra)
    })
}

/// What the grandchild and setns show, the grandchild still alive.
fn follow(
    name: &str,
    link: &str,
    original: NsId,
    original_fd: &OwnedFd,
    g_own: Option<u32>,
    g_children: Option<u32>,
) -> Result<Extra, Errno> {
    let g_own = g_own.ok_or(Errno::ECHILD)?;
    let new = NsId {
        ino: g_own.into(),
        dev: original.dev,
    };
    let grand = json!({
        "own": if g_own as u64 == original.ino { "original" } else { "new" },
        "for_children": if g_children == Some(g_own) { "own" } else { "other" },
    });
    let after_fork = relations(name, link, original, new);
    let new_fd = open(&format!("/proc/self/ns/{link}"))?;
    let flag = KINDS.iter().find(|k| k.name == name).map_or(0, |k| k.flag);
    setns_fd(original_fd.as_raw_fd(), flag)?;
    let after_original = relations(name, link, original, new);
    setns_fd(new_fd.as_raw_fd(), flag)?;
    let after_new = relations(name, link, original, new);
    let mut extra = Extra::new();
    extra.insert("grandchild".into(), grand);
    extra.insert("after_fork".into(), after_fork);
    extra.insert("after_setns_original".into(), after_original);
    extra.insert("after_setns_new".into(), after_new);
    Ok(extra)
}
