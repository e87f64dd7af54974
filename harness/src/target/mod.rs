//! Targets: the kernels probes run on. `host` is the kernel of this machine;
//! `vm` boots another under qemu.

pub mod host;
pub mod spawner;
pub mod vm;

use std::path::PathBuf;
use std::time::Duration;

use crate::plan::Outcome;

/// What became of one probe run.
#[derive(Debug)]
pub struct ProbeRun {
    /// The probe's answer, or what went wrong getting it.
    pub outcome: Result<Outcome, ProbeError>,
    /// What the probe wrote on its standard error.
    pub stderr: String,
    pub duration: Duration,
}

/// Why a probe gave no answer: an `error` verdict (or, when the run was
/// interrupted, a trial that did not finish).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// A temporary file for the plan or the output could not be made or written.
    #[error("cannot {what}: {cause}")]
    TempFile {
        what: &'static str,
        cause: std::io::Error,
    },
    /// The plan could not be encoded as JSON.
    #[error("cannot encode the plan: {0}")]
    Encode(serde_json::Error),
    /// The probe binary could not be started.
    #[error("cannot start the probe {}: {cause}", path.display())]
    Spawn {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// Waiting for the probe failed.
    #[error("cannot wait for the probe: {0}")]
    Wait(std::io::Error),
    /// The probe ran longer than the timeout and was killed.
    #[error("timeout: the probe ran longer than {0:?}")]
    Timeout(Duration),
    /// The run was interrupted (SIGINT, SIGTERM) and the probe killed.
    #[error("interrupted: the probe was killed when the run was stopped")]
    Interrupted,
    /// The probe died of a signal.
    #[error("the probe was killed by signal {signal} ({name})")]
    Signal { signal: i32, name: &'static str },
    /// The probe's standard output was not an outcome.
    #[error("the probe printed bad output ({cause}); it read: {shown:?}")]
    BadOutput {
        cause: serde_json::Error,
        shown: String,
    },
}
