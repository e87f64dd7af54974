//! What the host and a guest agree on: the plan the host puts into the
//! initramfs, the markers the guest writes into its kernel log, the framing
//! of the report on the guest's second serial port, and the exit codes the
//! guest gives qemu through isa-debug-exit.

use serde::{Deserialize, Serialize};

/// Where the plan lies in the initramfs.
pub const PLAN_PATH: &str = "nsconform-guest.json";
/// The probe inside the guest.
pub const PROBE_PATH: &str = "nsconform-probe";
/// The cases and fixtures inside the guest.
pub const CASES_DIR: &str = "cases";
pub const FIXTURES_DIR: &str = "fixtures";

/// The kernel log line that says the guest's /init is running.
pub const READY: &str = "nsconform-guest: ready";
/// Written to the kernel log before each trial, followed by its id.
pub const START: &str = "nsconform-guest: start ";
/// Written to the kernel log after each trial, followed by its id.
pub const DONE: &str = "nsconform-guest: done ";

/// The line before and after the report on the report channel.
pub const REPORT_BEGIN: &str = "NSCONFORM-REPORT-BEGIN";
pub const REPORT_END: &str = "NSCONFORM-REPORT-END";

/// isa-debug-exit: the I/O port, and the codes the guest writes there.
/// qemu then exits with `(code << 1) | 1`.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;
pub const GUEST_OK: u8 = 0;
pub const GUEST_FAILED: u8 = 1;
pub const GUEST_BROKEN: u8 = 2;

/// The qemu exit status that a guest code becomes.
pub fn qemu_status(code: u8) -> i32 {
    (i32::from(code) << 1) | 1
}

/// What the guest is to run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GuestPlan {
    /// The ids of the trials to run (the host has applied filters and shards).
    pub trials: Vec<String>,
    /// Seconds a trial may take.
    pub timeout_secs: u64,
    /// Trials at once.
    pub jobs: usize,
}
