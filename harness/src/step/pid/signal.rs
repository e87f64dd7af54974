//! Signals that cross, or stay in, a pid namespace and the siginfo the
//! receiver sees: a signal an init sends itself, SIGIO from a pipe it owns,
//! and the signal of an mq_notify(3) registration.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Instant;

use nix::errno::Errno;
use nix::unistd::getpid;
use serde_json::{json, Value};

use super::tree::{
    answered, await_exit, poll_in, read_until_eof, reported, send, spawn, How, NEW_PID, PATIENCE,
};
use crate::guard;
use crate::kind::NsType;
use crate::plan::pid::{MqNotify, MqParty, Sigio, SigioWriter};
use crate::step::Extra;
use crate::sys::helper;
use crate::sys::pipe::{self, Pipe};

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
fn own_sigio(fd: RawFd, ready: RawFd) -> Value {
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
    let _ = pipe::send_u32(ready, 1);
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
    let deadline = Instant::now() + PATIENCE;
    let (data, ready, report) = (Pipe::new()?, Pipe::new()?, Pipe::new()?);
    let reader = spawn(How::NewPid, || {
        data.write.close();
        ready.read.close();
        report.read.close();
        let seen = own_sigio(data.read.fd(), ready.write.fd());
        send(report.write.fd(), &seen);
        0
    });
    data.read.close();
    ready.write.close();
    report.write.close();
    let result = reader.and_then(|pid| {
        let ok = poll_in(ready.read.fd(), PATIENCE) && pipe::recv_u32(ready.read.fd()).is_some();
        let wrote = match (ok, s.writer) {
            (false, _) => Err(Errno::EIO),
            (true, SigioWriter::Outside) => poke(data.write.fd()),
            (true, SigioWriter::Sibling) => spawn(How::NewPid, || {
                ready.read.close();
                report.read.close();
                i32::from(poke(data.write.fd()).is_err())
            })
            .map(|w| {
                await_exit(w, deadline);
            }),
        };
        data.write.close();
        let bytes = read_until_eof(report.read.fd(), deadline);
        await_exit(pid, deadline);
        wrote?;
        let text = String::from_utf8_lossy(&bytes);
        match serde_json::from_str(text.lines().next().unwrap_or("")) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Errno::EIO),
        }
    });
    ready.read.close();
    report.read.close();
    if result.is_err() {
        data.write.close();
    }
    reported(result?)
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
fn mq_init(m: &MqNotify, mqd: libc::mqd_t, p: &[Pipe; 3]) -> i32 {
    let [ready, go, report] = p;
    ready.read.close();
    go.write.close();
    report.read.close();
    let value = if m.receiver == MqParty::Init {
        match register(mqd) {
            Err(e) => json!({ "errno": e as i32 }),
            Ok(()) => {
                let _ = pipe::send_u32(ready.write.fd(), 1);
                let sender = match m.sender {
                    MqParty::InitChild => {
                        let child = spawn(How::Fork, || i32::from(mq_put(mqd).is_err()));
                        child.map(|c| {
                            await_exit(c, Instant::now() + PATIENCE);
                            Some(c.as_raw())
                        })
                    }
                    _ => Ok(None),
                };
                match sender {
                    Ok(sender) => seen(take_usr1(), sender),
                    Err(e) => json!({ "errno": e as i32 }),
                }
            }
        }
    } else {
        let go_on = pipe::recv_u32(go.read.fd()).is_some();
        let sent = if go_on { mq_put(mqd) } else { Err(Errno::EIO) };
        json!({ "sent": sent.is_ok() })
    };
    send(report.write.fd(), &value);
    0
}

/// The helper's part of `mq_notify`, once the queue exists.
fn mq_exchange(m: &MqNotify, mqd: libc::mqd_t) -> Result<Value, Errno> {
    let deadline = Instant::now() + PATIENCE;
    let p = [Pipe::new()?, Pipe::new()?, Pipe::new()?];
    let [ready, go, report] = &p;
    mask_usr1(libc::SIG_BLOCK);
    let init = spawn(How::NewPid, || mq_init(m, mqd, &p));
    ready.write.close();
    go.read.close();
    report.write.close();
    let init = match init {
        Ok(pid) => pid,
        Err(e) => {
            ready.read.close();
            go.write.close();
            report.read.close();
            return Err(e);
        }
    };
    let mine = match m.receiver {
        MqParty::Init => {
            let ok =
                poll_in(ready.read.fd(), PATIENCE) && pipe::recv_u32(ready.read.fd()).is_some();
            match (ok, m.sender) {
                (true, MqParty::Outside) => mq_put(mqd).map(|()| None),
                (true, _) => Ok(None),
                (false, _) => Err(Errno::EIO),
            }
        }
        _ => register(mqd).map(|()| {
            let _ = pipe::send_u32(go.write.fd(), 1);
            Some(seen(take_usr1(), Some(init.as_raw())))
        }),
    };
    go.write.close();
    let bytes = read_until_eof(report.read.fd(), deadline);
    ready.read.close();
    report.read.close();
    await_exit(init, deadline);
    if let Some(value) = mine? {
        return Ok(value);
    }
    let text = String::from_utf8_lossy(&bytes);
    serde_json::from_str(text.lines().next().unwrap_or("")).map_err(|_| Errno::EIO)
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
