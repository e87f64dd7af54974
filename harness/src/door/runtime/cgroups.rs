//! Cgroups a runtime left behind: every runtime door names its container's
//! cgroup after the container id, and removes it, on any outcome, from every
//! hierarchy mounted here (cgroup v1 controllers and the unified one).

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::sys::{pipe, process};

/// The mount points of the cgroup hierarchies of this mount namespace.
fn hierarchies() -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fstype = right.split_whitespace().next()?;
            let point = left.split_whitespace().nth(4)?;
            matches!(fstype, "cgroup" | "cgroup2").then(|| PathBuf::from(point))
        })
        .collect()
}

/// How long the processes left in a runtime's cgroup may take to end once
/// killed.
const KILL_GRACE: Duration = Duration::from_millis(500);

/// Kill what is left in `dir` (the processes of our own container) and
/// remove it, its children first.
fn remove(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove(&e.path());
            }
        }
    }
    let deadline = Instant::now() + KILL_GRACE;
    loop {
        match std::fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                if !kill_and_wait(dir, deadline) {
                    let _ = std::fs::remove_dir(dir);
                    return;
                }
            }
            _ => return,
        }
    }
}

/// Kill the processes in `dir` and wait, on their pidfds, until each has
/// ended or `deadline` passed; whether there were any.
fn kill_and_wait(dir: &Path, deadline: Instant) -> bool {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    let pids: Vec<i32> = procs
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let ends: Vec<_> = pids
        .iter()
        .filter_map(|&pid| process::pidfd_open(pid).ok())
        .collect();
    let kill = dir.join("cgroup.kill");
    if kill.exists() {
        let _ = std::fs::write(&kill, "1");
    } else {
        for &pid in &pids {
            let _ = signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    // A pidfd is readable once its process has exited, which is after the
    // kernel took it out of its cgroup.
    for end in &ends {
        pipe::readable_by(end.as_raw_fd(), deadline);
    }
    !pids.is_empty()
}

/// Remove the cgroup named `id` (directly below each hierarchy's root)
/// wherever a runtime made one.
pub fn remove_named(id: &str) {
    for h in hierarchies() {
        let dir = h.join(id);
        if dir.is_dir() {
            remove(&dir);
        }
    }
}
