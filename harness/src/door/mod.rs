//! Doors: the ways a process gets into namespaces. Each door creates the
//! `inside` process, which runs the body the supervisor hands it.

pub mod clone;
pub mod clone3;
pub mod ctx;
pub mod enter;
pub mod handshake;
pub mod holder;
pub mod maps;
pub mod offsets;
pub mod prepare;
pub mod runtime;
pub mod setns;
pub mod setns_pidfd;
pub mod settle;
pub mod unshare;

pub use ctx::Ctx;
pub use enter::enter;
pub use handshake::{spawn, write_maps};
pub use settle::settle;
