//! The host snapshot itself (the support code of the host-snapshot tests):
//! its parsers, its process finder, and two snapshots in a row being equal.
//! Its own binary, so that it runs once and beside no run of the suite.

mod support_rel;

use rstest::rstest;
use std::path::Path;
use support_rel::snapshot::*;

const SHM: &str = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
  4242          3  1600                  4096  7301  7301      0  1000  1000  1000  1000          0          0 1700000000                     0                     0
";
const SEM: &str =
    "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime
     0          7   600          1    65534   65534     0     0          0 1700000000
";

#[rstest]
#[case("shm", SHM, vec![(4242, 3, 1000)])]
#[case("sem", SEM, vec![(0, 7, 65534)])]
#[case("msg", "", vec![])]
#[case("msg", "garbage\n1 2\n", vec![])]
fn parses_sysv(#[case] kind: &str, #[case] text: &str, #[case] want: Vec<(i64, i64, u32)>) {
    let got: Vec<(i64, i64, u32)> = parse_sysv(kind, text)
        .iter()
        .map(|e| (e.key, e.id, e.owner))
        .collect();
    assert_eq!(got, want);
}

#[rstest]
#[case(b"A=1\0NSC=x\0".as_slice(), "NSC=x", true)]
#[case(b"A=1\0NSC=xy\0".as_slice(), "NSC=x", false)]
#[case(b"".as_slice(), "NSC=x", false)]
fn finds_marker(#[case] environ: &[u8], #[case] marker: &str, #[case] want: bool) {
    assert_eq!(environ_has(environ, marker), want);
}

#[rstest]
#[case("/a/b/nsconform-probe", "nsconform-probe")]
#[case("/a/nsconform (deleted)", "nsconform")]
#[case("/", "")]
fn names_exe(#[case] target: &str, #[case] want: &str) {
    assert_eq!(exe_name(Path::new(target)), want);
}

#[test]
fn two_snapshots_in_a_row_are_equal() {
    let scope = Scope {
        marker: Some("NSCONFORM_SNAPSHOT_TEST=none".into()),
        ..Scope::default()
    };
    let a = HostSnapshot::take_scoped(&scope);
    let b = HostSnapshot::take_scoped(&scope);
    assert_eq!(a.diff(&b), Vec::<String>::new());
    assert!(!a.mounts.is_empty());
    assert!(a.links.iter().any(|l| l.name == "lo"));
}

#[test]
fn diff_says_what_changed() {
    let a = HostSnapshot::take_scoped(&Scope {
        marker: Some("NSCONFORM_SNAPSHOT_TEST=none".into()),
        ..Scope::default()
    });
    let mut b = a.clone();
    b.hostname = "elsewhere".into();
    b.mounts.push(MountEntry {
        mount_point: "/tmp/x".into(),
        fstype: "tmpfs".into(),
        source: "tmpfs".into(),
        options: vec!["rw".into()],
    });
    b.cgroups.push("/sys/fs/cgroup/unified/nsconform-1".into());
    b.sysv.clear();
    let diff = a.diff(&b);
    assert!(diff[0].starts_with("hostname changed from"), "{diff:?}");
    assert!(diff
        .iter()
        .any(|d| d.starts_with("mount appeared: ") && d.contains("/tmp/x")));
    assert!(diff.iter().any(|d| d.contains("cgroup appeared: ")));
    let gone = a.sysv.len();
    assert_eq!(diff.iter().filter(|d| d.contains("is gone")).count(), gone);
    assert!(b.diff(&b).is_empty());
}

#[test]
fn finds_this_process_by_its_binary_name() {
    let exe = exe_name(&std::fs::read_link("/proc/self/exe").unwrap());
    let marker = "NSCONFORM_SNAPSHOT_SELF=1";
    let scope = Scope {
        binaries: vec![exe.clone()],
        marker: None,
    };
    let me = std::process::id() as i32;
    assert!(suite_processes(&scope).iter().any(|p| p.pid == me));
    let scope = Scope {
        binaries: vec![exe],
        marker: Some(marker.into()),
    };
    assert!(!suite_processes(&scope).iter().any(|p| p.pid == me));
}
