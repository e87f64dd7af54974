//! The guest side of the `vm:` target: the static `nsconform` binary as a
//! guest kernel's `/init`. It makes a root it can pivot from, runs the suite
//! inside the guest, sends the report over its own serial port and powers off.

mod channel;
mod init;
mod root;

pub use init::{is_init, main};
