//! The plan itself: everything a probe needs to carry out one trial, and
//! whether its door can express it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{runtime, Door, DoorKind, Namespaces, Process, Step, SyscallDoor, TimeSettings};
use crate::view::{Section, Selection};

/// Everything a probe needs to carry out one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub door: Door,
    pub namespaces: Namespaces,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Steps the child runs before it observes (only with `child` observed).
    #[serde(default)]
    pub child_steps: Vec<Step>,
    pub observe: Vec<Process>,
    /// What each process observes of its view: what its fixture judges (a
    /// process left out, and every process when this is absent, observes
    /// its whole view: `record`, `probe`, `run --full-views`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<BTreeMap<Process, Selection>>,
    /// Enter a user namespace first, mapping the caller to root, and run the
    /// trial from there: how an unprivileged user runs the suite.
    #[serde(default)]
    pub outer_userns: bool,
    /// For a runtime door: the program and the settings only a runtime's
    /// configuration can say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<runtime::RuntimePlan>,
}

impl Plan {
    /// A plan of `door` into `namespaces` with no steps and nothing observed:
    /// what a door's own tests start from.
    pub fn bare(door: Door, namespaces: Namespaces) -> Plan {
        Plan {
            door,
            namespaces,
            steps: Vec::new(),
            child_steps: Vec::new(),
            observe: Vec::new(),
            sections: None,
            outer_userns: false,
            runtime: None,
        }
    }

    /// What `who` observes of its view: `None` for all of it.
    pub fn selection(&self, who: Process) -> Option<&Selection> {
        self.sections.as_ref().and_then(|m| m.get(&who))
    }

    /// The processes whose views the probe reports: those observed, and the
    /// host, whose view it always takes before and after.
    pub fn viewed(&self) -> impl Iterator<Item = Process> + '_ {
        let host = (!self.observe.contains(&Process::Host)).then_some(Process::Host);
        self.observe.iter().copied().chain(host)
    }

    /// Whether any process observes the section `s`.
    pub fn observes(&self, s: Section) -> bool {
        let observed = |who: Process| self.selection(who).is_none_or(|o| o.has(s));
        self.sections.is_none() || self.viewed().any(observed)
    }

    /// Why this door cannot carry out this plan, if it cannot.
    pub fn inexpressible(&self) -> Option<String> {
        let DoorKind::Syscall(door) = self.door.kind() else {
            return runtime::inexpressible(self);
        };
        let ns = &self.namespaces;
        match door {
            SyscallDoor::Clone if ns.time.is_some() => Some(
                "clone(2) cannot take CLONE_NEWTIME: 0x80 is part of the exit signal byte".into(),
            ),
            SyscallDoor::Clone3 if ns.time.as_ref().is_some_and(TimeSettings::has_offsets) => Some(
                "clone3 puts the child in the new time namespace at once, so no offsets can \
                     be written before it enters"
                    .into(),
            ),
            SyscallDoor::Setns | SyscallDoor::SetnsPidfd if ns.types().is_empty() => {
                Some("setns needs a namespace to join, and the case creates none".into())
            }
            SyscallDoor::Unshare => None,
            _ if self.observe.contains(&Process::Unsharer) => Some(format!(
                "{} has no unsharer process: only the unshare door does",
                self.door
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plain;
    use rstest::rstest;

    fn plan(door: Door, ns: serde_json::Value, observe: &[Process]) -> Plan {
        Plan {
            observe: observe.to_vec(),
            ..Plan::bare(door, serde_json::from_value(ns).expect("namespaces"))
        }
    }

    #[rstest]
    #[case(Door::Clone, serde_json::json!({"time": {}}), true)]
    #[case(Door::Clone3, serde_json::json!({"time": {}}), false)]
    #[case(Door::Clone3, serde_json::json!({"time": {"monotonic": [1, 0]}}), true)]
    #[case(Door::Unshare, serde_json::json!({"time": {"monotonic": [1, 0]}}), false)]
    #[case(Door::Setns, serde_json::json!({}), true)]
    #[case(Door::SetnsPidfd, serde_json::json!({"uts": {}}), false)]
    #[case(Door::Clone, serde_json::json!({"pid": {}, "user": {}}), false)]
    fn doors_say_what_they_cannot_express(
        #[case] door: Door,
        #[case] ns: serde_json::Value,
        #[case] inexpressible: bool,
    ) {
        let p = plan(door, ns, &[Process::Inside]);
        assert_eq!(
            p.inexpressible().is_some(),
            inexpressible,
            "{:?}",
            p.inexpressible()
        );
    }

    #[rstest]
    #[case(Door::Unshare, false)]
    #[case(Door::Clone, true)]
    #[case(Door::Setns, true)]
    fn only_unshare_has_an_unsharer(#[case] door: Door, #[case] inexpressible: bool) {
        let p = plan(door, serde_json::json!({"pid": {}}), &[Process::Unsharer]);
        assert_eq!(p.inexpressible().is_some(), inexpressible);
    }

    #[test]
    fn a_plan_round_trips() {
        let mut p = plan(
            Door::SetnsPidfd,
            serde_json::json!({"uts": {}, "time": {"boottime": [5, 0]}}),
            &[Process::Inside, Process::Host],
        );
        p.steps = vec![Step::Sethostname("a".into()), Step::Setsid(Plain {})];
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), p);
    }
}
