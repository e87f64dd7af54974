//! Kernel images: a file given as `vm:PATH` must be an x86 boot image
//! (bzImage or vmlinuz) before qemu is asked to boot it; `vm:7.2` names the
//! newest `vmlinuz-7.2*` of the kernel cache (what `.ci/fetch-vm` fetched).

use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the x86 boot protocol puts its magic (`Documentation/arch/x86/boot.rst`).
const HEADER_MAGIC_AT: usize = 0x202;
const HEADER_MAGIC: &[u8; 4] = b"HdrS";

/// Why a file cannot be booted.
#[derive(Debug, thiserror::Error)]
pub enum KernelImageError {
    /// The file cannot be read.
    #[error("failed to read the kernel image {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file has no x86 boot header.
    #[error(
        "{path} is not a Linux kernel image: no x86 boot header (\"HdrS\" at offset 0x202); \
         give a bzImage or vmlinuz (arch/x86/boot/bzImage, /boot/vmlinuz-*)"
    )]
    NotAKernel { path: PathBuf },
}

/// Checks that `path` is an x86 boot image.
pub fn check(path: &Path) -> Result<(), KernelImageError> {
    let read_err = |source| KernelImageError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut head = Vec::with_capacity(HEADER_MAGIC_AT + 4);
    file.take((HEADER_MAGIC_AT + 4) as u64)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    if head.get(HEADER_MAGIC_AT..) == Some(&HEADER_MAGIC[..]) {
        Ok(())
    } else {
        Err(KernelImageError::NotAKernel {
            path: path.to_path_buf(),
        })
    }
}

/// The newest `vmlinuz-<name>...` in `dirs` (the first directory holding
/// one), where what follows `<name>` does not continue its last number:
/// `6.1` names `vmlinuz-6.1.0-57-cloud-amd64`, not `vmlinuz-6.12.117...`.
pub fn cached(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let prefix = format!("vmlinuz-{name}");
    dirs.iter().find_map(|dir| {
        let mut found: Vec<(crate::kver::KernelVersion, PathBuf)> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                let rest = file.strip_prefix(&prefix)?;
                if rest.starts_with(|c: char| c.is_ascii_digit()) {
                    return None;
                }
                let release = file.strip_prefix("vmlinuz-")?;
                Some((crate::kver::KernelVersion::from_release(release)?, e.path()))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, path)| path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_name_is_the_newest_cached_kernel_of_that_version() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "vmlinuz-6.1.0-57-cloud-amd64",
            "vmlinuz-6.12.9+deb12-cloud-amd64",
            "vmlinuz-6.12.117+deb12-cloud-amd64",
            "config-7.2.13+deb14-cloud-amd64",
        ] {
            std::fs::write(dir.path().join(f), b"").unwrap();
        }
        let dirs = [PathBuf::from("/nonexistent"), dir.path().to_path_buf()];
        let name = |n: &str| cached(n, &dirs).map(|p| p.file_name().unwrap().to_owned());
        assert_eq!(name("6.1").unwrap(), "vmlinuz-6.1.0-57-cloud-amd64");
        assert_eq!(name("6.12").unwrap(), "vmlinuz-6.12.117+deb12-cloud-amd64");
        assert_eq!(name("7.2"), None);
    }

    #[test]
    fn a_boot_header_is_a_kernel() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut bytes = vec![0u8; 0x300];
        bytes[0x202..0x206].copy_from_slice(b"HdrS");
        f.write_all(&bytes).unwrap();
        check(f.path()).unwrap();
    }

    #[test]
    fn anything_else_is_not() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"#!/bin/sh\necho not a kernel\n").unwrap();
        let err = check(f.path()).unwrap_err().to_string();
        assert!(err.contains("is not a Linux kernel image"), "{err}");
        assert!(check(Path::new("/nonexistent/bzImage")).is_err());
    }
}
