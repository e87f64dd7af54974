//! The `vm:KERNEL` target: boot a kernel image under qemu with an initramfs
//! whose `/init` is the static harness, run the suite inside, and bring the
//! report back over a serial port of its own.

pub mod boot;
pub mod console;
pub mod image;
pub mod initramfs;
pub mod kconfig;
pub mod protocol;
pub mod qemu;

pub use boot::{run, VmOptions, VmRun};
