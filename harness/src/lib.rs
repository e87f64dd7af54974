//! nsconform: a conformance suite for Linux namespaces.
//!
//! The actor side runs in the single-threaded probe, layered without
//! circles: `probe` -> {`door`, `step`} -> {`sys`, `guard`} -> {`view`,
//! `plan`, `kind`}. The judge side (`case`, `fixture`, `matcher`, `judge`,
//! `suite`, `run`, `report`, `target`) runs in the harness. They
//! share only `plan`, `kind` and views, and the harness starts programs
//! (the probe, qemu) with `sys::command` (`tests/layers.rs` keeps it so).

pub mod case;
pub mod cli;
pub mod compare;
pub mod cpio;
pub mod door;
pub mod embedded;
pub mod env;
pub mod fixture;
pub mod format_error;
#[cfg(test)]
mod format_fuzz;
pub mod guard;
pub mod guest;
pub mod judge;
pub mod kind;
pub mod kmsg;
pub mod known_issue;
pub mod kver;
pub mod matcher;
pub mod matrix;
pub mod merge;
pub mod plan;
pub mod probe;
pub mod report;
pub mod run;
pub mod runtimes;
pub mod shard;
pub mod skip;
pub mod step;
pub mod suite;
pub mod sys;
pub mod target;
pub mod verdict;
pub mod view;
