//! The environment: the kernel, the privileges and the features found at
//! start. Requirements are probed here, not assumed from the version.

use std::collections::BTreeMap;
use std::path::Path;

use crate::kind::KINDS;
use crate::plan::Door;
use crate::skip::SkipReason;
use crate::target::vm::kconfig::{self, KernelConfig};
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

/// The sysctl settings that keep ordinary users (or, for the first, everyone)
/// from creating user namespaces, each a feature `sysctl:<name>=<value>`.
pub const USERNS_RESTRICTIONS: [&str; 3] = [
    "sysctl:user.max_user_namespaces=0",
    "sysctl:kernel.unprivileged_userns_clone=0",
    "sysctl:kernel.apparmor_restrict_unprivileged_userns=1",
];

/// The sysctl settings a case may require, each a feature `sysctl:<name>=<value>`;
/// true where the setting has that value (an absent sysctl has its default,
/// `absent_is`).
const SYSCTLS: [(&str, bool); 4] = [
    (USERNS_RESTRICTIONS[0], false),
    (USERNS_RESTRICTIONS[1], false),
    (USERNS_RESTRICTIONS[2], false),
    ("sysctl:net.core.devconf_inherit_init_net=0", true),
];

/// Whether `feature` (`sysctl:<name>=<value>`) holds here.
fn sysctl_is(feature: &str, absent_is: bool) -> bool {
    let Some((name, want)) = feature
        .strip_prefix("sysctl:")
        .and_then(|s| s.split_once('='))
    else {
        return false;
    };
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    std::fs::read_to_string(path).map_or(absent_is, |v| v.trim() == want)
}

/// Why ordinary users may not create user namespaces here: the setting
/// that forbids it, by the features found.
pub fn userns_refusal(features: &BTreeMap<String, bool>) -> Option<String> {
    USERNS_RESTRICTIONS
        .iter()
        .find(|f| features.get(**f).copied().unwrap_or(false))
        .map(|f| {
            let setting = f.trim_start_matches("sysctl:").replace('=', " = ");
            format!("user namespaces are restricted here ({setting})")
        })
}

fn has_clone3() -> bool {
    crate::sys::clone::clone3_exists()
}

/// setns(2) on a pidfd (5.8), asked of a process that is gone: the kernel
/// answers ESRCH where it takes pidfds and EINVAL where it does not, and
/// the caller joins nothing either way (no setns into a namespace runs in
/// this multithreaded process).
fn has_setns_pidfd() -> bool {
    let Some(fd) = crate::sys::command::pidfd_of_a_gone_child() else {
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
    crate::sys::ns::open("/proc/self/ns/uts").is_ok_and(|fd| crate::sys::ns::ns_get_id(&fd).is_ok())
}

/// name_to_handle_at(2) on an nsfs file (6.18): EOPNOTSUPP where nsfs
/// has no export operations.
fn has_nsfs_handles() -> bool {
    crate::sys::ns::open("/proc/self/ns/uts")
        .is_ok_and(|fd| crate::sys::ns::file_handle(&fd).is_ok())
}

/// listns(2) (6.19), called with a null request: EFAULT where it exists,
/// ENOSYS where it does not.
fn has_listns() -> bool {
    // SAFETY: with a null request the kernel reads and writes nothing.
    let ret = unsafe {
        libc::syscall(
            470,
            std::ptr::null::<u8>(),
            std::ptr::null_mut::<u64>(),
            0,
            0,
        )
    };
    ret == 0 || nix::errno::Errno::last() != nix::errno::Errno::ENOSYS
}

/// NS_MNT_GET_INFO (6.12) on the caller's mount namespace: ENOTTY where
/// the kernel lacks it.
fn has_mnt_ns_info() -> bool {
    mnt_ns_id().is_some()
}

/// The id NS_MNT_GET_INFO gives the caller's mount namespace.
fn mnt_ns_id() -> Option<u64> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open("/proc/self/ns/mnt").ok()?;
    let mut info = [16u32, 0, 0, 0];
    // SAFETY: NS_MNT_GET_INFO (_IOR(0xb7, 10, 16 bytes)) fills the 16-byte
    // mnt_ns_info `info` is.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), 0x8010_b70a_u64 as _, info.as_mut_ptr()) };
    (ret == 0).then(|| u64::from(info[2]) | (u64::from(info[3]) << 32))
}

/// listmount(2) with a `mnt_ns_id` (6.11), of the caller's own namespace:
/// ENOSYS before listmount, EINVAL before the field.
fn has_listmount_ns_id() -> bool {
    let Some(id) = mnt_ns_id() else {
        return false;
    };
    let req: [u64; 4] = [32, u64::MAX, 0, id];
    let mut ids = [0u64; 1];
    // SAFETY: `req` is a 32-byte mnt_id_req and `ids` has room for one id.
    let ret = unsafe { libc::syscall(458, req.as_ptr(), ids.as_mut_ptr(), 1usize, 0) };
    ret >= 0
}

/// SIOCGSKNS (4.9) on a fresh socket: the namespace, or EPERM without
/// CAP_NET_ADMIN over it; anything else where the kernel lacks it.
fn has_siocgskns() -> bool {
    use std::os::fd::AsRawFd;
    let Ok(sock) = std::net::UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), 0x894C as _) };
    if ret >= 0 {
        // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
        drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ret) });
        return true;
    }
    nix::errno::Errno::last() == nix::errno::Errno::EPERM
}

/// Whether `check` holds in a child process that has unshared a user and a
/// pid namespace and forked once (the grandchild is pid 1 there), having
/// first given up global root (to uid and gid 65534) if it had it. Nothing
/// of this multithreaded process changes: the child is forked, runs only
/// async-signal-safe calls and exits before it would exec.
fn in_new_user_and_pid_ns(check: fn() -> bool) -> bool {
    let drop_root = crate::view::user::euid_maps_to_root();
    let nobody = 65534;
    // SAFETY: unshare, fork, waitpid, setgroups, setresgid, setresuid and
    // `check` (open and close) are async-signal-safe, and nothing allocates.
    let in_child = move || unsafe {
        let dropped = !drop_root
            || (libc::setgroups(0, std::ptr::null()) == 0
                && libc::setresgid(nobody, nobody, nobody) == 0
                && libc::setresuid(nobody, nobody, nobody) == 0);
        if !dropped || libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWPID) != 0 {
            return false;
        }
        match libc::fork() {
            -1 => false,
            0 => libc::_exit(if check() { 0 } else { 1 }),
            pid => {
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0) == pid && status == 0
            }
        }
    };
    // SAFETY: `in_child` calls only async-signal-safe functions.
    unsafe { crate::sys::command::holds_in_a_child(in_child) }
}

/// Opened without being written: kernel.pid_max is writable by the root of
/// a pid namespace's own user namespace only where each pid namespace has
/// its own (6.14); a global one's file belongs to global root, which the
/// caller has given up.
fn pid_max_writable() -> bool {
    // SAFETY: a NUL-terminated path; the descriptor is closed at once and
    // nothing is written through it.
    unsafe {
        let fd = libc::open(
            c"/proc/sys/kernel/pid_max".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        fd >= 0 && libc::close(fd) == 0
    }
}

/// pid_for_children of a process that unshared CLONE_NEWPID can be opened
/// before the namespace has an init (after 6.18): ENOENT before.
fn pid_for_children_opens() -> bool {
    // SAFETY: NUL-terminated paths; the descriptors are closed at once.
    unsafe {
        if libc::unshare(libc::CLONE_NEWPID) != 0 {
            return false;
        }
        let fd = libc::open(
            c"/proc/self/ns/pid_for_children".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        fd >= 0 && libc::close(fd) == 0
    }
}

/// The IPC sysctls of an IPC namespace its probes make can be written by
/// this run: global root writes them on every kernel; anyone else as the
/// root of the namespace's own user namespace, which owns them since 6.9
/// (50ec499b9a43, ipc_set_ownership; backported to 6.1.y and 6.6.y). Asked
/// of a child that unshares a user and an IPC namespace, maps its uid to 0
/// there and opens kernel.shmmax and fs.mqueue.queues_max for writing
/// without writing them.
fn ipc_sysctls_writable() -> bool {
    if privileged() {
        return true;
    }
    let map = format!("0 {} 1\n", nix::unistd::geteuid());
    // SAFETY: unshare, open, write and close on NUL-terminated static paths
    // and a buffer made before the fork: async-signal-safe, no allocation.
    let in_child = move || unsafe {
        if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWIPC) != 0 {
            return false;
        }
        let fd = libc::open(
            c"/proc/self/uid_map".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if fd < 0 || libc::write(fd, map.as_ptr().cast(), map.len()) != map.len() as isize {
            return false;
        }
        libc::close(fd);
        [
            c"/proc/sys/kernel/shmmax",
            c"/proc/sys/fs/mqueue/queues_max",
        ]
        .iter()
        .all(|path| {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            fd >= 0 && libc::close(fd) == 0
        })
    };
    // SAFETY: `in_child` calls only async-signal-safe functions.
    unsafe { crate::sys::command::holds_in_a_child(in_child) }
}

/// veth pairs (CONFIG_VETH), found without making one: built in by the
/// kernel's configuration where it is readable (reading the kernel's
/// symbols instead took a tenth of a second of every run's start); else
/// built in or loaded, the kernel's symbols name `veth_newlink`; a module
/// on disk can be loaded when a pair is made. A kernel that hides its
/// symbols is taken to have it.
fn has_veth(config: &KernelConfig) -> bool {
    use std::io::BufRead;
    if config.hash.is_some() {
        match config.options.get("CONFIG_VETH").map(String::as_str) {
            Some("y") => return true,
            Some("m") => {}
            _ => return false,
        }
    }
    let release = uname().0;
    let dir = Path::new("/lib/modules")
        .join(release)
        .join("kernel/drivers/net");
    let module = ["veth.ko", "veth.ko.xz", "veth.ko.zst", "veth.ko.gz"]
        .iter()
        .any(|m| dir.join(m).exists());
    let Ok(symbols) = std::fs::File::open("/proc/kallsyms") else {
        return true;
    };
    module
        || std::io::BufReader::new(symbols)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.ends_with(" veth_newlink"))
}

/// Whether this process's cgroup v2 path is below `/`, so that a new
/// cgroup namespace rooted there shows `/` only if the kernel virtualises it.
fn below_root_cgroup() -> bool {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .is_some_and(|path| path.trim() != "/")
}

/// Whether this process is in the initial PID namespace, whose nsfs inode
/// is the fixed PROC_PID_INIT_INO (0xEFFFFFFC) since Linux 3.8.
fn in_initial_pid_ns() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/pid").is_ok_and(|m| m.ino() == 0xEFFF_FFFC)
}

/// Whether this process is in the initial user namespace, whose nsfs inode
/// is the fixed PROC_USER_INIT_INO (0xEFFFFFFD) since Linux 3.8.
fn in_initial_user_ns() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/user").is_ok_and(|m| m.ino() == 0xEFFF_FFFD)
}

fn filesystems() -> String {
    std::fs::read_to_string("/proc/filesystems").unwrap_or_default()
}

/// Every feature the suite looks for, by name, on the kernel configured as
/// `config` says (where it is readable).
pub fn features(config: &KernelConfig) -> BTreeMap<String, bool> {
    let mut f = BTreeMap::new();
    for kind in KINDS {
        let exists = Path::new("/proc/self/ns").join(kind.name).exists();
        f.insert(format!("ns.{}", kind.name), exists);
    }
    f.insert("clone3".into(), has_clone3());
    f.insert(
        "pidfd".into(),
        crate::sys::process::pidfd_open(std::process::id() as libc::pid_t).is_ok(),
    );
    f.insert("setns_pidfd".into(), has_setns_pidfd());
    f.insert(
        "time_offsets".into(),
        Path::new("/proc/self/timens_offsets").exists(),
    );
    f.insert("cgroup2".into(), filesystems().contains("cgroup2"));
    f.insert("cgroup.below_root".into(), below_root_cgroup());
    f.insert("pid.initial_ns".into(), in_initial_pid_ns());
    f.insert("user.initial_ns".into(), in_initial_user_ns());
    f.insert("mqueue".into(), filesystems().contains("mqueue"));
    for (name, absent_is) in SYSCTLS {
        f.insert(name.into(), sysctl_is(name, absent_is));
    }
    let refused = userns_refusal(&f).is_some();
    f.insert("unprivileged_userns".into(), !refused);
    f.insert("ns_get_id".into(), has_ns_get_id());
    f.insert("veth".into(), has_veth(config));
    f.insert("nsfs.file_handles".into(), has_nsfs_handles());
    f.insert("listns".into(), has_listns());
    f.insert("mnt.ns_info".into(), has_mnt_ns_info());
    f.insert("listmount.mnt_ns_id".into(), has_listmount_ns_id());
    f.insert("siocgskns".into(), has_siocgskns());
    f.insert(
        "pid_max.per_ns".into(),
        in_new_user_and_pid_ns(pid_max_writable),
    );
    f.insert(
        "pid.init_via_setns".into(),
        in_new_user_and_pid_ns(pid_for_children_opens),
    );
    f.insert("ipc.sysctls_writable".into(), ipc_sysctls_writable());
    f.insert("ipv6".into(), Path::new("/proc/sys/net/ipv6").exists());
    f
}

/// Why a case that requires `feature` is skipped where it is missing.
pub fn missing(feature: &str) -> SkipReason {
    if let Some(setting) = feature.strip_prefix("sysctl:") {
        return SkipReason::NeedsSetting(setting.to_string());
    }
    match feature {
        "cgroup.below_root" => SkipReason::StartingPoint(
            "the suite runs in the root cgroup, and the case must start below it",
        ),
        "pid.initial_ns" => SkipReason::StartingPoint(
            "the suite runs below the initial PID namespace, and the case counts levels from it",
        ),
        "user.initial_ns" => SkipReason::StartingPoint(
            "the suite runs below the initial user namespace, whose depth nsfs does not show, and the case counts levels from it",
        ),
        "ipv6" => SkipReason::NoFeature("ipv6 (CONFIG_IPV6: no /proc/sys/net/ipv6)".into()),
        "ipc.sysctls_writable" => SkipReason::NoFeature(
            "ipc.sysctls_writable (the IPC sysctls owned by the root of the IPC namespace's user namespace, Linux 6.9, 50ec499b9a43: before, only global root writes them)"
                .into(),
        ),
        _ => SkipReason::NoFeature(feature.to_string()),
    }
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

/// The kernel configuration, from `/proc/config.gz` where the kernel shows
/// it (`CONFIG_IKCONFIG_PROC`; inside a guest too), else from
/// `/boot/config-<release>`.
fn kconfig(release: &str) -> KernelConfig {
    let proc = kconfig::read(Path::new(kconfig::PROC_CONFIG));
    if proc.hash.is_some() {
        return proc;
    }
    kconfig::read(Path::new(&format!("/boot/config-{release}")))
}

/// Probe the environment of a run on `target`, the runtime doors asked.
pub fn probe(target: &str) -> Environment {
    probe_with(target, Some(&crate::runtimes::Overrides::new()))
}

/// Probe the environment, with runtime programs given on the command line.
/// `None`: the run selects no runtime door, so none is started to ask its
/// version (a kernel's run starts no container runtime); each says so.
pub fn probe_with(target: &str, runtimes: Option<&crate::runtimes::Overrides>) -> Environment {
    let (kernel_release, kernel_version, arch) = uname();
    let config = kconfig(&kernel_release);
    let features = features(&config);
    let privileged = privileged();
    let doors = Door::ALL
        .iter()
        .map(|d| DoorInfo {
            name: d.name().into(),
            available: door_available(*d, &features).is_ok(),
            version: None,
            ..DoorInfo::default()
        })
        .chain(match runtimes {
            Some(overrides) => crate::runtimes::detect_all(overrides),
            None => crate::runtimes::not_asked(),
        })
        .collect();
    Environment {
        kconfig: config.options,
        kconfig_hash: config.hash,
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
