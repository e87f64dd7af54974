//! Verdicts and the record of a run: what every report format is written from.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::skip::{SkipClass, SkipReason};
use crate::suite::SuiteId;

/// The outcome of one trial.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [Verdict::Pass, Verdict::Fail, Verdict::Skip, Verdict::Error];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One difference between a fixture and what was observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Difference {
    /// Where, as a dotted JSON path such as `inside.uts.hostname`.
    pub path: String,
    /// What the fixture expects, references resolved.
    pub expected: serde_json::Value,
    /// What was observed; `null` when the value is absent.
    pub observed: serde_json::Value,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, observed {}",
            self.path, self.expected, self.observed
        )
    }
}

/// One case through one door on one target, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrialRecord {
    /// `<type>::<case>::<door>`.
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub case: String,
    pub door: String,
    pub target: String,
    pub verdict: Verdict,
    /// Why it was skipped, what broke, or a one-line summary of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a skip: which kind of requirement the reason names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<SkipClass>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<Difference>,
    pub duration_ms: f64,
    /// The views that were judged, by process name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<serde_json::Value>,
    /// What the probe wrote on its standard error.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
}

impl TrialRecord {
    /// Make this record a skip for `reason`.
    pub fn set_skip(&mut self, reason: &SkipReason) {
        self.verdict = Verdict::Skip;
        self.reason = Some(reason.to_string());
        self.skip = Some(reason.class());
    }
}

/// Counts of each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
}

impl Summary {
    pub fn of(trials: &[TrialRecord]) -> Summary {
        let mut s = Summary::default();
        for t in trials {
            s.add(t.verdict);
        }
        s
    }

    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Skip => self.skip += 1,
            Verdict::Error => self.error += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.skip + self.error
    }

    /// Whether the run is good: nothing failed and nothing broke.
    pub fn ok(&self) -> bool {
        self.fail == 0 && self.error == 0
    }
}

/// A door or container runtime, and its version where one applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DoorInfo {
    pub name: String,
    pub available: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A runtime door's program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// What `runc features` / `crun features` printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<serde_json::Value>,
    /// Why the door cannot run here, and how to get it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// What this host makes the door do differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where and as whom the run happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    pub kernel_release: String,
    pub kernel_version: String,
    pub arch: String,
    /// Whether the suite had CAP_SYS_ADMIN in the initial user namespace.
    pub privileged: bool,
    /// Whether the suite entered a user namespace of its own first.
    pub rootless: bool,
    pub uid: u32,
    /// Kernel features found, by name (`ns.time`, `clone3`, `pidfd`, ...).
    pub features: BTreeMap<String, bool>,
    pub doors: Vec<DoorInfo>,
    pub target: String,
    /// Kernel configuration options, where `/proc/config.gz` or `/boot` had them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kconfig: BTreeMap<String, String>,
}

/// The current version of the report format.
pub const REPORT_VERSION: u32 = 1;

/// Everything a run found: the input of every report writer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub version: u32,
    pub environment: Environment,
    pub summary: Summary,
    pub trials: Vec<TrialRecord>,
    /// Which suite ran: where its cases and fixtures came from, and their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteId>,
    /// The signal (`SIGINT`, `SIGTERM`) that stopped the run before every
    /// trial finished; the report holds the trials that did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// Kernel log lines (WARNING, BUG, Oops, ...) that appeared during the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kernel_log: Vec<String>,
}

impl Report {
    pub fn new(environment: Environment, trials: Vec<TrialRecord>) -> Report {
        Report {
            version: REPORT_VERSION,
            environment,
            summary: Summary::of(&trials),
            trials,
            suite: None,
            interrupted: None,
            kernel_log: Vec::new(),
        }
    }
}
