//! Carrying out the steps of plan::time: offsets written before and after
//! anyone entered, setns back, absolute timers, sysinfo and raw clone(2).
//! Offsets are written only to a `time_for_children` namespace the guard
//! found is not the one the probe started in.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use serde_json::{json, Value};

use super::{Extra, StepEnv};
use crate::guard::{self, Origin};
use crate::kind::NsType;
use crate::plan::time::{Clock, TimeStep, MAX_TIMER_MS};
use crate::plan::{Offset, TimeSettings};
use crate::sys::errno::io_errno;
use crate::sys::helper::{self, Start};
use crate::view::{ns, time as tview};

const CLONE_NEWTIME: i32 = 0x80;

/// How long a helper child may take before it is killed.
const CHILD_LIMIT: Duration = Duration::from_millis(MAX_TIMER_MS as u64 + 1000);

pub fn perform(step: &TimeStep, env: &StepEnv) -> Result<Extra, Errno> {
    let origin = env.origin;
    match step {
        TimeStep::WriteOffsets { text } => write_offsets(origin, text).map(|_| Extra::new()),
        TimeStep::FreshOffsets { text } => {
            helper::in_child(CHILD_LIMIT, || fresh_offsets(origin, text))
        }
        TimeStep::SetnsBack {
            monotonic,
            boottime,
        } => helper::in_child(CHILD_LIMIT, || setns_back(origin, *monotonic, *boottime)),
        TimeStep::ClockNanosleepAbs { clock, ms } => {
            helper::in_child(CHILD_LIMIT, || nanosleep_abs(*clock, *ms))
        }
        TimeStep::TimerfdAbs { clock, ms } => timerfd_abs(*clock, *ms),
        TimeStep::Sysinfo {} => sysinfo(),
        TimeStep::LegacyClone {} => legacy_clone(),
    }
}

/// Check, right before writing `timens_offsets`, that the namespace it
/// sets (the caller's `time_for_children`) is not the one the probe
/// started in; the guard refuses (and sends its event) when it is.
fn ensure_children_ns(origin: &Origin) -> Result<(), Errno> {
    Ok(guard::require(
        NsType::Time,
        origin.check_link(NsType::Time, "time_for_children"),
    )?)
}

/// One write(2) of `text` to the caller's `timens_offsets`, as a user would.
fn write_offsets(origin: &Origin, text: &str) -> Result<(), Errno> {
    ensure_children_ns(origin)?;
    let mut file = File::options()
        .write(true)
        .open("/proc/self/timens_offsets")
        .map_err(io_errno)?;
    file.write(text.as_bytes()).map_err(io_errno)?;
    Ok(())
}

/// The offsets of the caller's `time_for_children` namespace, as JSON.
fn read_offsets() -> Value {
    std::fs::read_to_string("/proc/self/timens_offsets")
        .ok()
        .and_then(|t| tview::parse_offsets(&t))
        .map(|o| json!({ "monotonic": o.monotonic, "boottime": o.boottime }))
        .unwrap_or(Value::Null)
}

fn clock_ns(id: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

fn to_timespec(ns: i128) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    }
}

fn elapsed_ms(start_ns: i128) -> f64 {
    (clock_ns(libc::CLOCK_REALTIME) - start_ns) as f64 / 1e6
}

fn unshare_time() -> Result<(), Errno> {
    nix::sched::unshare(CloneFlags::from_bits_retain(CLONE_NEWTIME))
}

fn fresh_offsets(origin: &Origin, text: &str) -> Result<Extra, Errno> {
    unshare_time()?;
    write_offsets(origin, text)?;
    let mut extra = Extra::new();
    extra.insert("offsets".into(), read_offsets());
    Ok(extra)
}

/// The clocks a time namespace shifts, in nanoseconds.
const SHIFTED: [(&str, libc::clockid_t); 4] = [
    ("monotonic", libc::CLOCK_MONOTONIC),
    ("boottime", libc::CLOCK_BOOTTIME),
    ("monotonic_raw", libc::CLOCK_MONOTONIC_RAW),
    ("monotonic_coarse", libc::CLOCK_MONOTONIC_COARSE),
];

fn read_clocks() -> [i128; 4] {
    SHIFTED.map(|(_, id)| clock_ns(id))
}

/// The clocks as the initial time namespace reads them: `clocks` less the
/// offsets of the caller's time namespace, so that a shift measured from
/// them is the distance from the initial namespace's clocks.
fn less_own_offsets(clocks: [i128; 4]) -> [i128; 4] {
    let offsets = std::fs::read_to_string("/proc/self/timens_offsets")
        .ok()
        .and_then(|t| crate::view::time::parse_offsets(&t));
    let ns = |o: [i64; 2]| o[0] as i128 * 1_000_000_000 + o[1] as i128;
    let (m, b) = offsets.map_or((0, 0), |o| (ns(o.monotonic), ns(o.boottime)));
    let [mono, boot, raw, coarse] = clocks;
    [mono - m, boot - b, raw - m, coarse - m]
}

/// Each clock's shift from `before`, in whole seconds (rounded).
fn shifts(before: &[i128; 4]) -> Value {
    let now = read_clocks();
    let mut map = serde_json::Map::new();
    for (i, (name, _)) in SHIFTED.iter().enumerate() {
        let secs = ((now[i] - before[i]) as f64 / 1e9).round() as i64;
        map.insert((*name).into(), secs.into());
    }
    Value::Object(map)
}

fn setns_time(file: &File) -> Result<(), Errno> {
    nix::sched::setns(file, CloneFlags::from_bits_retain(CLONE_NEWTIME))
}

fn setns_back(
    origin: &Origin,
    monotonic: Option<Offset>,
    boottime: Option<Offset>,
) -> Result<Extra, Errno> {
    let old = File::open("/proc/self/ns/time").map_err(io_errno)?;
    let old_id = ns::id_of("self", "time");
    let before = less_own_offsets(read_clocks());
    unshare_time()?;
    ensure_children_ns(origin)?;
    let offsets = TimeSettings {
        monotonic,
        boottime,
    };
    // One write per clock: some releases take only one clock per call.
    for line in offsets.render().lines() {
        write_offsets(origin, &format!("{line}\n"))?;
    }
    let new = File::open("/proc/self/ns/time_for_children").map_err(io_errno)?;
    setns_time(&new)?;
    let entered = json!({
        "offsets": read_offsets(),
        "shift": shifts(&before),
        "new_ns": ns::id_of("self", "time") != old_id,
    });
    setns_time(&old)?;
    let back = json!({
        "offsets": read_offsets(),
        "shift": shifts(&before),
        "same_ns": ns::id_of("self", "time") == old_id,
    });
    let mut extra = Extra::new();
    extra.insert("entered".into(), entered);
    extra.insert("back".into(), back);
    Ok(extra)
}

fn nanosleep_abs(clock: Clock, ms: u32) -> Result<Extra, Errno> {
    let start = clock_ns(libc::CLOCK_REALTIME);
    let target = to_timespec(clock_ns(clock.id()) + ms as i128 * 1_000_000);
    loop {
        // SAFETY: `target` is a valid timespec; no remainder is asked for.
        let rc = unsafe {
            libc::clock_nanosleep(
                clock.id(),
                libc::TIMER_ABSTIME,
                &target,
                std::ptr::null_mut(),
            )
        };
        match rc {
            0 => break,
            libc::EINTR => continue,
            e => return Err(Errno::from_raw(e)),
        }
    }
    let mut extra = Extra::new();
    extra.insert("elapsed_ms".into(), elapsed_ms(start).into());
    Ok(extra)
}

fn timerfd_abs(clock: Clock, ms: u32) -> Result<Extra, Errno> {
    // SAFETY: timerfd_create takes integers and returns a new descriptor.
    let fd = Errno::result(unsafe { libc::timerfd_create(clock.id(), libc::TFD_CLOEXEC) })?;
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    arm_and_wait(fd.as_raw_fd(), clock, ms)
}

fn arm_and_wait(fd: RawFd, clock: Clock, ms: u32) -> Result<Extra, Errno> {
    let start = clock_ns(libc::CLOCK_REALTIME);
    let spec = libc::itimerspec {
        it_interval: to_timespec(0),
        it_value: to_timespec(clock_ns(clock.id()) + ms as i128 * 1_000_000),
    };
    // SAFETY: `spec` is a valid itimerspec; no old value is asked for.
    Errno::result(unsafe {
        libc::timerfd_settime(fd, libc::TFD_TIMER_ABSTIME, &spec, std::ptr::null_mut())
    })?;
    let ready = crate::sys::pipe::readable_by(
        fd,
        Instant::now() + Duration::from_millis(MAX_TIMER_MS as u64),
    );
    let mut count = 0u64;
    if ready {
        // SAFETY: reading 8 bytes into the u64 we own.
        let n = unsafe { libc::read(fd, (&mut count as *mut u64).cast(), 8) };
        Errno::result(n)?;
    }
    let mut extra = Extra::new();
    extra.insert("expired".into(), (count == 1).into());
    extra.insert("elapsed_ms".into(), elapsed_ms(start).into());
    Ok(extra)
}

fn sysinfo() -> Result<Extra, Errno> {
    // SAFETY: sysinfo is plain old data; all zeroes is a valid value.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: sysinfo(2) fills the struct we own.
    Errno::result(unsafe { libc::sysinfo(&mut si) })?;
    let proc_uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| tview::parse_uptime(&t));
    let uptime = si.uptime as f64;
    // sysinfo rounds a partial second up; /proc/uptime shows hundredths.
    let consistent = proc_uptime.is_some_and(|p| uptime >= p.floor() && uptime <= p.ceil() + 1.0);
    let mut extra = Extra::new();
    extra.insert("uptime".into(), si.uptime.into());
    extra.insert("consistent".into(), consistent.into());
    Ok(extra)
}

/// The exit signal of `pid`: field 38 of `/proc/<pid>/stat`.
fn exit_signal(pid: Pid) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    // Field 3 is the first after the command name.
    after_comm.split(' ').nth(38 - 3)?.parse().ok()
}

fn legacy_clone() -> Result<Extra, Errno> {
    let start = Start::Clone(CLONE_NEWTIME as u64);
    let held = helper::spawn_as(start, Duration::from_secs(2), |ch| Ok(ch.wait_go()))?;
    let pid = held.pid();
    let child = ns::id_of(&pid.to_string(), "time");
    let signal = exit_signal(pid);
    held.go();
    let _ = held.finish();
    let mut extra = Extra::new();
    extra.insert(
        "new_time_ns".into(),
        (child.is_some() && child != ns::id_of("self", "time")).into(),
    );
    extra.insert("exit_signal".into(), signal.into());
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_signal_of_self_is_sigchld_or_zero() {
        let me = nix::unistd::getpid();
        assert!(exit_signal(me).is_some());
    }

    #[test]
    fn timespec_split() {
        let ts = to_timespec(3_250_000_000);
        assert_eq!((ts.tv_sec, ts.tv_nsec), (3, 250_000_000));
    }
}
