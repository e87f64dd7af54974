//! The mnt steps: the sandbox and plain mount steps, and the steps of
//! plan::mnt, some of them with a helper in a second namespace.

mod copy;
mod helper;
mod idmap;
mod locked;
mod nsiter;
mod pivot;
mod propagate;
mod sandbox;
mod tree;

pub use sandbox::{propagation, umount, Sandbox};
pub use tree::perform;
