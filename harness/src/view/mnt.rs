//! The `mnt` section: the mount table of `/proc/self/mountinfo`, and its parser.
//!
//! The parser is shared with the `ipc` (mqueue mount) and `cgroup` (cgroup2
//! mount) sections. It is written here rather than taken from `procfs`, whose
//! `MountInfo` keeps options in a hash map (losing their order) and leaves
//! octal escapes (`\040`) in paths.

use serde::{Deserialize, Serialize};

/// The path every mount section reads.
pub const MOUNTINFO: &str = "/proc/self/mountinfo";

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// The mount ID.
    pub id: u32,
    /// The ID of the parent mount (of itself for the root of the tree).
    pub parent: u32,
    /// The directory of the filesystem that forms the root of this mount.
    pub root: String,
    /// Where it is mounted, relative to the process's root directory.
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
    /// Per-mount options, in the order the kernel writes them.
    pub options: Vec<String>,
    /// Per-superblock options, in the order the kernel writes them.
    pub super_options: Vec<String>,
    /// The optional fields as written (`shared:12`, `master:3`,
    /// `propagate_from:2`, `unbindable`); empty for a private mount.
    pub propagation: Vec<String>,
}

/// The `mnt` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MntView {
    pub mounts: Vec<Mount>,
}

/// Undo the octal escapes (`\040`, `\011`, `\012`, `\134`) the kernel writes
/// for space, tab, newline and backslash in mountinfo paths.
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let (b'\\', Some(digits)) = (bytes[i], bytes.get(i + 1..i + 4)) {
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn split_options(field: &str) -> Vec<String> {
    field
        .split(',')
        .filter(|o| !o.is_empty())
        .map(unescape)
        .collect()
}

/// Parse one line of mountinfo; `None` if it is malformed.
pub fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split(' ').collect();
    let separator = fields.iter().position(|f| *f == "-")?;
    if separator < 6 || fields.len() < separator + 3 {
        return None;
    }
    Some(Mount {
        id: fields[0].parse().ok()?,
        parent: fields[1].parse().ok()?,
        root: unescape(fields[3]),
        mount_point: unescape(fields[4]),
        options: split_options(fields[5]),
        propagation: fields[6..separator].iter().map(|f| f.to_string()).collect(),
        fstype: unescape(fields[separator + 1]),
        source: unescape(fields[separator + 2]),
        super_options: fields
            .get(separator + 3)
            .map(|f| split_options(f))
            .unwrap_or_default(),
    })
}

/// Parse a whole mountinfo text, skipping malformed lines.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter(|l| !l.is_empty())
        .filter_map(parse_mountinfo_line)
        .collect()
}

/// The mounts of the calling process; empty if mountinfo cannot be read.
pub fn read_mountinfo() -> Vec<Mount> {
    std::fs::read_to_string(MOUNTINFO)
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// The first mount of filesystem type `fstype`, in mountinfo order.
pub fn first_of_type<'a>(mounts: &'a [Mount], fstype: &str) -> Option<&'a Mount> {
    mounts.iter().find(|m| m.fstype == fstype)
}

/// Observe the `mnt` section of the calling process.
pub fn observe() -> MntView {
    MntView {
        mounts: read_mountinfo(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const SAMPLE: &str = "\
22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 24 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
40 22 0:35 / /dev/mqueue rw,nosuid,nodev,noexec,relatime shared:14 - mqueue mqueue rw
41 22 0:36 /a\\040dir /mnt/with\\040space\\011tab rw master:3 propagate_from:2 - tmpfs my\\134src rw,size=64k
42 22 0:37 / /private rw,noatime - tmpfs tmpfs rw
43 22 0:38 / /unbind rw unbindable - tmpfs tmpfs rw
";

    #[test]
    fn parses_every_line() {
        let mounts = parse_mountinfo(SAMPLE);
        assert_eq!(mounts.len(), 8);
        assert_eq!(
            mounts[0],
            Mount {
                id: 22,
                parent: 1,
                root: "/".into(),
                mount_point: "/".into(),
                fstype: "ext4".into(),
                source: "/dev/vda1".into(),
                options: vec!["rw".into(), "relatime".into()],
                super_options: vec!["rw".into(), "errors=remount-ro".into()],
                propagation: vec!["shared:1".into()],
            }
        );
    }

    #[rstest]
    #[case(5, &["master:3", "propagate_from:2"])]
    #[case(6, &[])]
    #[case(7, &["unbindable"])]
    #[case(1, &["shared:12"])]
    fn propagation_tags_as_written(#[case] index: usize, #[case] tags: &[&str]) {
        let mounts = parse_mountinfo(SAMPLE);
        assert_eq!(mounts[index].propagation, tags);
    }

    #[test]
    fn unescapes_paths_and_source() {
        let mount = &parse_mountinfo(SAMPLE)[5];
        assert_eq!(mount.root, "/a dir");
        assert_eq!(mount.mount_point, "/mnt/with space\ttab");
        assert_eq!(mount.source, "my\\src");
        assert_eq!(mount.super_options, ["rw", "size=64k"]);
    }

    #[rstest]
    #[case("plain", "plain")]
    #[case("a\\040b", "a b")]
    #[case("nl\\012", "nl\n")]
    #[case("trailing\\04", "trailing\\04")]
    #[case("not\\89octal", "not\\89octal")]
    #[case("\\", "\\")]
    fn unescape_cases(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(unescape(input), expected);
    }

    #[rstest]
    #[case("")]
    #[case("garbage")]
    #[case("1 2 0:1 / / rw shared:1 ext4 /dev/x rw")]
    #[case("x 2 0:1 / / rw - ext4 /dev/x rw")]
    #[case("1 2 0:1 / / rw - ext4")]
    fn malformed_lines_are_skipped(#[case] line: &str) {
        assert_eq!(parse_mountinfo_line(line), None);
    }

    #[test]
    fn first_of_type_finds_in_order() {
        let mounts = parse_mountinfo(SAMPLE);
        assert_eq!(first_of_type(&mounts, "tmpfs").map(|m| m.id), Some(41));
        assert_eq!(first_of_type(&mounts, "nfs"), None);
    }

    #[test]
    fn observes_this_process() {
        let view = observe();
        assert!(view.mounts.iter().any(|m| m.mount_point == "/"));
    }
}
