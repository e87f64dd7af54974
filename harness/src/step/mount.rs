//! Mount steps: mounts, unmounts and propagation changes inside the new
//! mount namespace. Paths below `/tmp` live in the sandbox: a fresh tmpfs
//! mounted on `/tmp` inside the namespace the first time one is used.

use std::path::Path;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};

use super::Extra;
use crate::plan::{MountStep, PropagationStep, PropagationType};

/// Where the sandbox is mounted inside the new mount namespace.
pub const SANDBOX: &str = "/tmp";

/// The per-trial sandbox, mounted on first use.
#[derive(Default)]
pub struct Sandbox {
    mounted: bool,
}

fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

impl Sandbox {
    /// Mount the sandbox tmpfs if `path` lies in it and it is not there yet.
    fn ready_for(&mut self, path: &str) -> Result<(), Errno> {
        if self.mounted || !Path::new(path).starts_with(SANDBOX) {
            return Ok(());
        }
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
        nix::mount::mount(
            Some("nsconform"),
            SANDBOX,
            Some("tmpfs"),
            flags,
            Some("mode=0755"),
        )?;
        self.mounted = true;
        Ok(())
    }

    /// Mount the sandbox now if it is not there yet.
    pub fn ready(&mut self) -> Result<(), Errno> {
        self.ready_for(SANDBOX)
    }

    pub fn mkdir(&mut self, path: &str) -> Result<Extra, Errno> {
        self.ready_for(path)?;
        std::fs::create_dir_all(path).map_err(io_errno)?;
        Ok(Extra::new())
    }

    pub fn mount(&mut self, step: &MountStep) -> Result<Extra, Errno> {
        self.ready_for(&step.target)?;
        if Path::new(&step.target).starts_with(SANDBOX) {
            std::fs::create_dir_all(&step.target).map_err(io_errno)?;
        }
        let mut flags = parse_flags(&step.flags)?;
        let (source, fstype) = if step.fstype == "bind" {
            flags |= MsFlags::MS_BIND;
            (step.source.clone().unwrap_or_default(), None)
        } else {
            let source = step.source.clone().unwrap_or_else(|| step.fstype.clone());
            (source, Some(step.fstype.as_str()))
        };
        nix::mount::mount(
            Some(source.as_str()),
            step.target.as_str(),
            fstype,
            flags,
            step.data.as_deref(),
        )?;
        Ok(Extra::new())
    }
}

fn parse_flags(names: &[String]) -> Result<MsFlags, Errno> {
    names.iter().try_fold(MsFlags::empty(), |acc, name| {
        let flag = match name.as_str() {
            "ro" => MsFlags::MS_RDONLY,
            "nosuid" => MsFlags::MS_NOSUID,
            "nodev" => MsFlags::MS_NODEV,
            "noexec" => MsFlags::MS_NOEXEC,
            "rec" => MsFlags::MS_REC,
            _ => return Err(Errno::EINVAL),
        };
        Ok(acc | flag)
    })
}

pub fn umount(path: &str) -> Result<Extra, Errno> {
    nix::mount::umount2(path, MntFlags::empty())?;
    Ok(Extra::new())
}

pub fn propagation(step: &PropagationStep) -> Result<Extra, Errno> {
    let mut flags = match step.ty {
        PropagationType::Shared => MsFlags::MS_SHARED,
        PropagationType::Private => MsFlags::MS_PRIVATE,
        PropagationType::Slave => MsFlags::MS_SLAVE,
        PropagationType::Unbindable => MsFlags::MS_UNBINDABLE,
    };
    if step.recursive {
        flags |= MsFlags::MS_REC;
    }
    nix::mount::mount(
        None::<&str>,
        step.target.as_str(),
        None::<&str>,
        flags,
        None::<&str>,
    )?;
    Ok(Extra::new())
}
