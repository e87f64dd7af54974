//! Steps about the cgroup namespace: what a case may ask a process to do.
//!
//! These steps create cgroups of their own in the cgroup2 hierarchy (named
//! `nsconform-<pid>-<n>`, below the caller's cgroup), move into them only
//! processes they forked, and remove them afterwards; a guardian process
//! outside the probe's process group removes them even if the probe is
//! killed. Creating cgroups needs root where the hierarchy is not delegated.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

/// How the nested process gets its new cgroup namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// unshare(CLONE_NEWCGROUP) in the process itself.
    Unshare,
    /// clone(2) with CLONE_NEWCGROUP from a process in the cgroup.
    Clone,
    /// clone3(2) with CLONE_NEWCGROUP from a process in the cgroup.
    Clone3,
    /// setns(2) into the namespace of a holder that unshared in the cgroup.
    Setns,
}

/// A step about the cgroup namespace, written `{"cgroup": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CgroupStep {
    /// Create two sibling cgroups `a` and `b`; move a forked process into
    /// `b`, and another into `a` where it enters a new cgroup namespace
    /// (`via`). It reports the paths it sees: its own (`self`), the sibling's
    /// (`sibling`), the step process's (`parent`); the step process reports
    /// the nested process's path as it sees it (`outside`). With `mount`,
    /// the nested process also unshares a mount namespace and mounts cgroup2:
    /// `mount_root` (its mountinfo root), `mount_procs` (how many pids the
    /// mount's cgroup.procs lists: the nested process, and with clone and
    /// clone3 the worker that cloned it), `mount_procs_self` (whether it is
    /// one of them), `mount_root_outside` (the root as the step
    /// process reads it from the nested process's mountinfo).
    Nested {
        via: Via,
        #[serde(default)]
        mount: bool,
    },
    /// Create cgroup `a` and clone3(CLONE_INTO_CGROUP) a child into it
    /// (with `newcgroup`, CLONE_NEWCGROUP too): `path` is the child's own
    /// cgroup path, `outside` that path as the step process sees it.
    CloneInto {
        #[serde(default)]
        newcgroup: bool,
    },
}

impl CgroupStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            CgroupStep::Nested { .. } => "nested",
            CgroupStep::CloneInto { .. } => "clone_into",
        }
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        // The cgroups are the step's own and removed afterwards; a new cgroup
        // namespace keeps what the step process sees about them apart.
        Some(NsType::Cgroup)
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(r#"{"nested": {"via": "unshare"}}"#, "nested")]
    #[case(r#"{"nested": {"via": "setns", "mount": true}}"#, "nested")]
    #[case(r#"{"clone_into": {}}"#, "clone_into")]
    #[case(r#"{"clone_into": {"newcgroup": true}}"#, "clone_into")]
    fn parses(#[case] text: &str, #[case] name: &str) {
        let step: CgroupStep = serde_json::from_str(text).unwrap();
        assert_eq!(step.name(), name);
        assert_eq!(step.guarded_by(), Some(NsType::Cgroup));
        assert_eq!(step.check(), Ok(()));
    }

    #[rstest]
    #[case(r#"{"nested": {"via": "fork"}}"#)]
    #[case(r#"{"nested": {}}"#)]
    #[case(r#"{"clone_into": {"cgroup": "/x"}}"#)]
    fn refuses(#[case] text: &str) {
        assert!(serde_json::from_str::<CgroupStep>(text).is_err());
    }
}
