//! Steps about the user namespace: what a case may ask a process to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

/// A step about the user namespace, written `{"user": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UserStep {}

impl UserStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        match *self {}
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match *self {}
    }
}
