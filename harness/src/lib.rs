//! nsconform: a conformance suite for Linux namespaces.
//!
//! The actor side (`view`, `door`, `step`, `probe`) runs in the single-threaded
//! probe; the judge side (`case`, `fixture`, `matcher`, `run`, `report`,
//! `target`) runs in the harness. They share only `plan`, `kind` and views.

pub mod case;
pub mod fixture;
pub mod format_error;
#[cfg(test)]
mod format_fuzz;
pub mod kind;
pub mod kver;
pub mod limits;
pub mod matcher;
pub mod plan;
pub mod verdict;
pub mod view;
