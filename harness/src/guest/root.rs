//! The guest's filesystems. The initramfs is the rootfs, which pivot_root(2)
//! refuses to leave, so /init copies itself onto a tmpfs and makes that the
//! root (as switch_root(8) does, emptying the rootfs as it goes), then mounts proc, sys,
//! cgroup2, dev, /dev/shm and tmp.

use std::path::Path;

use nix::mount::{mount, MsFlags};

/// Why the guest's filesystems could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PrepareRootError {
    /// A mount failed.
    #[error("failed to mount {fstype} on {target}: {source}")]
    Mount {
        fstype: String,
        target: String,
        source: nix::Error,
    },
    /// Copying the initramfs onto the new root failed.
    #[error("failed to copy {path} to the new root: {source}")]
    Copy {
        path: String,
        source: std::io::Error,
    },
    /// Moving into the new root failed.
    #[error("failed to switch to the new root: {0}")]
    Switch(nix::Error),
}

/// Where the new root is mounted before it becomes `/`.
const NEW_ROOT: &str = "/newroot";

fn mount_fs(fstype: &str, target: &str, flags: MsFlags) -> Result<(), PrepareRootError> {
    let _ = std::fs::create_dir_all(target);
    mount(Some(fstype), target, Some(fstype), flags, None::<&str>).map_err(|source| {
        PrepareRootError::Mount {
            fstype: fstype.into(),
            target: target.into(),
            source,
        }
    })
}

/// Copies the tree at `from` into `to`, leaving out `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&Path]) -> Result<(), PrepareRootError> {
    let err = |p: &Path| {
        let path = p.display().to_string();
        move |source| PrepareRootError::Copy { path, source }
    };
    for entry in std::fs::read_dir(from).map_err(err(from))? {
        let entry = entry.map_err(err(from))?;
        let path = entry.path();
        if skip.contains(&path.as_path()) {
            continue;
        }
        let dest = to.join(entry.file_name());
        let kind = entry.file_type().map_err(err(&path))?;
        if kind.is_dir() {
            std::fs::create_dir_all(&dest).map_err(err(&dest))?;
            copy_tree(&path, &dest, skip)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(err(&path))?;
            std::os::unix::fs::symlink(target, &dest).map_err(err(&dest))?;
        } else {
            std::fs::copy(&path, &dest).map_err(err(&path))?;
            // The rootfs holds only what the host packed; freeing it as it
            // goes keeps one copy of the suite in memory, not two.
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(())
}

/// Makes a tmpfs holding the initramfs the root, as switch_root(8) does.
fn switch_root() -> Result<(), PrepareRootError> {
    mount_fs("tmpfs", NEW_ROOT, MsFlags::empty())?;
    let skip = [Path::new(NEW_ROOT), Path::new("/dev"), Path::new("/proc")];
    copy_tree(Path::new("/"), Path::new(NEW_ROOT), &skip)?;
    nix::unistd::chdir(NEW_ROOT).map_err(PrepareRootError::Switch)?;
    mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)
        .map_err(PrepareRootError::Switch)?;
    nix::unistd::chroot(".").map_err(PrepareRootError::Switch)?;
    nix::unistd::chdir("/").map_err(PrepareRootError::Switch)
}

/// Sets up the guest's root and its filesystems; afterwards the current
/// directory is `/`, where the suite's data lies.
pub fn prepare() -> Result<(), PrepareRootError> {
    switch_root()?;
    let none = MsFlags::empty();
    let quiet = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount_fs("devtmpfs", "/dev", MsFlags::MS_NOSUID)?;
    mount_fs("proc", "/proc", quiet)?;
    mount_fs("sysfs", "/sys", quiet)?;
    mount_fs("cgroup2", "/sys/fs/cgroup", quiet)?;
    mount_fs("tmpfs", "/tmp", none)?;
    mount_fs("tmpfs", "/dev/shm", MsFlags::MS_NOSUID | MsFlags::MS_NODEV)?;
    // No mqueue here: the cases mount their own, and a view shows the
    // first mqueue mount it finds.
    Ok(())
}
