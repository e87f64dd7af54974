//! Targets: the kernels probes run on. `host` is the kernel of this machine;
//! `vm` boots another under qemu.

pub mod host;
pub mod vm;

use std::time::Duration;

use crate::plan::Outcome;

/// What became of one probe run.
#[derive(Debug)]
pub struct ProbeRun {
    /// The probe's answer, or what went wrong getting it.
    pub outcome: Result<Outcome, String>,
    /// What the probe wrote on its standard error.
    pub stderr: String,
    pub duration: Duration,
}
