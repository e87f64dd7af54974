//! For the doors' unit tests: a runtime door's plan for some namespaces, a
//! workspace, and the invocation over them that each door's test adjusts.

use crate::plan::runtime::{RuntimeConfig, RuntimePlan};
use crate::plan::{Door, Plan};

use super::bundle::{Workspace, PROBE_IN_ROOTFS};
use super::Invocation;

/// A plan of `door` and a workspace, owned for the invocations over them.
pub struct Sample {
    plan: Plan,
    workspace: Workspace,
}

impl Sample {
    /// `door` making the namespaces `ns` (a case's `namespaces` object),
    /// configured by `config`.
    pub fn new(door: Door, ns: serde_json::Value, config: RuntimeConfig) -> Sample {
        let plan = Plan {
            runtime: Some(RuntimePlan {
                config,
                ..RuntimePlan::default()
            }),
            ..Plan::bare(door, serde_json::from_value(ns).expect("namespaces"))
        };
        let workspace = Workspace::new(std::process::id() as i32).expect("workspace");
        Sample { plan, workspace }
    }

    /// The invocation: holder 42, caller 1000:1001, the probe where the
    /// rootfs has it, the door's own program name.
    pub fn invocation(&self) -> Invocation<'_> {
        Invocation {
            plan: &self.plan,
            workspace: &self.workspace,
            holder: Some(42),
            caller: (1000, 1001),
            args: vec![PROBE_IN_ROOTFS.into()],
            program: self.plan.door.name().into(),
        }
    }
}
