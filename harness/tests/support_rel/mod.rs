//! Helpers shared by the reliability tests: the suite's binaries and data,
//! markers that tell this test's processes from others', bounded waits.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub mod snapshot;
pub mod wrapped;

use snapshot::{suite_processes, HostSnapshot, Scope, SuiteProcess};

/// The environment variable that marks the processes of one test's runs.
pub const MARKER_VAR: &str = "NSCONFORM_REL_MARKER";

/// How often bounded waits look again.
const POLL: Duration = Duration::from_millis(5);

/// The `nsconform` binary.
pub fn nsconform() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nsconform"))
}

/// The probe binary.
pub fn probe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nsconform-probe"))
}

/// A directory of the source tree (`cases`, `fixtures`).
pub fn source_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// A value for [`MARKER_VAR`] that no other run has.
pub fn unique_marker(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("{what}-{}-{n}-{nanos}", std::process::id())
}

/// The scope of the processes started with `marker` in their environment.
pub fn scope(marker: &str) -> Scope {
    Scope {
        marker: Some(format!("{MARKER_VAR}={marker}")),
        ..Scope::default()
    }
}

/// Wait for `child` at most `limit`; past it, kill it (by its pid), reap it
/// and return `None`.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// Wait at most `limit` until no process of `scope` is left; what is left.
pub fn wait_gone(scope: &Scope, limit: Duration) -> Vec<SuiteProcess> {
    let deadline = Instant::now() + limit;
    loop {
        let left = suite_processes(scope);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(POLL);
    }
}

/// Wait at most `limit` until the host looks as in `before`; the
/// differences still there at the end, empty when it does.
pub fn settle(before: &HostSnapshot, scope: &Scope, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let diff = before.diff(&HostSnapshot::take_scoped(scope));
        if diff.is_empty() || Instant::now() >= deadline {
            return diff;
        }
        std::thread::sleep(POLL * 4);
    }
}

/// Whether a process with this pid exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

/// Wait at most `limit` until `pid` is gone (or a zombie); whether it is.
pub fn wait_dead(pid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while alive(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
