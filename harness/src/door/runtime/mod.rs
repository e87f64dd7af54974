//! Runtime doors: a container runtime or a tool (runc, crun, youki, any OCI
//! runtime by path, bubblewrap, unshare(1), podman, docker) makes the
//! namespaces, and the process it starts is the probe again, which runs the
//! steps and reports its view. The supervisor stays outside, as for the
//! syscall doors, and observes the host.

pub mod bundle;
pub mod bwrap;
pub mod cgroups;
pub mod docker_holder;
pub mod engine;
pub mod launch;
pub mod oci;
pub mod oci_runtime;
#[cfg(test)]
pub mod sample;
pub mod sweep;
pub mod unshare_cli;

pub use launch::{enter, Invocation, Launch, Mounts};
pub use sweep::{sweep, sweep_stale};
