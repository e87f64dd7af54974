//! The `cgroup` section: `/proc/self/cgroup` and the first cgroup2 mount.

use procfs::{FromBufRead, ProcessCGroups};
use serde::{Deserialize, Serialize};

use crate::view::mnt;

/// One line of `/proc/self/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupLine {
    /// The hierarchy id; 0 for cgroup v2.
    pub hierarchy: u32,
    /// The controllers bound to a v1 hierarchy (`name=systemd` for a named one).
    pub controllers: Vec<String>,
    /// The path, relative to the root of the process's cgroup namespace.
    pub path: String,
}

/// The `cgroup` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupView {
    pub lines: Vec<CgroupLine>,
    /// The path of the hierarchy-0 (cgroup v2) line.
    pub path: Option<String>,
    /// The root field of the first cgroup2 mount in mountinfo.
    pub cgroup2_root: Option<String>,
    /// The mount point of the first cgroup2 mount in mountinfo.
    pub cgroup2_mount: Option<String>,
}

/// Parse a `/proc/<pid>/cgroup` text; empty if it is malformed.
pub fn parse_cgroup(text: &str) -> Vec<CgroupLine> {
    let Ok(groups) = ProcessCGroups::from_buf_read(text.as_bytes()) else {
        return Vec::new();
    };
    groups
        .into_iter()
        .map(|g| CgroupLine {
            hierarchy: g.hierarchy,
            controllers: g.controllers,
            path: g.pathname,
        })
        .collect()
}

/// Assemble the section from the cgroup lines and the mount table.
pub fn assemble(lines: Vec<CgroupLine>, mounts: &[mnt::Mount]) -> CgroupView {
    let path = lines
        .iter()
        .find(|l| l.hierarchy == 0)
        .map(|l| l.path.clone());
    let cgroup2 = mnt::first_of_type(mounts, "cgroup2");
    CgroupView {
        lines,
        path,
        cgroup2_root: cgroup2.map(|m| m.root.clone()),
        cgroup2_mount: cgroup2.map(|m| m.mount_point.clone()),
    }
}

/// Observe the `cgroup` section of the calling process.
pub fn observe() -> CgroupView {
    let lines = std::fs::read_to_string("/proc/self/cgroup")
        .map(|t| parse_cgroup(&t))
        .unwrap_or_default();
    assemble(lines, &mnt::read_mountinfo())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const HYBRID: &str = "\
9:name=systemd:/
4:memory:/process_api/448021c0
2:cpu,cpuacct:/
0::/user.slice/a:b
";

    #[test]
    fn parses_hybrid_lines() {
        let lines = parse_cgroup(HYBRID);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].controllers, ["name=systemd"]);
        assert_eq!(lines[2].controllers, ["cpu", "cpuacct"]);
        assert_eq!(
            lines[3],
            CgroupLine {
                hierarchy: 0,
                controllers: vec![],
                path: "/user.slice/a:b".into()
            }
        );
    }

    #[rstest]
    #[case("", 0)]
    #[case("0::/\n", 1)]
    #[case("x::/\n", 0)]
    fn parse_counts(#[case] text: &str, #[case] expected: usize) {
        assert_eq!(parse_cgroup(text).len(), expected);
    }

    #[rstest]
    #[case(HYBRID, Some("/user.slice/a:b"))]
    #[case("1:cpu:/\n", None)]
    fn v2_path(#[case] text: &str, #[case] expected: Option<&str>) {
        assert_eq!(assemble(parse_cgroup(text), &[]).path.as_deref(), expected);
    }

    #[test]
    fn cgroup2_mount_from_mountinfo() {
        let mounts = mnt::parse_mountinfo(
            "31 24 0:27 /.. /sys/fs/cgroup/unified rw shared:9 - cgroup2 cgroup2 rw\n\
             32 24 0:28 / /other rw - cgroup2 cgroup2 rw\n",
        );
        let view = assemble(vec![], &mounts);
        assert_eq!(view.cgroup2_root.as_deref(), Some("/.."));
        assert_eq!(
            view.cgroup2_mount.as_deref(),
            Some("/sys/fs/cgroup/unified")
        );
    }
}
