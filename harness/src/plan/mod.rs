//! The plan: what the harness asks a probe to do, and the outcome the probe
//! answers with. These types are the whole boundary between the judge side
//! (cases, fixtures, verdicts) and the actor side (doors, steps, views).
//!
//! `door` (the ways in), `namespaces` (what to create, with its settings),
//! `step` (what to do inside; each type's own steps in its file), `process`
//! (who is observed), `trial` (the plan itself), `check` (its one
//! validation), `outcome` (the probe's answer).

pub mod cgroup;
pub mod check;
pub mod door;
pub mod ipc;
pub mod json_path;
pub mod mnt;
pub mod namespaces;
pub mod net;
pub mod nsfs;
pub mod outcome;
pub mod pid;
pub mod process;
pub mod runtime;
pub mod step;
pub mod time;
pub mod trial;
pub mod user;
pub mod uts;

pub use check::{Violation, MAX_MAP_LINES};
pub use door::{Door, DoorKind, SyscallDoor, RUNTIME_DOORS};
pub use namespaces::{
    render_map, CallerTag, MapLine, MntSettings, Namespaces, Offset, Outside, Plain, Prepare,
    Setgroups, TimeSettings, UserSettings,
};
pub use outcome::{DoorResult, GuardFailure, Outcome};
pub use process::Process;
pub use step::{MountStep, PropagationStep, PropagationType, Step, SysvKind, SysvStep};
pub use trial::Plan;
