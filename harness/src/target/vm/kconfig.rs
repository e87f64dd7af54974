//! A kernel's configuration, from a `.config` file or `/proc/config.gz`:
//! the options the suite needs, and what each one turns on.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::io::Read;
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

/// Where a kernel built with `CONFIG_IKCONFIG_PROC` shows its configuration.
pub const PROC_CONFIG: &str = "/proc/config.gz";

/// A kernel's configuration as a report carries it: the options of
/// [`OPTIONS`] it sets, and the hash of the whole text (the whole is some
/// 130 kB, too much to carry in every report).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KernelConfig {
    pub options: BTreeMap<String, String>,
    /// `fnv1a64:<hex>` of the whole text; `None` when nothing was read.
    pub hash: Option<String>,
}

/// The configuration in the file at `path`, gzip-compressed when its name
/// ends in `.gz` (as `/proc/config.gz`). Empty when it cannot be read.
pub fn read(path: &Path) -> KernelConfig {
    let text = if path.extension().is_some_and(|e| e == "gz") {
        read_gz(path)
    } else {
        std::fs::read_to_string(path)
    };
    match text {
        Ok(t) => KernelConfig {
            options: parse(&t),
            hash: Some(hash(&t)),
        },
        Err(_) => KernelConfig::default(),
    }
}

fn read_gz(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut text)?;
    Ok(text)
}

/// The hash of a configuration's text, as `fnv1a64:<hex>`.
fn hash(text: &str) -> String {
    let mut h = fnv::FnvHasher::default();
    h.write(text.as_bytes());
    format!("fnv1a64:{:016x}", h.finish())
}

/// The options of [`OPTIONS`] that a `.config` text sets (`y`, `m`, or a
/// value; "is not set" lines give `n`).
pub fn parse(text: &str) -> BTreeMap<String, String> {
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
        let got = read(f.path()).options;
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

    #[test]
    fn a_gzip_config_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.gz");
        let file = std::fs::File::create(&path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        writeln!(
            gz,
            "CONFIG_USER_NS=y\n# CONFIG_TIME_NS is not set\nCONFIG_OTHER=m"
        )
        .unwrap();
        gz.finish().unwrap();
        let config = read(&path);
        assert!(config.hash.is_some_and(|h| h.starts_with("fnv1a64:")));
        let got = config.options;
        assert_eq!(got.get("CONFIG_USER_NS").map(String::as_str), Some("y"));
        assert_eq!(got.get("CONFIG_TIME_NS").map(String::as_str), Some("n"));
        assert!(!got.contains_key("CONFIG_OTHER"));
    }

    #[test]
    fn a_file_that_is_not_gzip_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.gz");
        std::fs::write(&path, "CONFIG_USER_NS=y\n").unwrap();
        assert_eq!(read(&path), KernelConfig::default());
    }

    #[test]
    fn a_tree_config_lies_at_the_top_of_its_bzimage_tree() {
        let top = tempfile::tempdir().unwrap();
        let boot = top.path().join("arch/x86/boot");
        std::fs::create_dir_all(&boot).unwrap();
        let kernel = boot.join("bzImage");
        assert_eq!(beside(&kernel), None);
        std::fs::write(top.path().join(".config"), "CONFIG_USER_NS=y\n").unwrap();
        assert_eq!(beside(&kernel), Some(top.path().join(".config")));
        let other = boot.join("vmlinux");
        assert_eq!(beside(&other), None);
    }
}
