//! The processes whose views a case can observe.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A process whose view a case can observe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// The process in all the new namespaces, after the steps.
    Inside,
    /// A child that `inside` forks after its steps.
    Child,
    /// The process that called unshare(2) (the unshare door only): for pid
    /// and time namespaces it stays outside, and `inside` is its child.
    Unsharer,
    /// The probe itself, which stays where it started, observed while
    /// `inside` is still alive. `before.host` is its view before the door.
    Host,
}

impl Process {
    pub const ALL: [Process; 4] = [
        Process::Inside,
        Process::Child,
        Process::Unsharer,
        Process::Host,
    ];

    /// The process of that name, as a fixture writes it.
    pub fn from_name(name: &str) -> Option<Process> {
        Process::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Process::Inside => "inside",
            Process::Child => "child",
            Process::Unsharer => "unsharer",
            Process::Host => "host",
        }
    }
}
