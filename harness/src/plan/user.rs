//! Steps about the user namespace: what a case may ask a process to do.
//! Every one is self-contained: it forks, creates the nested user namespaces
//! it needs in its children, and reports what it saw.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{MapLine, Setgroups, MAX_MAP_LINES};
use crate::kind::NsType;

/// Who writes the maps of the nested namespace: a process forked from the
/// step's, with these ids (set with setresgid/setresuid in the step's
/// namespace) and, with `drop_caps`, an empty effective and permitted set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Writer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop_caps: bool,
    /// With `drop_caps`, the capabilities to keep, such as `CAP_SETFCAP`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
}

/// One write to a file of the nested process, in order. `caller` in a line
/// is the writer's effective uid (gid) in its own namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MapWrite {
    Setgroups(Setgroups),
    UidMap(Vec<MapLine>),
    GidMap(Vec<MapLine>),
    /// `n` lines `i i 1` for i in 0..n, to uid_map.
    UidMapIdentity(u32),
    /// `n` lines `i i 1` for i in 0..n, to gid_map.
    GidMapIdentity(u32),
}

impl MapWrite {
    /// The file under `/proc/<pid>/` written.
    pub fn file(&self) -> &'static str {
        match self {
            MapWrite::Setgroups(_) => "setgroups",
            MapWrite::UidMap(_) | MapWrite::UidMapIdentity(_) => "uid_map",
            MapWrite::GidMap(_) | MapWrite::GidMapIdentity(_) => "gid_map",
        }
    }
}

/// The `write_maps` step: a child unshares a user namespace, the writer
/// writes its files in order, each write's result is recorded, and the
/// child reports what it is then (ids, maps, capabilities, and the maps of
/// its parent as read from inside).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteMaps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<Writer>,
    pub writes: Vec<MapWrite>,
    /// After reporting, the child executes the probe again, which reports
    /// its capabilities after execve(2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exec: bool,
}

/// The calls `unshare_flags` may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    #[default]
    Unshare,
    Clone,
}

/// The `unshare_flags` step: a forked child makes one call with these flags
/// (`user`, `fs`, `files`, `sysvsem`, `newns`...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnshareFlags {
    pub flags: Vec<String>,
    #[serde(default)]
    pub call: Call,
}

/// Where `setns_to` points: the user namespace the step runs in (an
/// ancestor of the child's new one), the child's own, or that of a sibling
/// (a second child of the step, in a new user namespace of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SetnsTarget {
    Parent,
    Own,
    Sibling,
}

/// The `nest` step: a forked child creates user namespaces one inside the
/// other (mapping itself to 0 in each) until the kernel refuses, or `max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nest {
    pub max: u32,
}

/// The argument that makes the probe print its own `/proc/self/status` and
/// exit: what the child of `write_maps` executes with `exec`.
pub const SELF_STATUS_ARG: &str = "--self-status";

/// The most levels `nest` may try (the kernel allows 32 in all).
pub const MAX_NEST: u32 = 64;

/// A step about the user namespace, written `{"user": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UserStep {
    WriteMaps(WriteMaps),
    Nest(Nest),
    /// A forked child starts a second thread, then calls
    /// unshare(CLONE_NEWUSER); the step fails with that call's errno.
    UnshareThreaded(super::Plain),
    UnshareFlags(UnshareFlags),
    /// A forked child unshares a user namespace, then calls setns(2) to the
    /// target; the step fails with that call's errno.
    SetnsTo(SetnsTarget),
    /// userns03 as LTP runs it: two sibling children each unshare a user
    /// namespace; the step maps `first` and `second` (inside) to its own
    /// uid and gid (outside) in them; then each map is read by its own
    /// process, by the sibling and by the step: the outside ids are those of
    /// the reader's namespace (or of the parent, for a reader inside).
    SiblingMaps(SiblingMaps),
}

/// The inside ids of the two siblings of `sibling_maps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiblingMaps {
    pub first: u32,
    pub second: u32,
}

/// The flag names `unshare_flags` knows, with their values.
pub const FLAG_NAMES: [(&str, i32); 7] = [
    ("user", libc::CLONE_NEWUSER),
    ("fs", libc::CLONE_FS),
    ("files", libc::CLONE_FILES),
    ("sysvsem", libc::CLONE_SYSVSEM),
    ("newns", libc::CLONE_NEWNS),
    ("newuts", libc::CLONE_NEWUTS),
    ("thread", libc::CLONE_THREAD),
];

/// The bits of flag names; `None` for a name not in [`FLAG_NAMES`].
pub fn flag_bits(names: &[String]) -> Option<i32> {
    names.iter().try_fold(0, |acc, n| {
        FLAG_NAMES
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, bit)| acc | bit)
    })
}

impl UserStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            UserStep::WriteMaps(_) => "write_maps",
            UserStep::Nest(_) => "nest",
            UserStep::UnshareThreaded(_) => "unshare_threaded",
            UserStep::UnshareFlags(_) => "unshare_flags",
            UserStep::SetnsTo(_) => "setns_to",
            UserStep::SiblingMaps(_) => "sibling_maps",
        }
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise. None does: each one changes only
    /// children it forks for itself.
    pub fn guarded_by(&self) -> Option<NsType> {
        None
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            UserStep::WriteMaps(w) => check_writes(w),
            UserStep::Nest(n) if n.max == 0 || n.max > MAX_NEST => {
                Err(format!("nest: max must be 1..={MAX_NEST}"))
            }
            UserStep::UnshareFlags(u) if flag_bits(&u.flags).is_none() => Err(format!(
                "unshare_flags: unknown flag in {:?}; known: {:?}",
                u.flags,
                FLAG_NAMES.map(|(n, _)| n)
            )),
            UserStep::UnshareFlags(u)
                if u.call == Call::Clone && u.flags.iter().any(|f| f == "thread") =>
            {
                Err("unshare_flags: clone with `thread` would share our memory".into())
            }
            _ => Ok(()),
        }
    }
}

fn check_writes(w: &WriteMaps) -> Result<(), String> {
    if let Some(writer) = &w.writer {
        if let Some(bad) = writer
            .keep
            .iter()
            .find(|c| c.parse::<caps::Capability>().is_err())
        {
            return Err(format!("write_maps: unknown capability {bad}"));
        }
    }
    if w.writes.is_empty() {
        return Err("write_maps: no writes".into());
    }
    for write in &w.writes {
        let n = match write {
            MapWrite::UidMap(lines) | MapWrite::GidMap(lines) => lines.len(),
            MapWrite::UidMapIdentity(n) | MapWrite::GidMapIdentity(n) => *n as usize,
            MapWrite::Setgroups(_) => 1,
        };
        if n == 0 || n > MAX_MAP_LINES + 1 {
            return Err(format!(
                "write_maps: {} takes 1..={} lines, not {n}",
                write.file(),
                MAX_MAP_LINES + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn step(json: &str) -> UserStep {
        serde_json::from_str(json).unwrap()
    }

    #[rstest]
    #[case(
        r#"{"write_maps": {"writes": [{"setgroups": "deny"}, {"uid_map": [[0, "caller", 1]]}]}}"#,
        "write_maps"
    )]
    #[case(r#"{"nest": {"max": 40}}"#, "nest")]
    #[case(r#"{"unshare_threaded": {}}"#, "unshare_threaded")]
    #[case(r#"{"unshare_flags": {"flags": ["user", "fs"]}}"#, "unshare_flags")]
    #[case(r#"{"setns_to": "parent"}"#, "setns_to")]
    #[case(r#"{"setns_to": "sibling"}"#, "setns_to")]
    fn reads_steps(#[case] json: &str, #[case] name: &str) {
        let s = step(json);
        assert_eq!(s.name(), name);
        assert_eq!(s.check(), Ok(()));
        assert_eq!(s.guarded_by(), None);
    }

    #[rstest]
    #[case(r#"{"write_maps": {"writes": []}}"#)]
    #[case(r#"{"write_maps": {"writes": [{"uid_map_identity": 342}]}}"#)]
    #[case(r#"{"nest": {"max": 0}}"#)]
    #[case(r#"{"nest": {"max": 65}}"#)]
    #[case(r#"{"unshare_flags": {"flags": ["user", "bogus"]}}"#)]
    #[case(r#"{"unshare_flags": {"flags": ["thread"], "call": "clone"}}"#)]
    fn refuses_absurd_arguments(#[case] json: &str) {
        assert!(step(json).check().is_err());
    }

    #[test]
    fn adds_flag_bits() {
        let names = ["user".to_string(), "fs".to_string()];
        assert_eq!(
            flag_bits(&names),
            Some(libc::CLONE_NEWUSER | libc::CLONE_FS)
        );
    }
}
