//! The environment: the kernel, the privileges and the features found at
//! start. Requirements are probed here, not assumed from the version.

use std::collections::BTreeMap;
use std::path::Path;

use crate::kind::KINDS;
use crate::plan::Door;
use crate::skip::SkipReason;
use crate::verdict::{DoorInfo, Environment};

/// Whether the caller has CAP_SYS_ADMIN in the initial user namespace.
pub fn privileged() -> bool {
    let in_initial = std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
        .unwrap_or(false);
    let admin = caps::has_cap(
        None,
        caps::CapSet::Effective,
        caps::Capability::CAP_SYS_ADMIN,
    )
    .unwrap_or(false);
    in_initial && admin
}

/// Whether an ordinary user may create user namespaces here.
fn unprivileged_userns() -> bool {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let max_ok = read("/proc/sys/user/max_user_namespaces").is_none_or(|v| v != "0");
    let clone_ok = read("/proc/sys/kernel/unprivileged_userns_clone").is_none_or(|v| v != "0");
    max_ok && clone_ok
}

fn has_clone3() -> bool {
    crate::sys::clone::clone3_exists()
}

/// A pidfd of `pid`, if pidfd_open(2) exists.
fn pidfd_of(pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// A pidfd of a process that has exited and been reaped: a child that
/// leaves at once, before it would exec anything.
fn pidfd_of_a_dead_child() -> Option<std::os::fd::OwnedFd> {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new("/");
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: the closure runs between fork and exec and calls only _exit,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| libc::_exit(0));
    }
    let mut child = cmd.spawn().ok()?;
    let fd = pidfd_of(child.id() as libc::pid_t);
    child.wait().ok()?;
    fd
}

/// setns(2) on a pidfd (5.8), asked of a process that is gone: the kernel
/// answers ESRCH where it takes pidfds and EINVAL where it does not, and
/// the caller joins nothing either way (no setns into a namespace runs in
/// this multithreaded process).
fn has_setns_pidfd() -> bool {
    let Some(fd) = pidfd_of_a_dead_child() else {
        return false;
    };
    // Success is impossible on a gone process; only a filter that fakes
    // setns (the isolation guard's fault-injection tests) gives it.
    matches!(
        nix::sched::setns(&fd, nix::sched::CloneFlags::CLONE_NEWUTS),
        Ok(()) | Err(nix::errno::Errno::ESRCH)
    )
}

/// ioctl(NS_GET_ID) (6.18) on the caller's UTS namespace: ENOTTY where the
/// kernel lacks it.
fn has_ns_get_id() -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open("/proc/self/ns/uts") else {
        return false;
    };
    let mut id: u64 = 0;
    // SAFETY: NS_GET_ID (_IOR(0xb7, 13, u64)) writes one u64 into `id`.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), 0x8008_b70d_u64 as _, &mut id as *mut u64) };
    ret == 0
}

fn filesystems() -> String {
    std::fs::read_to_string("/proc/filesystems").unwrap_or_default()
}

/// Every feature the suite looks for, by name.
pub fn features() -> BTreeMap<String, bool> {
    let mut f = BTreeMap::new();
    for kind in KINDS {
        let exists = Path::new("/proc/self/ns").join(kind.name).exists();
        f.insert(format!("ns.{}", kind.name), exists);
    }
    f.insert("clone3".into(), has_clone3());
    f.insert(
        "pidfd".into(),
        pidfd_of(std::process::id() as libc::pid_t).is_some(),
    );
    f.insert("setns_pidfd".into(), has_setns_pidfd());
    f.insert(
        "time_offsets".into(),
        Path::new("/proc/self/timens_offsets").exists(),
    );
    f.insert("cgroup2".into(), filesystems().contains("cgroup2"));
    f.insert("mqueue".into(), filesystems().contains("mqueue"));
    f.insert("unprivileged_userns".into(), unprivileged_userns());
    f.insert("ns_get_id".into(), has_ns_get_id());
    f
}

/// Whether a door can run here at all, by the features found.
pub fn door_available(door: Door, features: &BTreeMap<String, bool>) -> Result<(), SkipReason> {
    let need = match door {
        Door::Clone3 => Some("clone3"),
        Door::SetnsPidfd => Some("setns_pidfd"),
        _ => None,
    };
    match need {
        Some(feature) if !features.get(feature).copied().unwrap_or(false) => {
            Err(SkipReason::DoorUnavailable { door, feature })
        }
        _ => Ok(()),
    }
}

fn uname() -> (String, String, String) {
    match nix::sys::utsname::uname() {
        Ok(u) => (
            u.release().to_string_lossy().into_owned(),
            u.version().to_string_lossy().into_owned(),
            u.machine().to_string_lossy().into_owned(),
        ),
        Err(_) => Default::default(),
    }
}

/// Kernel configuration options about namespaces, from /proc/config.gz is
/// not readable without a decompressor; /boot/config-<release> is plain text.
fn kconfig(release: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(format!("/boot/config-{release}")).unwrap_or_default();
    let wanted: Vec<&str> = KINDS.iter().map(|k| k.kconfig).collect();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| wanted.contains(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Probe the environment of a run on `target`.
pub fn probe(target: &str) -> Environment {
    probe_with(target, &crate::runtimes::Overrides::new())
}

/// Probe the environment, with runtime programs given on the command line.
pub fn probe_with(target: &str, runtimes: &crate::runtimes::Overrides) -> Environment {
    let (kernel_release, kernel_version, arch) = uname();
    let features = features();
    let privileged = privileged();
    let doors = Door::ALL
        .iter()
        .map(|d| DoorInfo {
            name: d.name().into(),
            available: door_available(*d, &features).is_ok(),
            version: None,
            ..DoorInfo::default()
        })
        .chain(crate::runtimes::detect_all(runtimes))
        .collect();
    Environment {
        kconfig: kconfig(&kernel_release),
        kernel_release,
        kernel_version,
        arch,
        privileged,
        rootless: !privileged,
        uid: nix::unistd::geteuid().as_raw(),
        features,
        doors,
        target: target.into(),
    }
}
