//! Sweeping what a killed trial left: a runtime door's launcher cleans up
//! after its container, but a probe killed on timeout (or a harness killed
//! outright) takes the launcher with it. The harness then sweeps the
//! workspaces of that probe, and of any probe no longer alive: it runs their
//! recorded clean-up commands (`delete --force`, `rm`, `rmi`), removes the
//! cgroups named after their container, and removes the directory.

use std::path::Path;
use std::process::{Command, Stdio};

use super::bundle::{CLEANUP_FILE, PREFIX};
use super::cgroups;
use crate::sys::command::run_quiet;

/// The supervisor's pid in a workspace's name.
fn owner(name: &str) -> Option<i32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

fn alive(pid: i32) -> bool {
    let probe = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None);
    !matches!(probe, Err(nix::errno::Errno::ESRCH))
}

/// Undo one workspace.
fn undo(dir: &Path) {
    let recorded = std::fs::read(dir.join(CLEANUP_FILE)).ok();
    let parsed: Option<(String, Vec<Vec<String>>)> =
        recorded.and_then(|t| serde_json::from_slice(&t).ok());
    if let Some((id, commands)) = parsed {
        for argv in commands.iter().filter(|a| !a.is_empty()) {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]).stderr(Stdio::null());
            run_quiet(&mut c);
        }
        cgroups::remove_named(&id);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Undo the workspaces whose owner `pick` chooses.
fn sweep_where(pick: impl Fn(i32) -> bool) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if owner(&name).is_some_and(&pick) {
            undo(&e.path());
        }
    }
}

/// Sweep the workspaces of the probe `pid`, and of probes that are gone.
pub fn sweep(pid: u32) {
    sweep_where(|p| p as u32 == pid || !alive(p));
}

/// Sweep the workspaces of probes that are gone (a harness killed with
/// SIGKILL before it could sweep): at the start of a run, before any trial.
pub fn sweep_stale() {
    sweep_where(|p| !alive(p));
}
