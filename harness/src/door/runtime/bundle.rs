//! The workspace of one runtime trial: a temporary directory holding the
//! bundle (a minimal rootfs and, for the OCI doors, `config.json`), the
//! runtime's private state root, and a container id of its own. Dropping it
//! removes everything.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// How every workspace's name begins: then the supervisor's pid.
pub const PREFIX: &str = "nsconform-runtime-";

/// The file in a workspace that holds its clean-up commands.
pub const CLEANUP_FILE: &str = "cleanup.json";

/// Where the probe appears inside the container.
pub const PROBE_IN_ROOTFS: &str = "/nsconform-probe";

/// Whether `path` lies in a runtime trial's workspace (this trial's or
/// another's running at the same time).
pub fn in_a_workspace(path: &str) -> bool {
    let tmp = std::env::temp_dir();
    let first = Path::new(path)
        .strip_prefix(&tmp)
        .ok()
        .and_then(|rest| rest.components().next());
    first.is_some_and(|c| c.as_os_str().to_string_lossy().starts_with(PREFIX))
}

/// Whether `path` is where an OCI runtime binds a copy of its own binary
/// while it starts a container, and unmounts it a moment later (runc 1.1
/// over `/run/runc/<container>/runc.XXXXXX`, crun over `/tmp/crun.XXXXXX`):
/// an engine's runtime does this in the host's mount namespace, for a
/// container of this trial or of another running at the same time.
fn a_runtime_s_own_copy(path: &str) -> bool {
    let path = Path::new(path);
    let named =
        |prefix: &str| (path.file_name()).is_some_and(|n| n.to_string_lossy().starts_with(prefix));
    (path.starts_with("/run/runc") && named("runc."))
        || (path.parent() == Some(&std::env::temp_dir()) && named("crun."))
}

/// Take out of a host view's mount table the mounts of an engine's own
/// storage: those inside runtime workspaces (podman mounts a container's
/// /dev/shm tmpfs under `storage/.../userdata/shm` there) and those under
/// the daemon's storage root `storage` (docker's overlay roots). They are the
/// engine's state, not the container's, and go with the container; so does
/// the copy of itself its OCI runtime binds while a container starts. A mount
/// anywhere else stays in the view, and one that outlives its workspace is a
/// leftover that the sweep cannot remove.
pub fn hide_engine_mounts(view: &mut serde_json::Value, storage: Option<&str>) {
    let Some(mounts) = view
        .pointer_mut("/mnt/mounts")
        .and_then(|m| m.as_array_mut())
    else {
        return;
    };
    let engine_s = |p: &str| {
        in_a_workspace(p)
            || storage.is_some_and(|s| Path::new(p).starts_with(s))
            || a_runtime_s_own_copy(p)
    };
    mounts.retain(|m| {
        !m.get("mount_point")
            .and_then(|p| p.as_str())
            .is_some_and(engine_s)
    });
}

/// The directories a container's mounts need in the rootfs.
const ROOTFS_DIRS: [&str; 8] = ["proc", "sys", "dev", "tmp", "etc", "run", "mnt", "var"];

/// A failure to lay out a workspace.
#[derive(Debug, Error)]
pub enum BundleError {
    /// A file or directory of the bundle could not be made.
    #[error("cannot make {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The probe's own binary could not be found.
    #[error("cannot find the probe's own binary: {0}")]
    Probe(std::io::Error),
    /// config.json could not be generated or written.
    #[error("cannot write config.json: {0}")]
    Config(String),
}

/// One trial's temporary directory.
pub struct Workspace {
    dir: tempfile::TempDir,
    /// The container id: unique per trial, and the name of its cgroups.
    pub id: String,
    /// The probe binary outside, bind-mounted at [`PROBE_IN_ROOTFS`].
    pub probe: PathBuf,
}

fn create(path: &Path, dir: bool) -> Result<(), BundleError> {
    let made = if dir {
        std::fs::create_dir_all(path)
    } else {
        std::fs::File::create(path).map(drop)
    };
    made.map_err(|source| BundleError::Create {
        path: path.to_path_buf(),
        source,
    })
}

impl Workspace {
    /// Make the directory, the rootfs and the state root, named after the
    /// probe's supervisor so that [`super::sweep`] finds what a killed
    /// trial left.
    pub fn new(supervisor: i32) -> Result<Workspace, BundleError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{supervisor}-"))
            .tempdir()
            .map_err(|source| BundleError::Create {
                path: std::env::temp_dir(),
                source,
            })?;
        let probe = std::env::current_exe().map_err(BundleError::Probe)?;
        let tail = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().replace(PREFIX, ""))
            .unwrap_or_default();
        let id = format!("nsconform-{tail}");
        let ws = Workspace { dir, id, probe };
        let rootfs = ws.rootfs();
        for d in ROOTFS_DIRS {
            create(&rootfs.join(d), true)?;
        }
        create(&rootfs.join(PROBE_IN_ROOTFS.trim_start_matches('/')), false)?;
        create(&ws.state(), true)?;
        Ok(ws)
    }

    /// The bundle directory (`config.json` and `rootfs/`).
    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    pub fn rootfs(&self) -> PathBuf {
        self.bundle().join("rootfs")
    }

    /// The runtime's private state root (`--root`).
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Any other path of the workspace.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Record the clean-up commands, for a sweep after a killed trial.
    pub fn write_cleanup(&self, commands: &[Vec<String>]) -> Result<(), BundleError> {
        let text = serde_json::to_vec(&(&self.id, commands))
            .map_err(|e| BundleError::Config(e.to_string()))?;
        let path = self.path(CLEANUP_FILE);
        std::fs::write(&path, text).map_err(|source| BundleError::Create { path, source })
    }

    /// Write `config.json` into the bundle.
    pub fn write_config(&self, spec: &oci_spec::runtime::Spec) -> Result<(), BundleError> {
        spec.save(self.bundle().join("config.json"))
            .map_err(|e| BundleError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mounts_of_the_engine_s_storage_are_hidden() {
        let tmp = std::env::temp_dir();
        let inside = tmp.join(format!("{PREFIX}1-abc/storage/userdata/shm"));
        let other = tmp.join("elsewhere");
        let mut view = serde_json::json!({"mnt": {"mounts": [
            {"mount_point": "/"},
            {"mount_point": inside.display().to_string()},
            {"mount_point": other.display().to_string()},
            {"mount_point": "/var/lib/docker/overlay2/x/merged"},
            {"mount_point": "/run/runc/e92b13454e35/runc.lnwWpT"},
            {"mount_point": tmp.join("crun.Ab12Cd").display().to_string()},
            {"mount_point": "/run/runc/e92b13454e35/other"},
        ]}});
        hide_engine_mounts(&mut view, Some("/var/lib/docker"));
        let kept: Vec<&str> = view["mnt"]["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["mount_point"].as_str())
            .collect();
        let kept_too = "/run/runc/e92b13454e35/other".to_string();
        assert_eq!(
            kept,
            vec!["/".to_string(), other.display().to_string(), kept_too]
        );
        assert!(!in_a_workspace("/tmp"));
    }
}
