//! What a probe answers: how the door went, the views, the guard's refusals
//! and what broke.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

/// How the door's syscall went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DoorResult {
    /// The syscall that failed, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// Its errno name, such as `EPERM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
}

/// A change refused because its namespace was not new: the one event any
/// process of a probe sends when the isolation guard refuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GuardFailure {
    pub process: String,
    /// The step refused, by index; none when a door refused before any step.
    pub step: Option<usize>,
    #[serde(rename = "type")]
    pub ty: NsType,
    pub message: String,
}

/// What a probe answers: one JSON document on its standard output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    pub door: DoorResult,
    /// Set when the probe found it cannot run the plan here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// Views by process name (`inside`, `child`, `unsharer`, `host`) and the
    /// host's view before the door under `before` → `host`.
    #[serde(default)]
    pub views: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guard: Vec<GuardFailure>,
    /// What broke in the probe: a process that died, a pipe that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}
