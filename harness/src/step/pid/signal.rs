//! Signals that cross, or stay in, a pid namespace and the siginfo the
//! receiver sees: a signal an init sends itself, SIGIO from a pipe it owns,
//! and the signal of an mq_notify(3) registration.

use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::unistd::getpid;
use serde_json::{json, Value};

use super::tree::{answered, NEW_PID, PATIENCE};
use crate::guard;
use crate::kind::NsType;
use crate::plan::pid::{MqNotify, MqParty, Sigio, SigioWriter};
use crate::step::Extra;
use crate::sys::helper::{self, Channel};
use crate::sys::{pipe, process};

/// What the handler of `signal_self` saw.
static HANDLED: AtomicBool = AtomicBool::new(false);
static SEEN_PID: AtomicI32 = AtomicI32::new(-1);
static SEEN_CODE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_usr1(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel hands an SA_SIGINFO handler a valid siginfo_t.
    let (pid, code) = unsafe { ((*info).si_pid(), (*info).si_code) };
    SEEN_PID.store(pid, Ordering::SeqCst);
    SEEN_CODE.store(code, Ordering::SeqCst);
    HANDLED.store(true, Ordering::SeqCst);
}

/// A signal set holding SIGUSR1 only.
fn usr1_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, filled by sigemptyset and sigaddset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        set
    }
}

/// Block (or unblock) SIGUSR1 in the calling process.
fn mask_usr1(how: libc::c_int) {
    let set = usr1_set();
    // SAFETY: `set` is a valid signal set; the old mask is not wanted.
    unsafe { libc::sigprocmask(how, &set, std::ptr::null_mut()) };
}

/// Take a blocked SIGUSR1, waiting at most [`PATIENCE`].
fn take_usr1() -> Result<libc::siginfo_t, Errno> {
    let set = usr1_set();
    let wait = libc::timespec {
        tv_sec: PATIENCE.as_secs() as libc::time_t,
        tv_nsec: 0,
    };
    // SAFETY: siginfo_t is plain data; sigtimedwait writes it and reads the
    // set and the timeout, all ours.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        Errno::result(libc::sigtimedwait(&set, &mut info, &wait))?;
        Ok(info)
    }
}

/// The init of a new pid namespace sends itself SIGUSR1 with a handler.
pub(super) fn signal_self() -> Result<Extra, Errno> {
    helper::spawn_as(NEW_PID, PATIENCE, |_| {
        // SAFETY: a zeroed sigaction with an SA_SIGINFO handler that only
        // stores into atomics; the old action is not wanted.
        let installed = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_usr1 as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(libc::SIGUSR1, &act, std::ptr::null_mut())
        };
        if installed == -1 {
            return Err(Errno::last());
        }
        mask_usr1(libc::SIG_UNBLOCK);
        let me = getpid().as_raw();
        // SAFETY: kill(2) to the caller's own pid: it reaches no one else.
        let sent = unsafe { libc::kill(me, libc::SIGUSR1) };
        if sent == -1 {
            return Err(Errno::last());
        }
        answered(json!({
            "handled": HANDLED.load(Ordering::SeqCst),
            "si_pid": SEEN_PID.load(Ordering::SeqCst),
            "si_code": SEEN_CODE.load(Ordering::SeqCst),
            "pid": me,
        }))
    })?
    .finish()
}

/// fcntl(2) F_SETSIG (10 on Linux; the libc crate lacks it).
const F_SETSIG: libc::c_int = 10;

/// The fields of a SIGIO siginfo_t on x86_64 (`_sigpoll` of the union).
#[repr(C)]
struct PollInfo {
    signo: i32,
    errno: i32,
    code: i32,
    _pad: i32,
    band: libc::c_long,
    fd: i32,
}

/// The reader of `sigio`: own the read end `fd`, ask for SIGUSR1 on input,
/// say ready, and take the signal.
fn own_sigio(fd: RawFd, ch: &Channel) -> Value {
    mask_usr1(libc::SIG_BLOCK);
    let me = getpid().as_raw();
    // SAFETY: fcntl(2) on a pipe descriptor we own, with integer arguments.
    let set = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETOWN, me) == 0
            && libc::fcntl(fd, F_SETSIG, libc::SIGUSR1) == 0
            && flags != -1
            && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_ASYNC) == 0
    };
    if !set {
        return json!({ "errno": Errno::last() as i32 });
    }
    ch.ready();
    match take_usr1() {
        Ok(info) => {
            // SAFETY: siginfo_t is at least as large as PollInfo, which
            // reads the SIGIO layout of the same bytes.
            let p = unsafe { &*(&info as *const libc::siginfo_t).cast::<PollInfo>() };
            json!({
                "delivered": true,
                "si_signo": p.signo,
                "si_code": p.code,
                "si_fd_matches": p.fd == fd,
                "band_pollin": p.band & libc::POLLIN as libc::c_long != 0,
                "pid": me,
            })
        }
        Err(Errno::EAGAIN) => json!({ "delivered": false, "pid": me }),
        Err(e) => json!({ "errno": e as i32 }),
    }
}

/// Write one byte to `fd`.
fn poke(fd: RawFd) -> Result<(), Errno> {
    pipe::write_all(fd, b"x")
}

/// SIGIO from a pipe whose read end the init of a new pid namespace owns.
pub(super) fn sigio(s: &Sigio) -> Result<Extra, Errno> {
    let (data_r, data_w) = pipe::owned()?;
    let (r, w) = (data_r.as_raw_fd(), data_w.as_raw_fd());
    let reader = helper::spawn_as(NEW_PID, PATIENCE, |ch| {
        process::drop_inherited(&[w]);
        Ok(own_sigio(r, ch))
    })?;
    drop(data_r);
    reader.wait_ready().map_err(|_| Errno::EIO)?;
    match s.writer {
        SigioWriter::Outside => poke(w)?,
        SigioWriter::Sibling => {
            let _ = helper::spawn_as(NEW_PID, PATIENCE, |_| poke(w))?.finish();
        }
    }
    drop(data_w);
    answered(reader.finish().map_err(|_| Errno::EIO)?)
}

/// Register the caller with mq_notify(3) for SIGUSR1 on `mqd`.
fn register(mqd: libc::mqd_t) -> Result<(), Errno> {
    // SAFETY: a zeroed sigevent asking for SIGUSR1; mq_notify reads it.
    let ret = unsafe {
        let mut ev: libc::sigevent = std::mem::zeroed();
        ev.sigev_notify = libc::SIGEV_SIGNAL;
        ev.sigev_signo = libc::SIGUSR1;
        libc::mq_notify(mqd, &ev)
    };
    Errno::result(ret).map(drop)
}

/// Send one message to `mqd`.
fn mq_put(mqd: libc::mqd_t) -> Result<(), Errno> {
    let text = b"nsconform";
    // SAFETY: the pointer and length describe the live array `text`.
    let ret = unsafe { libc::mq_send(mqd, text.as_ptr().cast(), text.len(), 0) };
    Errno::result(ret).map(drop)
}

/// What a receiver saw.
fn seen(info: Result<libc::siginfo_t, Errno>, sender: Option<i32>) -> Value {
    match info {
        // SAFETY: si_pid reads the union as the kernel fills it for a
        // SI_MESGQ signal (pid and uid first).
        Ok(i) => {
            json!({ "si_pid": unsafe { i.si_pid() }, "si_code": i.si_code, "sender_seen": sender })
        }
        Err(e) => json!({ "errno": e as i32 }),
    }
}

/// The init's part of `mq_notify`.
fn mq_init(m: &MqNotify, mqd: libc::mqd_t, ch: &Channel) -> Value {
    if m.receiver != MqParty::Init {
        let sent = if ch.wait_go() {
            mq_put(mqd)
        } else {
            Err(Errno::EIO)
        };
        return json!({ "sent": sent.is_ok() });
    }
    if let Err(e) = register(mqd) {
        return json!({ "errno": e as i32 });
    }
    ch.ready();
    let sender = match m.sender {
        MqParty::InitChild => helper::spawn(PATIENCE, |_| mq_put(mqd)).map(|c| {
            let pid = c.pid().as_raw();
            let _ = c.finish();
            Some(pid)
        }),
        _ => Ok(None),
    };
    match sender {
        Ok(sender) => seen(take_usr1(), sender),
        Err(e) => json!({ "errno": e as i32 }),
    }
}

/// The helper's part of `mq_notify`, once the queue exists.
fn mq_exchange(m: &MqNotify, mqd: libc::mqd_t) -> Result<Value, Errno> {
    mask_usr1(libc::SIG_BLOCK);
    let init = helper::spawn_as(NEW_PID, PATIENCE, |ch| Ok(mq_init(m, mqd, ch)))?;
    let mine = match m.receiver {
        MqParty::Init => match (init.wait_ready().is_ok(), m.sender) {
            (true, MqParty::Outside) => mq_put(mqd).map(|()| None),
            (true, _) => Ok(None),
            (false, _) => Err(Errno::EIO),
        },
        _ => register(mqd).map(|()| {
            init.go();
            Some(seen(take_usr1(), Some(init.pid().as_raw())))
        }),
    };
    let theirs = init.finish();
    match mine? {
        Some(value) => Ok(value),
        None => theirs.map_err(|_| Errno::EIO),
    }
}

/// The helper of `mq_notify`: create the queue, exchange, remove it.
fn mq_run(m: &MqNotify) -> Result<Value, Errno> {
    let name = CString::new(m.name.as_str()).map_err(|_| Errno::EINVAL)?;
    let mqd = crate::step::ipc::create_queue(&name, libc::O_RDWR)?;
    let result = mq_exchange(m, mqd);
    // SAFETY: closing the descriptor just opened.
    unsafe { libc::mq_close(mqd) };
    guard::ensure(NsType::Ipc)?;
    // SAFETY: `name` is a valid C string.
    unsafe { libc::mq_unlink(name.as_ptr()) };
    result
}

/// mq_notify(3) across a pid namespace boundary, in a helper of its own.
pub(super) fn mq_notify(m: &MqNotify) -> Result<Extra, Errno> {
    helper::in_child(PATIENCE, || mq_run(m).and_then(answered))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_layout_fits_siginfo() {
        assert!(std::mem::size_of::<PollInfo>() <= std::mem::size_of::<libc::siginfo_t>());
        assert_eq!(std::mem::offset_of!(PollInfo, band), 16);
        assert_eq!(std::mem::offset_of!(PollInfo, fd), 24);
    }
}
