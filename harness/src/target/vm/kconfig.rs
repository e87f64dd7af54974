//! A guest kernel's configuration, from a `.config` file: the options the
//! suite needs, and what each one turns on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The options the suite looks at, and what each one turns on.
pub const OPTIONS: &[(&str, &str)] = &[
    (
        "CONFIG_NAMESPACES",
        "namespaces at all (clone/unshare/setns flags)",
    ),
    ("CONFIG_UTS_NS", "uts namespaces: hostname and domainname"),
    (
        "CONFIG_IPC_NS",
        "ipc namespaces: System V IPC and POSIX queues",
    ),
    ("CONFIG_PID_NS", "pid namespaces"),
    ("CONFIG_NET_NS", "network namespaces"),
    (
        "CONFIG_USER_NS",
        "user namespaces: uid/gid maps, rootless runs",
    ),
    ("CONFIG_CGROUPS", "cgroup namespaces and /proc/self/cgroup"),
    (
        "CONFIG_TIME_NS",
        "time namespaces: monotonic and boottime offsets",
    ),
    (
        "CONFIG_SYSVIPC",
        "System V IPC objects the ipc cases create",
    ),
    (
        "CONFIG_POSIX_MQUEUE",
        "POSIX message queues and the mqueue filesystem",
    ),
    (
        "CONFIG_VETH",
        "veth pairs across network namespaces (built in: no modules in a guest)",
    ),
    (
        "CONFIG_CHECKPOINT_RESTORE",
        "clone3 set_tid and NS_GET_* extras",
    ),
    ("CONFIG_PROC_FS", "/proc, where every view is read"),
    ("CONFIG_TMPFS", "the tmpfs sandboxes of mount cases"),
    ("CONFIG_DEVTMPFS", "/dev in a guest"),
    (
        "CONFIG_BLK_DEV_INITRD",
        "the initramfs that carries the suite into a guest",
    ),
    (
        "CONFIG_SERIAL_8250_CONSOLE",
        "the console and the report port (ttyS0, ttyS1)",
    ),
];

/// The options of [`OPTIONS`] that the file at `path` sets (`y`, `m`, or a
/// value; "is not set" lines give `n`). Empty when it cannot be read.
pub fn read(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let wanted = |k: &str| OPTIONS.iter().any(|(o, _)| *o == k);
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            if wanted(k) {
                out.insert(k.to_string(), v.to_string());
            }
        } else if let Some(k) = line
            .strip_prefix("# ")
            .and_then(|l| l.strip_suffix(" is not set"))
        {
            if wanted(k) {
                out.insert(k.to_string(), "n".into());
            }
        }
    }
    out
}

/// The configuration that belongs to a kernel image, where it lies beside
/// it: `config-<release>` beside `vmlinuz-<release>` (Debian's /boot), or
/// `.config` at the top of a kernel tree for `arch/x86/boot/bzImage`.
pub fn beside(kernel: &Path) -> Option<PathBuf> {
    let name = kernel.file_name()?.to_string_lossy();
    let dir = kernel.parent()?;
    let debian = name
        .strip_prefix("vmlinuz-")
        .map(|release| dir.join(format!("config-{release}")));
    let tree = dir.ancestors().nth(3).map(|top| top.join(".config"));
    let tree = tree.filter(|_| name == "bzImage");
    [debian, tree].into_iter().flatten().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn set_and_unset_options_are_read() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "CONFIG_TIME_NS=y\n# CONFIG_VETH is not set\nCONFIG_OTHER=y"
        )
        .unwrap();
        let got = read(f.path());
        assert_eq!(got.get("CONFIG_TIME_NS").map(String::as_str), Some("y"));
        assert_eq!(got.get("CONFIG_VETH").map(String::as_str), Some("n"));
        assert!(!got.contains_key("CONFIG_OTHER"));
    }

    #[test]
    fn a_debian_config_lies_beside_its_vmlinuz() {
        let dir = tempfile::tempdir().unwrap();
        let kernel = dir.path().join("vmlinuz-6.1.0-1-cloud-amd64");
        std::fs::write(dir.path().join("config-6.1.0-1-cloud-amd64"), "").unwrap();
        assert!(beside(&kernel).is_some());
    }
}
