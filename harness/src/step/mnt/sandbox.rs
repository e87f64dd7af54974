//! Mount steps: mounts, unmounts and propagation changes inside the new
//! mount namespace. Paths below `/tmp` live in the sandbox: a fresh tmpfs
//! mounted on `/tmp` inside the namespace the first time one is used.
//!
//! Every change is checked right before it is made, by the process making
//! it: its mount namespace must not be the probe's first one, a new mount
//! must not land on a mount shared with peers outside the sandbox (it would
//! propagate back to the host), and a directory or file is only ever made
//! on a tmpfs of the sandbox (a mount namespace does not isolate files).

use std::path::{Component, Path};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};

use crate::guard;
use crate::kind::NsType;
use crate::plan::{MountStep, PropagationStep, PropagationType};
use crate::step::Extra;
use crate::sys::errno::io_errno;
use crate::view::mnt::{read_mountinfo, Mount};

/// Where the sandbox is mounted inside the new mount namespace.
pub const SANDBOX: &str = "/tmp";
/// The source name of the sandbox tmpfs, as mountinfo shows it.
const SANDBOX_SOURCE: &str = "nsconform";

/// Refuse a change of the mount namespace, saying why.
pub fn refuse(why: &str) -> Errno {
    guard::refuse(NsType::Mnt, format!("namespace not isolated: {why}")).into()
}

/// The isolation guard for the mount namespace of the calling process.
pub fn ensure_mnt() -> Result<(), Errno> {
    Ok(guard::ensure(NsType::Mnt)?)
}

/// Whether `path` is the sandbox or below it, without `..`.
fn in_sandbox(path: &str) -> bool {
    let p = Path::new(path);
    p.starts_with(SANDBOX) && !p.components().any(|c| c == Component::ParentDir)
}

/// The mount that holds `path` in `mounts`: walked down from the root, at
/// each mount crossing into the child met first along `path` (the
/// shallowest), so that a mount hidden under another one is never taken.
fn holder<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    let is_root = |m: &Mount| m.parent == m.id || !mounts.iter().any(|p| p.id == m.parent);
    let mut here = mounts
        .iter()
        .rev()
        .find(|m| m.mount_point == "/" && is_root(m))?;
    for _ in 0..mounts.len() {
        let next = mounts
            .iter()
            .filter(|m| m.parent == here.id && m.id != here.id)
            .filter(|m| Path::new(path).starts_with(&m.mount_point))
            .min_by_key(|m| Path::new(&m.mount_point).components().count());
        match next {
            Some(m) => here = m,
            None => break,
        }
    }
    Some(here)
}

/// Whether `m` is the sandbox tmpfs or lies below it.
fn under_sandbox(mounts: &[Mount], m: &Mount) -> bool {
    let mut here = m;
    for _ in 0..=mounts.len() {
        if here.mount_point == SANDBOX && here.fstype == "tmpfs" && here.source == SANDBOX_SOURCE {
            return true;
        }
        match mounts
            .iter()
            .find(|p| p.id == here.parent && p.id != here.id)
        {
            Some(p) => here = p,
            None => return false,
        }
    }
    false
}

/// Refuse when `m` shares its mount events with a peer group that may reach
/// outside this namespace: a shared mount outside the sandbox (with
/// `"prepare": "keep"`, the copies of the host's shared mounts).
fn no_outside_peers(mounts: &[Mount], m: &Mount, what: &str) -> Result<(), Errno> {
    match m.propagation.iter().find(|t| t.starts_with("shared:")) {
        Some(tag) if !under_sandbox(mounts, m) => Err(refuse(&format!(
            "{what}: the mount on {} is {tag}, outside the sandbox, so the change would propagate to its peers",
            m.mount_point
        ))),
        _ => Ok(()),
    }
}

/// Check, right before mounting on `target`, the mount namespace and the
/// mount the new one would land on.
pub fn ensure_mount_on(target: &str) -> Result<(), Errno> {
    ensure_mnt()?;
    let mounts = read_mountinfo();
    let what = format!("a mount on {target}");
    let Some(m) = holder(&mounts, target) else {
        return Err(refuse(&format!("{what}: no mount holds it")));
    };
    no_outside_peers(&mounts, m, &what)
}

/// Check, right before unmounting `path`, the mount namespace and the
/// parent mount whose peers would see the unmount.
pub fn ensure_umount(path: &str) -> Result<(), Errno> {
    ensure_mnt()?;
    let mounts = read_mountinfo();
    let Some(m) = holder(&mounts, path).filter(|m| m.mount_point == path) else {
        return Ok(()); // Not a mount point: umount2 fails and changes nothing.
    };
    match mounts.iter().find(|p| p.id == m.parent && p.id != m.id) {
        Some(parent) => no_outside_peers(&mounts, parent, &format!("unmounting {path}")),
        None => Ok(()),
    }
}

/// Check, right before making a directory or writing a file at `path`,
/// the mount namespace, and that `path` is on a tmpfs of the sandbox.
pub fn ensure_writable(path: &str) -> Result<(), Errno> {
    ensure_mnt()?;
    if !in_sandbox(path) {
        return Err(refuse(&format!("{path} is outside the sandbox {SANDBOX}")));
    }
    let mounts = read_mountinfo();
    match holder(&mounts, path) {
        Some(m) if m.fstype == "tmpfs" && under_sandbox(&mounts, m) => Ok(()),
        Some(m) => Err(refuse(&format!(
            "{path} is on {} ({}), not on a tmpfs of the sandbox",
            m.mount_point, m.fstype
        ))),
        None => Err(refuse(&format!("{path}: no mount holds it"))),
    }
}

/// `create_dir_all`, checked by [`ensure_writable`] first: the directories
/// it makes do not exist yet, so they all lie on the mount holding `path`.
pub fn make_dirs(path: &str) -> Result<(), Errno> {
    ensure_writable(path)?;
    std::fs::create_dir_all(path).map_err(io_errno)
}

/// `std::fs::write` of a file checked by [`ensure_writable`] first.
pub fn write_file(path: &str, bytes: &[u8]) -> Result<(), Errno> {
    ensure_writable(path)?;
    std::fs::write(path, bytes).map_err(io_errno)
}

/// The per-trial sandbox, mounted on first use.
#[derive(Default)]
pub struct Sandbox {
    mounted: bool,
}

impl Sandbox {
    /// Mount the sandbox tmpfs if `path` lies in it and it is not there yet.
    fn ready_for(&mut self, path: &str) -> Result<(), Errno> {
        if self.mounted || !Path::new(path).starts_with(SANDBOX) {
            return Ok(());
        }
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
        ensure_mount_on(SANDBOX)?;
        nix::mount::mount(
            Some(SANDBOX_SOURCE),
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
        if !in_sandbox(path) {
            return Err(refuse(&format!(
                "mkdir {path}: outside the sandbox {SANDBOX}"
            )));
        }
        self.ready_for(path)?;
        make_dirs(path)?;
        Ok(Extra::new())
    }

    pub fn mount(&mut self, step: &MountStep) -> Result<Extra, Errno> {
        let under = Path::new(&step.target).starts_with(SANDBOX);
        if under && !in_sandbox(&step.target) {
            return Err(refuse(&format!(
                "mount on {}: `..` in the sandbox",
                step.target
            )));
        }
        self.ready_for(&step.target)?;
        if under {
            make_dirs(&step.target)?;
        }
        let mut flags = parse_flags(&step.flags)?;
        let (source, fstype) = if step.fstype == "bind" {
            let source = step.source.clone().unwrap_or_default();
            // A bind of a mount from outside would bring the host's files
            // (or its peer group) into the sandbox.
            if !in_sandbox(&source) {
                return Err(refuse(&format!("bind of {source}: outside the sandbox")));
            }
            flags |= MsFlags::MS_BIND;
            (source, None)
        } else {
            let source = step.source.clone().unwrap_or_else(|| step.fstype.clone());
            (source, Some(step.fstype.as_str()))
        };
        ensure_mount_on(&step.target)?;
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
    ensure_umount(path)?;
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
    ensure_mnt()?;
    nix::mount::mount(
        None::<&str>,
        step.target.as_str(),
        None::<&str>,
        flags,
        None::<&str>,
    )?;
    Ok(Extra::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::mnt::parse_mountinfo;
    use rstest::rstest;

    /// A table as a case namespace made with `"prepare": "keep"` on a host
    /// with a shared root may show it: `/` shared with the host, a hidden
    /// mount under the sandbox, and mounts below the sandbox.
    const TABLE: &str = "\
20 1 254:0 / / rw - ext4 /dev/vda rw
21 20 0:21 / /proc rw shared:3 - proc proc rw
22 20 0:40 / /tmp/old rw - tmpfs tmpfs rw
30 20 0:50 / /tmp rw - tmpfs nsconform rw
31 30 0:51 / /tmp/old rw shared:9 - tmpfs tmpfs rw
32 31 0:52 / /tmp/old/p rw - proc proc rw
";

    fn table(root_tag: &str) -> Vec<Mount> {
        let text = TABLE.replacen("/ / rw -", &format!("/ / rw {root_tag} -"), 1);
        parse_mountinfo(&text)
    }

    #[rstest]
    #[case("/", 20)]
    #[case("/etc/x", 20)]
    #[case("/proc/self", 21)]
    #[case("/tmp", 30)]
    #[case("/tmp/a", 30)]
    #[case("/tmp/old", 31)]
    #[case("/tmp/old/x", 31)]
    #[case("/tmp/old/p/1", 32)]
    fn holder_walks_down_from_the_root(#[case] path: &str, #[case] id: u32) {
        let mounts = table("");
        assert_eq!(holder(&mounts, path).map(|m| m.id), Some(id));
    }

    #[rstest]
    #[case(20, false)]
    #[case(21, false)]
    #[case(22, false)]
    #[case(30, true)]
    #[case(31, true)]
    #[case(32, true)]
    fn under_sandbox_follows_parents(#[case] id: u32, #[case] under: bool) {
        let mounts = table("");
        let m = mounts.iter().find(|m| m.id == id).unwrap();
        assert_eq!(under_sandbox(&mounts, m), under);
    }

    #[rstest]
    #[case("shared:1", 20, false)]
    #[case("master:1", 20, true)]
    #[case("", 20, true)]
    #[case("", 21, false)]
    #[case("", 31, true)]
    fn outside_peers_are_refused(#[case] root_tag: &str, #[case] id: u32, #[case] ok: bool) {
        let mounts = table(root_tag);
        let m = mounts.iter().find(|m| m.id == id).unwrap();
        assert_eq!(no_outside_peers(&mounts, m, "test").is_ok(), ok);
    }

    #[rstest]
    #[case("/tmp", true)]
    #[case("/tmp/a/b", true)]
    #[case("/tmp/../etc", false)]
    #[case("/tmp/a/../../etc", false)]
    #[case("/tmpx", false)]
    #[case("/etc", false)]
    #[case("", false)]
    fn sandbox_paths(#[case] path: &str, #[case] inside: bool) {
        assert_eq!(in_sandbox(path), inside);
    }
}
