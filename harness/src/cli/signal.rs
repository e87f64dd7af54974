//! SIGINT and SIGTERM during a run: they are blocked in every thread, and
//! one thread waits for them and stops the run, so that the probes are
//! killed and reaped and the finished trials are reported.

use std::sync::Arc;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use crate::run::Run;

/// Block SIGINT and SIGTERM in this thread and the threads it starts from
/// now on (children get a clean mask from `std::process::Command`). Call it
/// before any thread starts.
pub fn block() -> anyhow::Result<SigSet> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| anyhow::anyhow!("failed to block SIGINT and SIGTERM: {e}"))?;
    Ok(set)
}

/// A thread of its own waits for the signals of `set` and stops `run`.
pub fn stop_on(set: SigSet, run: &Arc<Run>) {
    let run = Arc::clone(run);
    std::thread::spawn(move || {
        if let Ok(signal) = set.wait() {
            eprintln!("\nnsconform: {signal}: stopping the run");
            run.stop(signal as i32);
        }
    });
}
