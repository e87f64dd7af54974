//! Verdicts and the record of a run: what every report format is written from.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::skip::{SkipClass, SkipReason};

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
    /// A failure that a known issue covers: expected on this kernel.
    Xfail,
    /// A pass where a known issue says it fails: the issue may be fixed.
    Xpass,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Skip,
        Verdict::Error,
        Verdict::Xfail,
        Verdict::Xpass,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Error => "error",
            Verdict::Xfail => "xfail",
            Verdict::Xpass => "xpass",
        }
    }

    /// Whether the fixture was compared with what was observed.
    pub fn judged(self) -> bool {
        matches!(
            self,
            Verdict::Pass | Verdict::Fail | Verdict::Xfail | Verdict::Xpass
        )
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
    /// What was observed, by process name (`door`, `inside`, `host`,
    /// `before.host`, ...). Of a trial that passed or was skipped, only what
    /// its fixture judged: the door's result, the value at every path the
    /// fixture names and every value it references (`${...}`), and of the
    /// view sections the probe observed for it. Of a trial that failed
    /// (`fail`, `xfail`) or broke (`error`), the whole views the probe
    /// reported; of every trial with `nsconform run --full-views`, whole
    /// views of every section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<serde_json::Value>,
    /// What the probe wrote on its standard error.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    /// The leaf expectations of the fixture that were judged (0 when it was not compared).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checks: usize,
    /// The known issue that made this trial `xfail` or `xpass`, with its reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_issue: Option<String>,
}

impl TrialRecord {
    /// The record of trial `id` (`<type>::<case>::<door>`) on `target`,
    /// before anything is known of it: an error with no reason, until it is
    /// judged or given one.
    pub fn new(id: &str, target: &str) -> TrialRecord {
        let mut parts = id.splitn(3, "::").map(String::from);
        TrialRecord {
            id: id.to_string(),
            ty: parts.next().unwrap_or_default(),
            case: parts.next().unwrap_or_default(),
            door: parts.next().unwrap_or_default(),
            target: target.to_string(),
            verdict: Verdict::Error,
            reason: None,
            skip: None,
            diff: Vec::new(),
            duration_ms: 0.0,
            views: None,
            stderr: String::new(),
            checks: 0,
            known_issue: None,
        }
    }

    /// Make this record a skip for `reason`.
    pub fn set_skip(&mut self, reason: &SkipReason) {
        self.verdict = Verdict::Skip;
        self.reason = Some(reason.to_string());
        self.skip = Some(reason.class());
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Which suite ran: where it came from, and a hash of every file of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SuiteId {
    /// `built-in`, or the cases and fixtures directories given.
    pub source: String,
    /// FNV-1a (64 bits) over the relative path and bytes of every file, in order.
    pub hash: String,
}

/// Counts of each verdict, and of the checks judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
    /// Failures that a known issue covers; they do not fail the run.
    #[serde(default)]
    pub xfail: usize,
    /// Passes where a known issue expected a failure; they do not fail the run.
    #[serde(default)]
    pub xpass: usize,
    /// The leaf expectations judged, each case's counted once however many
    /// doors ran it: the number to compare with other suites.
    #[serde(default)]
    pub checks: usize,
}

/// A summary counted as records come: the verdicts, and the checks of each
/// case (the most any of its doors judged).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    summary: Summary,
    per_case: BTreeMap<(String, String), usize>,
}

impl Tally {
    pub fn add(&mut self, t: &TrialRecord) {
        self.summary.add(t.verdict);
        let key = (t.ty.clone(), t.case.clone());
        let n = self.per_case.entry(key).or_default();
        *n = (*n).max(t.checks);
    }

    /// The summary of the records added so far.
    pub fn summary(&self) -> Summary {
        Summary {
            checks: self.per_case.values().sum(),
            ..self.summary
        }
    }
}

/// The distinct targets of `trials`, in order of first appearance.
pub fn targets(trials: &[TrialRecord]) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for t in trials {
        if !seen.contains(&t.target.as_str()) {
            seen.push(&t.target);
        }
    }
    seen
}

impl Summary {
    pub fn of<'a>(trials: impl IntoIterator<Item = &'a TrialRecord>) -> Summary {
        let mut tally = Tally::default();
        trials.into_iter().for_each(|t| tally.add(t));
        tally.summary()
    }

    /// The summary of each target's trials, targets in order of first
    /// appearance.
    pub fn by_target(trials: &[TrialRecord]) -> Vec<(&str, Summary)> {
        let of = |target: &str| Summary::of(trials.iter().filter(|t| t.target == target));
        targets(trials).into_iter().map(|t| (t, of(t))).collect()
    }

    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Skip => self.skip += 1,
            Verdict::Error => self.error += 1,
            Verdict::Xfail => self.xfail += 1,
            Verdict::Xpass => self.xpass += 1,
        }
    }

    /// The count of one verdict.
    pub fn count(&self, v: Verdict) -> usize {
        match v {
            Verdict::Pass => self.pass,
            Verdict::Fail => self.fail,
            Verdict::Skip => self.skip,
            Verdict::Error => self.error,
            Verdict::Xfail => self.xfail,
            Verdict::Xpass => self.xpass,
        }
    }

    pub fn total(&self) -> usize {
        Verdict::ALL.iter().map(|&v| self.count(v)).sum()
    }

    /// Whether the run is good: nothing failed and nothing broke (a known
    /// issue's `xfail` or `xpass` does not count against it).
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
    /// Kernel configuration options, from `/proc/config.gz`, `/boot`, or a
    /// guest's `--kconfig` (or the `.config` beside its image).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kconfig: BTreeMap<String, String>,
    /// The hash (`fnv1a64:<hex>`) of the whole kernel configuration the
    /// options of `kconfig` were read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kconfig_hash: Option<String>,
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
