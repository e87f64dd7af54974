//! The namespaces a plan creates, and the settings of each: uid and gid maps,
//! how a new mount table is prepared, the clock offsets of a time namespace.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

/// Settings of a namespace type that takes none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plain {}

/// The namespaces to create, each with its settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Namespaces {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnt: Option<MntSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<Plain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeSettings>,
}

impl Namespaces {
    /// The types named, in the order of the kind table (user first).
    pub fn types(&self) -> Vec<NsType> {
        NsType::all().filter(|t| self.has(*t)).collect()
    }

    pub fn has(&self, ty: NsType) -> bool {
        match ty {
            NsType::User => self.user.is_some(),
            NsType::Pid => self.pid.is_some(),
            NsType::Mnt => self.mnt.is_some(),
            NsType::Net => self.net.is_some(),
            NsType::Ipc => self.ipc.is_some(),
            NsType::Uts => self.uts.is_some(),
            NsType::Cgroup => self.cgroup.is_some(),
            NsType::Time => self.time.is_some(),
        }
    }

    /// The `CLONE_NEW*` flags of all the types named.
    pub fn flags(&self) -> u64 {
        self.types()
            .iter()
            .map(|t| t.kind().flag)
            .fold(0, |a, f| a | f)
    }

    /// Whether the namespaces apply only to children of the process that
    /// creates them with unshare or joins them with setns.
    pub fn needs_child(&self) -> bool {
        self.pid.is_some() || self.time.is_some()
    }
}

/// The id on the outside of a map line: a number, or `"caller"` for the
/// effective id of the process that creates the namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Outside {
    Id(u32),
    Caller(CallerTag),
}

/// The word `caller`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallerTag {
    Caller,
}

/// One line of a uid or gid map: inside id, outside id, count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MapLine(pub u32, pub Outside, pub u32);

/// Render map lines in the kernel's format, `caller` resolved to `caller_id`.
pub fn render_map(lines: &[MapLine], caller_id: u32) -> String {
    lines
        .iter()
        .map(|MapLine(inside, outside, count)| {
            let outside = match outside {
                Outside::Id(id) => *id,
                Outside::Caller(_) => caller_id,
            };
            format!("{inside} {outside} {count}\n")
        })
        .collect()
}

/// What to write to `/proc/<pid>/setgroups` before the gid map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Setgroups {
    Allow,
    Deny,
}

/// Settings of a new user namespace. Without maps, inside id 0 maps to the
/// caller's effective uid and gid, one id each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_map: Option<Vec<MapLine>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid_map: Option<Vec<MapLine>>,
    /// Default: `deny` when the writer lacks CAP_SETGID over the parent
    /// namespace, left alone otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setgroups: Option<Setgroups>,
    /// Leave the maps unwritten (the process sees the overflow ids).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unmapped: bool,
}

/// How the mount table of a new mount namespace is prepared before the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Prepare {
    /// Make every mount private (`mount --make-rprivate /`), as unshare(1)
    /// does: nothing done inside can propagate out.
    #[default]
    Private,
    /// Keep the propagation copied from the creator. Only a case that mounts
    /// nowhere but on mounts it made itself may choose this.
    Keep,
}

/// Settings of a new mount namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MntSettings {
    #[serde(default)]
    pub prepare: Prepare,
}

/// A clock offset: seconds and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Offset(pub i64, pub i64);

/// Settings of a new time namespace: the offsets written before anyone enters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monotonic: Option<Offset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boottime: Option<Offset>,
}

impl TimeSettings {
    /// The text written to `timens_offsets` for these settings.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for (clock, offset) in [("monotonic", self.monotonic), ("boottime", self.boottime)] {
            if let Some(o) = offset {
                text.push_str(&format!("{clock} {} {}\n", o.0, o.1));
            }
        }
        text
    }

    pub fn has_offsets(&self) -> bool {
        self.monotonic.is_some() || self.boottime.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(serde_json::json!({"uts": {}}), libc::CLONE_NEWUTS as u64, false)]
    #[case(serde_json::json!({"pid": {}, "net": {}}), (libc::CLONE_NEWPID | libc::CLONE_NEWNET) as u64, true)]
    #[case(serde_json::json!({"time": {}}), 0x80, true)]
    #[case(serde_json::json!({"user": {"uid_map": [[0, "caller", 1]]}}), libc::CLONE_NEWUSER as u64, false)]
    fn flags_and_children(#[case] ns: serde_json::Value, #[case] flags: u64, #[case] child: bool) {
        let ns: Namespaces = serde_json::from_value(ns).expect("namespaces");
        assert_eq!(ns.flags(), flags);
        assert_eq!(ns.needs_child(), child);
    }

    #[test]
    fn types_come_user_first() {
        let ns: Namespaces =
            serde_json::from_value(serde_json::json!({"uts": {}, "user": {}, "pid": {}})).unwrap();
        assert_eq!(ns.types(), vec![NsType::User, NsType::Pid, NsType::Uts]);
    }

    #[rstest]
    #[case(r#"{"bogus": {}}"#)]
    #[case(r#"{"uts": {"x": 1}}"#)]
    #[case(r#"{"user": {"uid_map": [[0, "someone", 1]]}}"#)]
    #[case(r#"{"time": {"monotonic": "1 0"}}"#)]
    fn bad_namespaces_are_refused(#[case] text: &str) {
        assert!(serde_json::from_str::<Namespaces>(text).is_err());
    }
}
