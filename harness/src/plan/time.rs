//! Steps about the time namespace: what a case may ask a process to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Offset;
use crate::kind::NsType;

/// The clocks a time namespace shifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    Monotonic,
    Boottime,
}

impl Clock {
    pub fn id(self) -> libc::clockid_t {
        match self {
            Clock::Monotonic => libc::CLOCK_MONOTONIC,
            Clock::Boottime => libc::CLOCK_BOOTTIME,
        }
    }
}

/// The longest text a step may write to `timens_offsets`.
pub const MAX_OFFSETS_TEXT: usize = 256;

/// The longest a timer step may wait for, in milliseconds.
pub const MAX_TIMER_MS: u32 = 2000;

/// A step about the time namespace, written `{"time": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeStep {
    /// Write `text` to `/proc/self/timens_offsets` (the offsets of the
    /// caller's `time_for_children` namespace). Once a process has entered
    /// that namespace the kernel refuses with EACCES.
    WriteOffsets { text: String },
    /// In a forked child: unshare(CLONE_NEWTIME), write `text` to the new
    /// namespace's `timens_offsets` before anyone entered, and read it back
    /// (`offsets`). A refused write is the step's errno.
    FreshOffsets { text: String },
    /// In a forked child: remember the current time namespace, unshare a new
    /// one with these offsets, setns into it, read the offsets and clocks,
    /// then setns back and read them again (`entered`, `back`).
    SetnsBack {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        monotonic: Option<Offset>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boottime: Option<Offset>,
    },
    /// In a forked child: clock_nanosleep(TIMER_ABSTIME) on `clock` until
    /// its reading now plus `ms`; `elapsed_ms` is measured with
    /// CLOCK_REALTIME, which no time namespace shifts.
    ClockNanosleepAbs { clock: Clock, ms: u32 },
    /// An absolute timerfd on `clock` set to its reading now plus `ms`,
    /// polled for at most 2 s: `expired`, `elapsed_ms` (CLOCK_REALTIME).
    TimerfdAbs { clock: Clock, ms: u32 },
    /// sysinfo(2): `uptime`, and whether it agrees with /proc/uptime.
    Sysinfo {},
    /// Raw clone(2) with CLONE_NEWTIME | SIGCHLD in the flags: whether the
    /// child is in a new time namespace, and the exit signal it got.
    LegacyClone {},
}

impl TimeStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            TimeStep::WriteOffsets { .. } => "write_offsets",
            TimeStep::FreshOffsets { .. } => "fresh_offsets",
            TimeStep::SetnsBack { .. } => "setns_back",
            TimeStep::ClockNanosleepAbs { .. } => "clock_nanosleep_abs",
            TimeStep::TimerfdAbs { .. } => "timerfd_abs",
            TimeStep::Sysinfo {} => "sysinfo",
            TimeStep::LegacyClone {} => "legacy_clone",
        }
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        match self {
            // Writes the offsets of the caller's own namespace.
            TimeStep::WriteOffsets { .. } => Some(NsType::Time),
            // The others change nothing but namespaces they create in a
            // forked child.
            _ => None,
        }
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            TimeStep::WriteOffsets { text } | TimeStep::FreshOffsets { text } => {
                if text.is_empty() || text.len() > MAX_OFFSETS_TEXT {
                    return Err(format!(
                        "the offsets text must have 1 to {MAX_OFFSETS_TEXT} bytes"
                    ));
                }
                Ok(())
            }
            TimeStep::SetnsBack {
                monotonic,
                boottime,
            } => {
                for o in [monotonic, boottime].into_iter().flatten() {
                    if !(0..1_000_000_000).contains(&o.1) {
                        return Err(format!("nanoseconds {} out of 0..1e9", o.1));
                    }
                }
                Ok(())
            }
            TimeStep::ClockNanosleepAbs { ms, .. } | TimeStep::TimerfdAbs { ms, .. } => {
                if *ms == 0 || *ms > MAX_TIMER_MS / 2 {
                    return Err(format!("ms must be 1 to {}", MAX_TIMER_MS / 2));
                }
                Ok(())
            }
            TimeStep::Sysinfo {} | TimeStep::LegacyClone {} => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        r#"{"write_offsets": {"text": "monotonic 1 0"}}"#,
        "write_offsets",
        Some(NsType::Time)
    )]
    #[case(r#"{"fresh_offsets": {"text": "1 10 -10"}}"#, "fresh_offsets", None)]
    #[case(r#"{"setns_back": {"monotonic": [10, 0]}}"#, "setns_back", None)]
    #[case(
        r#"{"clock_nanosleep_abs": {"clock": "boottime", "ms": 50}}"#,
        "clock_nanosleep_abs",
        None
    )]
    #[case(
        r#"{"timerfd_abs": {"clock": "monotonic", "ms": 50}}"#,
        "timerfd_abs",
        None
    )]
    #[case(r#"{"sysinfo": {}}"#, "sysinfo", None)]
    #[case(r#"{"legacy_clone": {}}"#, "legacy_clone", None)]
    fn parses(#[case] text: &str, #[case] name: &str, #[case] guard: Option<NsType>) {
        let step: TimeStep = serde_json::from_str(text).unwrap();
        assert_eq!(step.name(), name);
        assert_eq!(step.guarded_by(), guard);
        assert_eq!(step.check(), Ok(()));
    }

    #[rstest]
    #[case(r#"{"write_offsets": {"text": ""}}"#)]
    #[case(r#"{"timerfd_abs": {"clock": "monotonic", "ms": 0}}"#)]
    #[case(r#"{"clock_nanosleep_abs": {"clock": "monotonic", "ms": 5000}}"#)]
    #[case(r#"{"setns_back": {"boottime": [1, 1000000000]}}"#)]
    fn refuses(#[case] text: &str) {
        let step: TimeStep = serde_json::from_str(text).unwrap();
        assert!(step.check().is_err());
    }

    #[test]
    fn unknown_clock_is_refused() {
        let r: Result<TimeStep, _> =
            serde_json::from_str(r#"{"timerfd_abs": {"clock": "realtime", "ms": 5}}"#);
        assert!(r.is_err());
    }
}
