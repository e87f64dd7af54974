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
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open("/proc/self/ns/uts") else {
        return false;
    };
    let mut id: u64 = 0;
    // SAFETY: NS_GET_ID (_IOR(0xb7, 13, u64)) writes one u64 into `id`.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), 0x8008_b70d_u64 as _, &mut id as *mut u64) };
    ret == 0
}

/// veth pairs (CONFIG_VETH), found without making one: built in or loaded,
/// the kernel's symbols name `veth_newlink`; a module on disk can be loaded
/// when a pair is made. A kernel that hides its symbols is taken to have it.
fn has_veth() -> bool {
    use std::io::BufRead;
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
    f.insert("mqueue".into(), filesystems().contains("mqueue"));
    for (name, absent_is) in SYSCTLS {
        f.insert(name.into(), sysctl_is(name, absent_is));
    }
    let refused = userns_refusal(&f).is_some();
    f.insert("unprivileged_userns".into(), !refused);
    f.insert("ns_get_id".into(), has_ns_get_id());
    f.insert("veth".into(), has_veth());
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
    let config = kconfig(&kernel_release);
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
