//! nsconform: a conformance suite for Linux namespaces.
//!
//! The actor side (`view`, `door`, `step`, `probe`) runs in the single-threaded
//! probe; the judge side (`case`, `fixture`, `matcher`, `judge`, `suite`,
//! `run`, `report`, `target`) runs in the harness. They share only `plan`,
//! `kind` and views.

pub mod compare;
pub mod door;
pub mod kind;
pub mod plan;
pub mod probe;
pub mod report;
pub mod step;
pub mod verdict;
pub mod view;
