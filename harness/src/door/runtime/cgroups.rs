//! Cgroups a runtime left behind: every runtime door names its container's
//! cgroup after the container id, and removes it, on any outcome, from every
//! hierarchy mounted here (cgroup v1 controllers and the unified one).

use std::path::{Path, PathBuf};

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
    let kill = dir.join("cgroup.kill");
    if kill.exists() {
        let _ = std::fs::write(&kill, "1");
    } else if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    for _ in 0..50 {
        match std::fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(std::time::Duration::from_millis(2))
            }
            _ => return,
        }
    }
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
