//! Steps about nsfs and the namespace syscalls themselves (ioctl_ns, setns,
//! unshare, clone errors): what a case may ask a process to do.
//!
//! Every step here either only reads (the ioctls) or does what it does in a
//! forked child that ends with the step, so none needs a guard: whatever a
//! child joins or creates dies with it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

/// The ioctl_ns(2) requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NsRequest {
    #[serde(rename = "NS_GET_USERNS")]
    GetUserns,
    #[serde(rename = "NS_GET_PARENT")]
    GetParent,
    #[serde(rename = "NS_GET_NSTYPE")]
    GetNstype,
    #[serde(rename = "NS_GET_OWNER_UID")]
    GetOwnerUid,
    /// A 64-bit id unique to the namespace for the life of the system (6.18).
    #[serde(rename = "NS_GET_ID")]
    GetId,
}

/// `ioctl(open(path), request)`. A `path` starting `/proc/supervisor/`
/// names the probe's supervisor (a process outside every namespace the
/// trial made). With `unshare`, a forked child first unshares those types
/// and then does the ioctl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IoctlStep {
    pub path: String,
    pub request: NsRequest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unshare: Vec<NsType>,
}

/// How a forked child gives up privilege before the syscall under test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropPrivilege {
    /// Clear the effective, permitted, inheritable and ambient capabilities.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub caps: bool,
    /// setresuid(2) to this uid (which must be mapped), losing every
    /// capability with root's uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// First unshare a user namespace and write no maps, so that the
    /// caller's ids are unmapped in the namespace it is in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unmapped_user: bool,
}

/// `setns(fd, nstype)` in a forked child. Without `path`, `fd` is a
/// descriptor number that is not open. A `nstype` of `null` passes 0;
/// `nstype_raw` passes that number instead (such as -1). With `unshare`,
/// the child opens `path`, then unshares those types, then calls setns:
/// back into the namespace it left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetnsStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nstype: Option<NsType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nstype_raw: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unshare: Vec<NsType>,
    #[serde(default)]
    pub drop: DropPrivilege,
}

/// A target child unshares `types` (and sets `hostname` if `uts` is one);
/// a joiner child calls `setns(pidfd of target, flags of types)` and reports
/// which of the target's namespaces it is in afterwards. With `reaped`, the
/// target has exited and been reaped before the joiner calls setns. With
/// `no_flags`, the joiner passes 0 as the flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetnsPidfdStep {
    pub types: Vec<NsType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reaped: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_flags: bool,
}

/// The syscall that creates namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CreateCall {
    #[default]
    Unshare,
    Clone,
    Clone3,
}

/// Other flag names a case may pass besides the namespace types.
pub const OTHER_FLAGS: [(&str, u64); 6] = [
    ("sysvsem", libc::CLONE_SYSVSEM as u64),
    ("fs", libc::CLONE_FS as u64),
    ("files", libc::CLONE_FILES as u64),
    ("thread", libc::CLONE_THREAD as u64),
    ("sighand", libc::CLONE_SIGHAND as u64),
    ("parent", libc::CLONE_PARENT as u64),
];

/// `unshare(flags)`, `clone(flags)` or `clone3(flags)` in a forked child,
/// after it has dropped what `drop` says. A clone that succeeds makes a
/// process that exits at once. `raw` adds bits by number (invalid ones).
/// `set_tid` (clone3 only) asks for these PIDs, innermost namespace first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStep {
    #[serde(default)]
    pub call: CreateCall,
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_tid: Vec<i32>,
    #[serde(default)]
    pub drop: DropPrivilege,
}

impl CreateStep {
    /// The flags, by name and number.
    pub fn bits(&self) -> Result<u64, String> {
        let mut bits = self.raw.unwrap_or(0);
        for name in &self.flags {
            let kind = crate::kind::KINDS.iter().find(|k| k.name == name);
            let other = OTHER_FLAGS.iter().find(|(n, _)| n == name);
            bits |= match (kind, other) {
                (Some(k), _) => k.flag,
                (None, Some((_, f))) => *f,
                (None, None) => return Err(format!("unknown flag `{name}`")),
            };
        }
        Ok(bits)
    }
}

/// In a forked child: unshare the type (`pid` or `time`), then follow the
/// `<type>_for_children` link through a grandchild and a setns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForChildrenStep {
    #[serde(rename = "type")]
    pub ty: NsType,
}

/// `name_to_handle_at(open(path), "", AT_EMPTY_PATH)` (nsfs file handles,
/// 6.18), then `open_by_handle_at(FD_NSFS_ROOT, handle)` here; with
/// `unshare`, also in a forked child that first unshares those types (a
/// namespace out of its scope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandleStep {
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unshare: Vec<NsType>,
}

/// A step about nsfs and the namespace syscalls themselves, written
/// `{"nsfs": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NsfsStep {
    Ioctl(IoctlStep),
    Setns(SetnsStep),
    SetnsPidfd(SetnsPidfdStep),
    Create(CreateStep),
    ForChildren(ForChildrenStep),
    /// A file handle of a namespace, and the namespace it reopens.
    Handle(HandleStep),
    /// NS_GET_ID of every `/proc/self/ns/*` link: `ids` by link, `count`
    /// of the types and `distinct` ids among them.
    Ids(crate::plan::Plain),
    /// listns(2) (6.19) from a forked child in a user and UTS namespace of
    /// its own, beside a sibling's: filters by type and owner, pagination,
    /// and what it may not list.
    Listns(crate::plan::Plain),
}

/// Flags that would share the stack, wait on it, or hand the new process to
/// another parent: never for clone here.
const UNSAFE_CLONE: u64 =
    (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_SETTLS | libc::CLONE_PARENT) as u64;

impl NsfsStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            NsfsStep::Ioctl(_) => "ioctl",
            NsfsStep::Setns(_) => "setns",
            NsfsStep::SetnsPidfd(_) => "setns_pidfd",
            NsfsStep::Create(_) => "create",
            NsfsStep::ForChildren(_) => "for_children",
            NsfsStep::Handle(_) => "handle",
            NsfsStep::Ids(_) => "ids",
            NsfsStep::Listns(_) => "listns",
        }
    }

    /// None: these steps only read, or act in a child that ends with them.
    pub fn guarded_by(&self) -> Option<NsType> {
        None
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            NsfsStep::Ioctl(s) => check_path(&s.path),
            NsfsStep::Handle(s) => check_path(&s.path),
            NsfsStep::Ids(_) | NsfsStep::Listns(_) => Ok(()),
            NsfsStep::Setns(s) => {
                if s.nstype.is_some() && s.nstype_raw.is_some() {
                    return Err("give nstype or nstype_raw, not both".into());
                }
                s.path.as_deref().map_or(Ok(()), check_path)
            }
            NsfsStep::SetnsPidfd(s) => check_pidfd(s),
            NsfsStep::Create(s) => {
                let bits = s.bits()?;
                if s.call != CreateCall::Unshare && bits & UNSAFE_CLONE != 0 {
                    return Err(
                        "clone flags that share memory, TLS or the parent are refused".into(),
                    );
                }
                if s.call == CreateCall::Clone && bits & crate::kind::CLONE_NEWTIME != 0 {
                    return Err("clone(2) cannot take CLONE_NEWTIME: use clone3".into());
                }
                check_set_tid(s)
            }
            NsfsStep::ForChildren(s) => match s.ty {
                NsType::Pid | NsType::Time => Ok(()),
                t => Err(format!("{t} has no _for_children link: use pid or time")),
            },
        }
    }
}

fn check_path(path: &str) -> Result<(), String> {
    if path.len() > 256 || !path.starts_with('/') {
        return Err(format!(
            "`{path}` is not an absolute path of at most 256 bytes"
        ));
    }
    Ok(())
}

fn check_set_tid(s: &CreateStep) -> Result<(), String> {
    if s.set_tid.is_empty() {
        return Ok(());
    }
    if s.call != CreateCall::Clone3 || s.set_tid.len() > 32 {
        return Err("set_tid: clone3 only, at most 32 PIDs".into());
    }
    Ok(())
}

fn check_pidfd(s: &SetnsPidfdStep) -> Result<(), String> {
    let allowed = [NsType::Uts, NsType::Ipc, NsType::Net, NsType::Cgroup];
    if s.types.is_empty() || s.types.iter().any(|t| !allowed.contains(t)) {
        return Err("types must be some of uts, ipc, net, cgroup".into());
    }
    if s.hostname.as_ref().is_some_and(|h| h.len() > 64) {
        return Err("hostname over 64 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        r#"{"ioctl": {"path": "/proc/self/ns/uts", "request": "NS_GET_NSTYPE"}}"#,
        "ioctl"
    )]
    #[case(r#"{"setns": {"nstype": "ipc"}}"#, "setns")]
    #[case(
        r#"{"setns_pidfd": {"types": ["uts"], "reaped": true}}"#,
        "setns_pidfd"
    )]
    #[case(
        r#"{"create": {"call": "clone3", "flags": ["uts"], "drop": {"caps": true}}}"#,
        "create"
    )]
    #[case(r#"{"for_children": {"type": "time"}}"#, "for_children")]
    #[case(
        r#"{"handle": {"path": "/proc/self/ns/net", "unshare": ["user", "net"]}}"#,
        "handle"
    )]
    #[case(r#"{"ids": {}}"#, "ids")]
    #[case(r#"{"listns": {}}"#, "listns")]
    fn parses(#[case] text: &str, #[case] name: &str) {
        let step: NsfsStep = serde_json::from_str(text).unwrap();
        assert_eq!(step.name(), name);
        assert_eq!(step.check(), Ok(()));
    }

    #[rstest]
    #[case(r#"{"ioctl": {"path": "proc", "request": "NS_GET_ID"}}"#)]
    #[case(r#"{"handle": {"path": "self/ns/uts"}}"#)]
    #[case(r#"{"setns_pidfd": {"types": ["pid"]}}"#)]
    #[case(r#"{"create": {"call": "clone", "flags": ["uts"], "raw": 256}}"#)]
    #[case(r#"{"create": {"flags": ["nonsense"]}}"#)]
    #[case(r#"{"for_children": {"type": "uts"}}"#)]
    #[case(r#"{"create": {"call": "unshare", "flags": [], "set_tid": [5]}}"#)]
    #[case(r#"{"setns": {"nstype": "uts", "nstype_raw": -1}}"#)]
    fn refuses(#[case] text: &str) {
        let step: NsfsStep = serde_json::from_str(text).unwrap();
        assert!(step.check().is_err());
    }

    #[test]
    fn flag_bits() {
        let s = CreateStep {
            call: CreateCall::Clone,
            flags: vec!["ipc".into(), "sysvsem".into()],
            raw: None,
            set_tid: Vec::new(),
            drop: DropPrivilege::default(),
        };
        assert_eq!(
            s.bits(),
            Ok((libc::CLONE_NEWIPC | libc::CLONE_SYSVSEM) as u64)
        );
    }
}
