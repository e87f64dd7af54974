//! IPC steps: creating SysV objects and POSIX message queues, and seeing
//! them from a second IPC namespace or after joining one again.

mod gone;
mod sysv_gone;

use std::ffi::CString;
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use serde_json::Value;

use super::{Extra, StepEnv};
use crate::guard;
use crate::kind::NsType;
use crate::plan::ipc::{IpcStep, MqueueOtherNsStep, MqueueRemountStep, RejoinStep, SameKeyStep};
use crate::plan::{SysvKind, SysvStep};
use crate::sys::errno::outcome;
use crate::sys::helper::in_child;
use crate::sys::ns::{open, setns_fd, unshare, DEADLINE};

/// Create a SysV object with `IPC_CREAT | IPC_EXCL` and mode 0600.
pub fn sysv(step: &SysvStep) -> Result<Extra, Errno> {
    let id = sysv_get(step.kind, step.key, true)?;
    let mut extra = Extra::new();
    extra.insert("id".into(), id.into());
    Ok(extra)
}

/// Create a POSIX message queue with `O_CREAT | O_EXCL` and mode 0600.
pub fn mqueue(name: &str) -> Result<Extra, Errno> {
    let cname = CString::new(name).map_err(|_| Errno::EINVAL)?;
    let mqd = create_queue(&cname, libc::O_RDWR)?;
    // SAFETY: closing the queue descriptor just opened; the queue stays.
    unsafe { libc::mq_close(mqd) };
    Ok(Extra::new())
}

/// Create a small queue (one message of at most 256 bytes) with
/// `O_CREAT | O_EXCL | oflag`, mode 0600, once the guard agrees. Small,
/// because every queue counts against its user's RLIMIT_MSGQUEUE, shared by
/// all the trials running at once: the default size would exhaust it.
pub(super) fn create_queue(name: &std::ffi::CStr, oflag: i32) -> Result<libc::mqd_t, Errno> {
    // SAFETY: mq_attr is plain old data; all zeroes is a valid value.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 256;
    guard::ensure(NsType::Ipc)?;
    // SAFETY: `name` is a valid C string and `attr` a valid mq_attr that
    // outlives the call.
    let mqd = unsafe {
        libc::mq_open(
            name.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | oflag,
            0o600,
            &attr,
        )
    };
    Errno::result(mqd)
}

/// The object of `kind` under `key`: created (`IPC_CREAT | IPC_EXCL`, 0600)
/// or looked up.
fn sysv_get(kind: SysvKind, key: i32, create: bool) -> Result<i32, Errno> {
    let flags = if create {
        libc::IPC_CREAT | libc::IPC_EXCL | 0o600
    } else {
        0
    };
    let size = if create { 4096 } else { 0 };
    if create {
        guard::ensure(NsType::Ipc)?;
    }
    // SAFETY: the *get calls take plain integers and touch no memory of ours.
    let id = unsafe {
        match kind {
            SysvKind::Shm => libc::shmget(key, size, flags),
            SysvKind::Msg => libc::msgget(key, flags),
            SysvKind::Sem => libc::semget(key, i32::from(create), flags),
        }
    };
    Errno::result(id)
}

/// The text of the `n`th writer: `nsconform-<n>` (a semaphore holds `n`).
fn token(n: i32) -> String {
    format!("nsconform-{n}")
}

/// A message of the queue: a type and up to 64 bytes of text.
#[repr(C)]
struct MsgBuf {
    mtype: libc::c_long,
    mtext: [u8; 64],
}

/// Put the `n`th writer's content in the object.
fn sysv_write(kind: SysvKind, id: i32, n: i32) -> Result<(), Errno> {
    let text = token(n);
    guard::ensure(NsType::Ipc)?;
    match kind {
        SysvKind::Shm => {
            // SAFETY: attaching a segment of 4096 bytes, writing fewer bytes
            // than that into it, and detaching it again.
            unsafe {
                let at = libc::shmat(id, std::ptr::null(), 0);
                if at as isize == -1 {
                    return Err(Errno::last());
                }
                std::ptr::copy_nonoverlapping(text.as_ptr(), at.cast::<u8>(), text.len());
                *at.cast::<u8>().add(text.len()) = 0;
                libc::shmdt(at);
            }
            Ok(())
        }
        SysvKind::Msg => {
            let mut buf = MsgBuf {
                mtype: 1,
                mtext: [0; 64],
            };
            buf.mtext[..text.len()].copy_from_slice(text.as_bytes());
            // SAFETY: `buf` holds a type and `text.len()` bytes of text.
            let ret = unsafe {
                libc::msgsnd(
                    id,
                    (&buf as *const MsgBuf).cast(),
                    text.len(),
                    libc::IPC_NOWAIT,
                )
            };
            Errno::result(ret).map(drop)
        }
        // SAFETY: SETVAL takes the value as an int in place of the union.
        SysvKind::Sem => Errno::result(unsafe { libc::semctl(id, 0, libc::SETVAL, n) }).map(drop),
    }
}

/// The object's content: the text in the segment, the first message taken
/// off the queue (empty when there is none), or the semaphore's value.
fn sysv_read(kind: SysvKind, id: i32) -> Result<Value, Errno> {
    match kind {
        SysvKind::Shm => {
            let mut bytes = [0u8; 64];
            // SAFETY: attaching read-only a segment of 4096 bytes, copying 64
            // bytes out of it, and detaching it again.
            unsafe {
                let at = libc::shmat(id, std::ptr::null(), libc::SHM_RDONLY);
                if at as isize == -1 {
                    return Err(Errno::last());
                }
                std::ptr::copy_nonoverlapping(at.cast::<u8>(), bytes.as_mut_ptr(), 64);
                libc::shmdt(at);
            }
            let end = bytes.iter().position(|b| *b == 0).unwrap_or(64);
            Ok(String::from_utf8_lossy(&bytes[..end]).into_owned().into())
        }
        SysvKind::Msg => {
            let mut buf = MsgBuf {
                mtype: 0,
                mtext: [0; 64],
            };
            let flags = libc::IPC_NOWAIT | libc::MSG_NOERROR;
            // Taking a message off changes the queue.
            guard::ensure(NsType::Ipc)?;
            // SAFETY: `buf` has room for a type and 64 bytes of text.
            let n = unsafe { libc::msgrcv(id, (&mut buf as *mut MsgBuf).cast(), 64, 0, flags) };
            match Errno::result(n) {
                Ok(n) => Ok(String::from_utf8_lossy(&buf.mtext[..n as usize])
                    .into_owned()
                    .into()),
                Err(Errno::ENOMSG) => Ok("".into()),
                Err(e) => Err(e),
            }
        }
        // SAFETY: GETVAL takes no fourth argument.
        SysvKind::Sem => Ok(Errno::result(unsafe { libc::semctl(id, 0, libc::GETVAL) })?.into()),
    }
}

/// The objects of `/proc/sysvipc/<kind>` as the caller sees them.
fn listed(kind: SysvKind) -> Value {
    let name = match kind {
        SysvKind::Shm => "shm",
        SysvKind::Msg => "msg",
        SysvKind::Sem => "sem",
    };
    let text = std::fs::read_to_string(format!("/proc/sysvipc/{name}")).unwrap_or_default();
    serde_json::to_value(crate::view::ipc::parse_sysvipc(&text)).unwrap_or(Value::Null)
}

/// The other process of same_key: look up, create if absent, read, write.
fn other_side(s: &SameKeyStep) -> Result<Extra, Errno> {
    if s.new_ns {
        unshare(libc::CLONE_NEWIPC as u64)?;
    }
    let mut extra = Extra::new();
    let id = match sysv_get(s.kind, s.key, false) {
        Ok(id) => {
            extra.insert("lookup".into(), "found".into());
            id
        }
        Err(e) => {
            extra.insert("lookup".into(), format!("{e:?}").into());
            sysv_get(s.kind, s.key, true)?
        }
    };
    extra.insert("read".into(), sysv_read(s.kind, id)?);
    sysv_write(s.kind, id, 2)?;
    extra.insert("objects".into(), listed(s.kind));
    Ok(extra)
}

fn same_key(s: &SameKeyStep) -> Result<Extra, Errno> {
    let id = sysv_get(s.kind, s.key, true)?;
    sysv_write(s.kind, id, 1)?;
    let other = in_child(DEADLINE, || other_side(s))?;
    let mut extra = Extra::new();
    extra.insert("id".into(), id.into());
    extra.insert("other".into(), Value::Object(other));
    extra.insert("read_after".into(), sysv_read(s.kind, id)?);
    Ok(extra)
}

fn rejoin(s: &RejoinStep) -> Result<Extra, Errno> {
    in_child(DEADLINE, || {
        let original = open("/proc/self/ns/ipc")?;
        let flag = libc::CLONE_NEWIPC as u64;
        unshare(flag)?;
        let mut extra = Extra::new();
        extra.insert("new".into(), listed(s.kind));
        setns_fd(original.as_raw_fd(), flag)?;
        extra.insert("joined".into(), listed(s.kind));
        Ok(extra)
    })
}

/// The queue names in an mqueue directory, sorted.
pub(super) fn queues(dir: &str) -> Result<Value, Errno> {
    let entries = std::fs::read_dir(dir).map_err(crate::sys::errno::io_errno)?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names.into())
}

/// In the caller (a helper): new IPC and mount namespaces, the mounts made
/// private, and the queue `name` made in the new IPC namespace.
pub(super) fn queue_in_new_ns(name: &str) -> Result<(), Errno> {
    use nix::mount::{mount, MsFlags};
    unshare((libc::CLONE_NEWIPC | libc::CLONE_NEWNS) as u64)?;
    let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    guard::ensure(NsType::Mnt)?;
    mount(None::<&str>, "/", None::<&str>, private, None::<&str>)?;
    mqueue(name).map(drop)
}

fn mqueue_other_ns(s: &MqueueOtherNsStep) -> Result<Extra, Errno> {
    use nix::mount::{mount, MsFlags};
    in_child(DEADLINE, || {
        queue_in_new_ns(&s.name)?;
        let mut extra = Extra::new();
        extra.insert("old_mount".into(), queues(&s.mount)?);
        guard::ensure(NsType::Mnt)?;
        mount(
            Some("mqueue"),
            s.mount.as_str(),
            Some("mqueue"),
            MsFlags::empty(),
            None::<&str>,
        )?;
        extra.insert("new_mount".into(), queues(&s.mount)?);
        Ok(extra)
    })
}

/// mq_open(3) of an existing queue, read-only, then closed.
pub(super) fn open_queue(name: &str) -> Result<(), Errno> {
    let cname = CString::new(name).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `cname` is a valid C string; no attributes are passed.
    let mqd = Errno::result(unsafe { libc::mq_open(cname.as_ptr(), libc::O_RDONLY) })?;
    // SAFETY: closing the descriptor just opened.
    unsafe { libc::mq_close(mqd) };
    Ok(())
}

/// Mount an mqueue filesystem of the caller's IPC namespace on `dir`.
pub(super) fn mount_mqueue(dir: &str) -> Result<(), Errno> {
    guard::ensure(NsType::Mnt)?;
    nix::mount::mount(
        Some("mqueue"),
        dir,
        Some("mqueue"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
}

/// The new namespace's defaults for a queue made without attributes, small
/// (its own sysctls), since every queue counts against the user's
/// RLIMIT_MSGQUEUE.
const SMALL_QUEUE: [(&str, &str); 2] = [
    ("fs.mqueue.msg_default", "1"),
    ("fs.mqueue.msgsize_default", "256"),
];

/// Make a queue with creat(2) on the mqueue mount, small: the new
/// namespace's defaults are lowered first where the kernel lets the caller
/// (a rootless caller since 6.9); otherwise the queue has the defaults.
fn creat_queue(dir: &str, name: &str) -> Result<(), Errno> {
    for (sysctl, value) in SMALL_QUEUE {
        let _ = super::sysctl::write(sysctl, value, NsType::Ipc);
    }
    guard::ensure(NsType::Mnt)?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(format!("{dir}/{}", name.trim_start_matches('/')))
        .map(drop)
        .map_err(crate::sys::errno::io_errno)
}

fn mqueue_remount(s: &MqueueRemountStep) -> Result<Extra, Errno> {
    let second = format!("{}-creat", s.name);
    in_child(DEADLINE, || {
        queue_in_new_ns(&s.name)?;
        let mut extra = Extra::new();
        extra.insert("mount".into(), outcome(mount_mqueue(&s.mount)));
        extra.insert("listed".into(), queues(&s.mount)?);
        extra.insert("creat".into(), outcome(creat_queue(&s.mount, &second)));
        guard::ensure(NsType::Mnt)?;
        extra.insert(
            "umount".into(),
            outcome(nix::mount::umount(s.mount.as_str())),
        );
        extra.insert("after_umount".into(), queues(&s.mount)?);
        extra.insert("mount_again".into(), outcome(mount_mqueue(&s.mount)));
        extra.insert("listed_again".into(), queues(&s.mount)?);
        extra.insert("open_creat".into(), outcome(open_queue(&second)));
        Ok(extra)
    })
}

/// Carry out one of the steps of plan::ipc.
pub fn perform(step: &IpcStep, _env: &StepEnv) -> Result<Extra, Errno> {
    match step {
        IpcStep::SameKey(s) => same_key(s),
        IpcStep::Rejoin(s) => rejoin(s),
        IpcStep::MqueueOtherNs(s) => mqueue_other_ns(s),
        IpcStep::Sysctl(s) => super::sysctl::write(&s.name, &s.value, NsType::Ipc),
        IpcStep::MqueueRemount(s) => mqueue_remount(s),
        IpcStep::MqueueGone(s) => gone::mqueue_gone(s),
        IpcStep::SysvGone(_) => sysv_gone::sysv_gone(),
    }
}
