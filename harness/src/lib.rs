//! nsconform: a conformance suite for Linux namespaces.
//!
//! The actor side (`view`, `door`, `step`, `probe`) runs in the single-threaded
//! probe; the judge side (`case`, `fixture`, `matcher`, `run`, `report`,
//! `target`) runs in the harness. They share only `plan`, `kind` and views.

pub mod compare;
pub mod kind;
pub mod plan;
pub mod report;
pub mod verdict;
pub mod view;
