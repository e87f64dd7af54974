//! The pid steps: kills, nesting, trees and their init, set_tid, and
//! signals across pid namespaces.

mod chain;
mod pid_max;
mod setns_init;
mod signal;
mod tree;

pub use tree::perform;
