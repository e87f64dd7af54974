//! The pid steps: kills, nesting, trees and their init, set_tid, and
//! signals across pid namespaces.

mod chain;
mod signal;
mod tree;

pub use tree::perform;
