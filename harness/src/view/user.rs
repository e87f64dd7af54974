//! The `user` section: ids, id maps, `setgroups`, capabilities and overflow ids.

use nix::unistd::{getresgid, getresuid};
use procfs::process::Status;
use procfs::FromBufRead;
use serde::{Deserialize, Serialize};

/// One line of a `uid_map` or `gid_map`: inside id, outside id, count.
pub type IdMapLine = [u32; 3];

/// The `user` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub uid_map: Vec<IdMapLine>,
    pub gid_map: Vec<IdMapLine>,
    /// `allow` or `deny`; `None` if `/proc/self/setgroups` cannot be read.
    pub setgroups: Option<String>,
    pub cap_effective: Vec<String>,
    pub cap_permitted: Vec<String>,
    pub cap_bounding: Vec<String>,
    pub overflowuid: Option<u32>,
    pub overflowgid: Option<u32>,
}

/// Parse a `uid_map` or `gid_map` text; malformed lines are skipped.
pub fn parse_id_map(text: &str) -> Vec<IdMapLine> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u32>().ok());
            let map = [fields.next()??, fields.next()??, fields.next()??];
            fields.next().is_none().then_some(map)
        })
        .collect()
}

/// Whether `id`, as the namespace of `map` sees it, is root one level out
/// (an id the map does not cover counts as root: the caller must not trust it).
pub fn maps_to_root(map: &[IdMapLine], id: u32) -> bool {
    map.iter()
        .find(|[inside, _, count]| id >= *inside && id - inside < *count)
        .is_none_or(|[inside, outside, _]| outside + (id - inside) == 0)
}

/// Whether this process's effective uid is root one level out of its user
/// namespace: in the initial one, the kernel's global root, to which the
/// files of global sysctls belong whatever user namespace it enters.
pub fn euid_maps_to_root() -> bool {
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    maps_to_root(&parse_id_map(&map), nix::unistd::geteuid().as_raw())
}

/// The `setgroups` value: `allow` or `deny`, anything else is `None`.
pub fn parse_setgroups(text: &str) -> Option<String> {
    let value = text.trim();
    matches!(value, "allow" | "deny").then(|| value.to_string())
}

/// The name of capability bit `bit` (`CAP_SYS_ADMIN`), or `CAP_<bit>` for a
/// bit this build does not know.
pub fn cap_name(bit: u8) -> String {
    caps::all()
        .into_iter()
        .find(|c| c.index() == bit)
        .map(|c| c.to_string())
        .unwrap_or_else(|| format!("CAP_{bit}"))
}

/// The sorted names of the capabilities set in `mask`.
pub fn cap_names(mask: u64) -> Vec<String> {
    let mut names: Vec<String> = (0..64u8)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(cap_name)
        .collect();
    names.sort();
    names
}

/// The effective, permitted and bounding sets of a `/proc/<pid>/status` text;
/// empty sets if it cannot be parsed.
pub fn parse_caps(status: &str) -> [Vec<String>; 3] {
    match Status::from_buf_read(status.as_bytes()) {
        Ok(s) => [
            cap_names(s.capeff),
            cap_names(s.capprm),
            cap_names(s.capbnd.unwrap_or(0)),
        ],
        Err(_) => Default::default(),
    }
}

/// Parse a single decimal id such as `/proc/sys/kernel/overflowuid`.
pub fn parse_id(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Observe the `user` section of the calling process.
pub fn observe() -> UserView {
    let ids = getresuid().ok();
    let gids = getresgid().ok();
    let [cap_effective, cap_permitted, cap_bounding] = read("/proc/self/status")
        .map(|t| parse_caps(&t))
        .unwrap_or_default();
    UserView {
        uid: ids.map_or(u32::MAX, |r| r.real.as_raw()),
        euid: ids.map_or(u32::MAX, |r| r.effective.as_raw()),
        suid: ids.map_or(u32::MAX, |r| r.saved.as_raw()),
        gid: gids.map_or(u32::MAX, |r| r.real.as_raw()),
        egid: gids.map_or(u32::MAX, |r| r.effective.as_raw()),
        sgid: gids.map_or(u32::MAX, |r| r.saved.as_raw()),
        uid_map: read("/proc/self/uid_map")
            .map(|t| parse_id_map(&t))
            .unwrap_or_default(),
        gid_map: read("/proc/self/gid_map")
            .map(|t| parse_id_map(&t))
            .unwrap_or_default(),
        setgroups: read("/proc/self/setgroups").and_then(|t| parse_setgroups(&t)),
        cap_effective,
        cap_permitted,
        cap_bounding,
        overflowuid: read("/proc/sys/kernel/overflowuid").and_then(|t| parse_id(&t)),
        overflowgid: read("/proc/sys/kernel/overflowgid").and_then(|t| parse_id(&t)),
    }
}

#[cfg(test)]
mod tests {
    #[rstest::rstest]
    #[case(&[[0, 0, 4294967295]], 0, true)]
    #[case(&[[0, 0, 4294967295]], 65534, false)]
    #[case(&[[0, 1000, 1]], 0, false)]
    #[case(&[[0, 1000, 1]], 5, true)]
    #[case(&[[1, 0, 1]], 1, true)]
    fn root_one_level_out(#[case] map: &[[u32; 3]], #[case] id: u32, #[case] root: bool) {
        assert_eq!(super::maps_to_root(map, id), root);
    }

    use super::*;
    use crate::view::pid::tests::STATUS;
    use rstest::rstest;

    #[rstest]
    #[case("         0          0 4294967295\n", vec![[0, 0, u32::MAX]])]
    #[case("0 1000 1\n1 100000 65536\n", vec![[0, 1000, 1], [1, 100000, 65536]])]
    #[case("", vec![])]
    #[case("0 1000\n1 2 3 4\nx 1 1\n5 6 7\n", vec![[5, 6, 7]])]
    fn parses_id_maps(#[case] text: &str, #[case] expected: Vec<IdMapLine>) {
        assert_eq!(parse_id_map(text), expected);
    }

    #[rstest]
    #[case("allow\n", Some("allow"))]
    #[case("deny\n", Some("deny"))]
    #[case("", None)]
    #[case("maybe", None)]
    fn parses_setgroups(#[case] text: &str, #[case] expected: Option<&str>) {
        assert_eq!(parse_setgroups(text).as_deref(), expected);
    }

    #[rstest]
    #[case(0, "CAP_CHOWN")]
    #[case(21, "CAP_SYS_ADMIN")]
    #[case(40, "CAP_CHECKPOINT_RESTORE")]
    #[case(63, "CAP_63")]
    fn names_capability_bits(#[case] bit: u8, #[case] expected: &str) {
        assert_eq!(cap_name(bit), expected);
    }

    #[test]
    fn decodes_status_masks() {
        let [eff, prm, bnd] = parse_caps(STATUS);
        assert_eq!(eff, ["CAP_CHOWN", "CAP_SYS_ADMIN"]);
        assert_eq!(prm.len(), 40);
        assert!(!prm.iter().any(|c| c == "CAP_SYS_RESOURCE"));
        assert_eq!(bnd.len(), 42);
        assert!(bnd.iter().any(|c| c == "CAP_63"));
        assert!(bnd.windows(2).all(|w| w[0] <= w[1]));
    }

    #[rstest]
    #[case("65534\n", Some(65534))]
    #[case("", None)]
    #[case("-1", None)]
    fn parses_overflow_ids(#[case] text: &str, #[case] expected: Option<u32>) {
        assert_eq!(parse_id(text), expected);
    }

    #[test]
    fn observes_this_process() {
        let view = observe();
        assert_eq!(view.uid, nix::unistd::getuid().as_raw());
        assert!(!view.uid_map.is_empty());
    }
}
