//! What the probe sets up first when the harness starts it
//! (`--supervised-by <pid>`), in place of a `pre_exec`: it leaves a
//! harness that is already gone, and it does not keep the harness's signal
//! mask. The harness blocks SIGINT and SIGTERM in every thread to take them
//! in one, and a program started with posix_spawn inherits that mask.

use std::process::Command;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nsconform::plan::user::SELF_STATUS_ARG;
use nsconform::target::host::SUPERVISED_ARG;

const PROBE: &str = env!("CARGO_BIN_EXE_nsconform-probe");

/// The signals blocked in a process, from its `/proc/<pid>/status` text.
fn blocked(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("SigBlk:"))?;
    u64::from_str_radix(line["SigBlk:".len()..].trim(), 16).ok()
}

#[test]
fn a_supervised_probe_starts_with_no_signal_blocked() {
    // In a thread of its own: the mask is the calling thread's, and this
    // one ends with the test.
    let status = std::thread::spawn(|| {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .expect("block SIGINT and SIGTERM");
        Command::new(PROBE)
            .arg(SUPERVISED_ARG)
            .arg(std::process::id().to_string())
            .arg(SELF_STATUS_ARG)
            .output()
            .expect("run the probe")
    })
    .join()
    .expect("the spawning thread");
    assert!(status.status.success(), "{status:?}");
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        blocked(&text).map(|mask| format!("{mask:#x}")),
        Some("0x0".to_string()),
        "the signals blocked in the probe (SigBlk), in its status:\n{text}"
    );
}

#[test]
fn a_probe_whose_harness_is_gone_leaves_at_once() {
    // Its parent is this test, not the pid it is given.
    let status = Command::new(PROBE)
        .arg(SUPERVISED_ARG)
        .arg("1")
        .arg(SELF_STATUS_ARG)
        .output()
        .expect("run the probe");
    assert_eq!(status.status.code(), Some(3), "{status:?}");
    assert!(status.stdout.is_empty(), "it printed {:?}", status.stdout);
}
