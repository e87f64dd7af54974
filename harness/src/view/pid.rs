//! The `pid` section: the process's ids, its `NSpid` chain and the pids its `/proc` shows.

use nix::unistd::{getpgrp, getpid, getppid, getsid};
use procfs::process::Status;
use procfs::FromBufRead;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;
use crate::view::ns;

/// The inode of the initial pid namespace (`PROC_PID_INIT_INO`).
pub const INITIAL_PID_NS_INO: u64 = 4026531836;

/// The `pid` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidView {
    pub pid: i32,
    pub ppid: i32,
    pub sid: i32,
    pub pgid: i32,
    /// The `NSpid` line of `/proc/self/status`, outermost namespace first;
    /// empty if it cannot be read.
    pub nspid: Vec<i32>,
    /// What the `/proc/self` link resolves to.
    pub proc_self: Option<i32>,
    /// The sorted pids `/proc` lists, given only when that `/proc` belongs to
    /// the process's own pid namespace and that namespace is not the initial one.
    pub visible: Option<Vec<i32>>,
}

/// The `NSpid` chain of a `/proc/<pid>/status` text; empty if absent or malformed.
pub fn parse_nspid(status: &str) -> Vec<i32> {
    Status::from_buf_read(status.as_bytes())
        .ok()
        .and_then(|s| s.nspid)
        .unwrap_or_default()
}

/// The sorted numeric names among the entries of a `/proc` directory.
pub fn numeric_entries<I, S>(names: I) -> Vec<i32>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut pids: Vec<i32> = names
        .into_iter()
        .filter_map(|n| n.as_ref().parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// Whether `visible` should be reported: `/proc/self` is the caller (the
/// `/proc` is mounted for its pid namespace) and that namespace is not the
/// initial one.
pub fn shows_visible(pid: i32, proc_self: Option<i32>, pid_ns_ino: Option<u64>) -> bool {
    proc_self == Some(pid) && pid_ns_ino.is_some_and(|ino| ino != INITIAL_PID_NS_INO)
}

fn read_proc_self() -> Option<i32> {
    std::fs::read_link("/proc/self")
        .ok()?
        .to_str()?
        .parse()
        .ok()
}

fn read_visible() -> Option<Vec<i32>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let names = entries.filter_map(|e| e.ok()?.file_name().into_string().ok());
    Some(numeric_entries(names))
}

/// Observe the `pid` section of the calling process.
pub fn observe() -> PidView {
    let pid = getpid().as_raw();
    let proc_self = read_proc_self();
    let nspid = std::fs::read_to_string("/proc/self/status")
        .map(|t| parse_nspid(&t))
        .unwrap_or_default();
    let pid_ns_ino = ns::current(NsType::Pid).map(|id| id.ino);
    let visible = if shows_visible(pid, proc_self, pid_ns_ino) {
        read_visible()
    } else {
        None
    };
    PidView {
        pid,
        ppid: getppid().as_raw(),
        sid: getsid(None).map(|p| p.as_raw()).unwrap_or(-1),
        pgid: getpgrp().as_raw(),
        nspid,
        proc_self,
        visible,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rstest::rstest;

    /// A `/proc/self/status` of a process two pid namespaces deep.
    pub(crate) const STATUS: &str = "\
Name:\tnsconform-probe
Umask:\t0022
State:\tR (running)
Tgid:\t1
Ngid:\t0
Pid:\t1
PPid:\t0
TracerPid:\t0
Uid:\t1000\t1001\t1002\t1003
Gid:\t100\t101\t102\t103
FDSize:\t64
Groups:\t 
NStgid:\t7050\t12\t1
NSpid:\t7050\t12\t1
NSpgid:\t7048\t0\t0
NSsid:\t3586\t0\t0
Kthread:\t0
VmPeak:\t    3060 kB
VmSize:\t    3060 kB
Threads:\t1
SigQ:\t0/96365
SigPnd:\t0000000000000000
ShdPnd:\t0000000000000000
SigBlk:\t0000000000000000
SigIgn:\t0000000000000000
SigCgt:\t0000000000000000
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
CapEff:\t0000000000200001
CapBnd:\t800001ffffffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
Seccomp:\t0
Cpus_allowed_list:\t0-1
voluntary_ctxt_switches:\t0
nonvoluntary_ctxt_switches:\t0
";

    #[rstest]
    #[case(STATUS, vec![7050, 12, 1])]
    #[case("Name:\tx\n", vec![])]
    #[case("", vec![])]
    fn nspid_from_status(#[case] text: &str, #[case] expected: Vec<i32>) {
        assert_eq!(parse_nspid(text), expected);
    }

    #[test]
    fn numeric_entries_are_sorted_pids_only() {
        let names = ["self", "12", "1", "thread-self", "300", "sys", "2"];
        assert_eq!(numeric_entries(names), [1, 2, 12, 300]);
    }

    #[rstest]
    #[case(1, Some(1), Some(4026532000), true)]
    #[case(1, Some(1), Some(INITIAL_PID_NS_INO), false)]
    #[case(1, Some(7050), Some(4026532000), false)]
    #[case(1, None, Some(4026532000), false)]
    #[case(1, Some(1), None, false)]
    fn visible_only_for_own_proc_in_a_new_namespace(
        #[case] pid: i32,
        #[case] proc_self: Option<i32>,
        #[case] ino: Option<u64>,
        #[case] expected: bool,
    ) {
        assert_eq!(shows_visible(pid, proc_self, ino), expected);
    }

    #[test]
    fn observes_this_process() {
        let view = observe();
        assert_eq!(view.pid, std::process::id() as i32);
        assert_eq!(view.proc_self, Some(view.pid));
        assert_eq!(view.nspid.last(), Some(&view.pid));
    }
}
