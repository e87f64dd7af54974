//! Steps about the mnt namespace: what a case may ask a process to do.
//!
//! Each is self-contained: it prepares what it needs below the sandbox
//! (`/tmp` inside the case's new mount namespace), makes any further mount
//! or user namespace in a forked child, and reports what each side saw.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;
use crate::plan::PropagationType;

/// A step about the mnt namespace, written `{"mnt": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MntStep {
    /// A child unshares a second mount namespace and compares its copy of
    /// the mount table with this one: mount points, filesystems, ids.
    CopyTable(Empty),
    /// Propagation between the case's mount namespace (`first`) and a second
    /// one a child unshares (`second`): a fresh tmpfs below the sandbox gets
    /// the propagation type, then each side mounts below it and reports
    /// whether it sees the other's mount, and whether it can bind it.
    Propagate(PropagateStep),
    /// A child unshares a user and a mount namespace together, so every
    /// mount it inherits is locked: it tries to unmount one and to clear the
    /// read-only flag of another, both prepared here first.
    Locked(Empty),
    /// A child in a second mount namespace calls pivot_root(2) into a new
    /// root and reports what it sees there.
    PivotRoot(PivotRootStep),
    /// An idmapped mount (open_tree, mount_setattr with MOUNT_ATTR_IDMAP,
    /// move_mount) of a fresh tmpfs, with a user namespace a child made
    /// with the given map: the owner of a file this process made, through
    /// the source and through the idmapped mount.
    Idmap(IdmapStep),
    /// mount_setattr(2) on a mount below the sandbox.
    Setattr(SetattrStep),
    /// Mount namespace iteration (6.12): NS_MNT_GET_INFO, NS_MNT_GET_PREV
    /// and NS_MNT_GET_NEXT between this namespace and a second one a child
    /// unshares, and from a third one in a user namespace of its own.
    NsIter(Empty),
    /// listmount(2) and statmount(2) with `mnt_ns_id` (6.11): this process
    /// lists the mounts of a second namespace a child unshares and mounts a
    /// tmpfs in, by the namespace's id.
    ListForeign(Empty),
}

/// Arguments of a step that takes none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Arguments of `propagate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PropagateStep {
    /// The type the subtree gets before the second namespace copies it. For
    /// `slave` the subtree is shared here and the second namespace makes its
    /// copy a slave.
    #[serde(rename = "type")]
    pub ty: PropagationType,
    /// The second namespace also gets a new user namespace (owned by this
    /// process's), so it is less privileged: shared mounts arrive as slaves.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub less_privileged: bool,
    /// Then each side unmounts its mount, one after the other, and the other
    /// side says whether the mount is still there (`sees_*_after_umount`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub umount: bool,
}

/// Arguments of `idmap`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdmapStep {
    /// One line of the idmapping's uid and gid map: `[inside, outside,
    /// count]`, the outside ids as seen by the process running the step.
    /// Through the mount, a file owned by `inside` shows as `outside`.
    pub map: [u32; 3],
}

/// What `pivot_root` pivots into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewRoot {
    /// A fresh tmpfs mounted on the new root directory.
    #[default]
    Mount,
    /// A plain directory, not a mount point (pivot_root gives EINVAL).
    Directory,
}

/// Arguments of `pivot_root`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PivotRootStep {
    #[serde(default)]
    pub new_root: NewRoot,
}

/// Arguments of `setattr`: attribute names are `rdonly`, `nosuid`, `nodev`,
/// `noexec`, `noatime`, `nodiratime`, `nosymfollow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetattrStep {
    /// A mount point below `/tmp`.
    pub target: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clear: Vec<String>,
    /// AT_RECURSIVE: the whole subtree.
    #[serde(default)]
    pub recursive: bool,
}

/// The attribute names `setattr` knows, with their MOUNT_ATTR_* bits.
pub const MOUNT_ATTRS: [(&str, u64); 7] = [
    ("rdonly", 0x01),
    ("nosuid", 0x02),
    ("nodev", 0x04),
    ("noexec", 0x08),
    ("noatime", 0x10),
    ("nodiratime", 0x80),
    ("nosymfollow", 0x0020_0000),
];

/// The MOUNT_ATTR_* bits of `names`, or the first unknown name.
pub fn mount_attr_bits(names: &[String]) -> Result<u64, String> {
    names.iter().try_fold(0, |acc, name| {
        MOUNT_ATTRS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bit)| acc | bit)
            .ok_or_else(|| format!("unknown mount attribute `{name}`"))
    })
}

impl MntStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            MntStep::CopyTable(_) => "copy_table",
            MntStep::Propagate(_) => "propagate",
            MntStep::Locked(_) => "locked",
            MntStep::PivotRoot(_) => "pivot_root",
            MntStep::Idmap(_) => "idmap",
            MntStep::Setattr(_) => "setattr",
            MntStep::NsIter(_) => "ns_iter",
            MntStep::ListForeign(_) => "list_foreign",
        }
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        Some(NsType::Mnt)
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            MntStep::Setattr(s) => {
                let path = std::path::Path::new(&s.target);
                if !path.starts_with("/tmp") || s.target.contains("/..") {
                    return Err(format!("setattr target `{}` is not below /tmp", s.target));
                }
                let set = mount_attr_bits(&s.set)?;
                let clear = mount_attr_bits(&s.clear)?;
                if set & clear != 0 {
                    return Err("setattr sets and clears the same attribute".into());
                }
                Ok(())
            }
            MntStep::Idmap(s) => {
                let [inside, outside, count] = s.map;
                let fits = |start: u32| start.checked_add(count).is_some();
                if count == 0 || count > 65536 || !fits(inside) || !fits(outside) {
                    return Err(format!("idmap map {:?} is not a valid map line", s.map));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::copy(r#"{"copy_table": {}}"#, "copy_table")]
    #[case::propagate(r#"{"propagate": {"type": "slave"}}"#, "propagate")]
    #[case::less(
        r#"{"propagate": {"type": "shared", "less_privileged": true}}"#,
        "propagate"
    )]
    #[case::umount(r#"{"propagate": {"type": "shared", "umount": true}}"#, "propagate")]
    #[case::locked(r#"{"locked": {}}"#, "locked")]
    #[case::pivot(r#"{"pivot_root": {}}"#, "pivot_root")]
    #[case::pivot_dir(r#"{"pivot_root": {"new_root": "directory"}}"#, "pivot_root")]
    #[case::idmap(r#"{"idmap": {"map": [0, 1000, 1]}}"#, "idmap")]
    #[case::setattr(r#"{"setattr": {"target": "/tmp/x", "set": ["rdonly"]}}"#, "setattr")]
    fn parses(#[case] text: &str, #[case] name: &str) {
        let step: MntStep = serde_json::from_str(text).unwrap();
        assert_eq!(step.name(), name);
        assert_eq!(step.guarded_by(), Some(NsType::Mnt));
        assert_eq!(step.check(), Ok(()));
    }

    #[rstest]
    #[case::outside(r#"{"setattr": {"target": "/proc", "set": ["rdonly"]}}"#)]
    #[case::dotdot(r#"{"setattr": {"target": "/tmp/../etc", "set": ["rdonly"]}}"#)]
    #[case::unknown(r#"{"setattr": {"target": "/tmp/x", "set": ["idmap"]}}"#)]
    #[case::both(r#"{"setattr": {"target": "/tmp/x", "set": ["rdonly"], "clear": ["rdonly"]}}"#)]
    #[case::idmap_empty(r#"{"idmap": {"map": [0, 1000, 0]}}"#)]
    #[case::idmap_wraps(r#"{"idmap": {"map": [4294967295, 0, 2]}}"#)]
    fn refuses(#[case] text: &str) {
        let step: MntStep = serde_json::from_str(text).unwrap();
        assert!(step.check().is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<MntStep>(r#"{"locked": {"x": 1}}"#).is_err());
    }
}
