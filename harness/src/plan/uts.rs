//! Steps about the uts namespace: what a case may ask a process to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;
use crate::plan::Plain;

/// A forked child keeps a descriptor of its UTS namespace, unshares a new
/// one, sets `hostname` (and `domainname`) there, and setns's back with the
/// descriptor. With `outer_hostname`, it then sets that in the namespace it
/// came back to (which must be new to the trial) and enters its own new one
/// again, to see that the change stayed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetnsBackStep {
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outer_hostname: Option<String>,
}

/// A forked child unshares a user namespace alone, so that its UTS
/// namespace (the trial's) is owned by an ancestor of its user namespace,
/// and tries to set `hostname` and the domain name there; then it unshares
/// a UTS namespace of its own and sets `hostname` in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AncestorOwnedStep {
    pub hostname: String,
}

/// A step about the uts namespace, written `{"uts": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UtsStep {
    /// Record the hostname and domain name as they are at this point.
    Read(Plain),
    SetnsBack(SetnsBackStep),
    AncestorOwned(AncestorOwnedStep),
}

impl UtsStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            UtsStep::Read(_) => "read",
            UtsStep::SetnsBack(_) => "setns_back",
            UtsStep::AncestorOwned(_) => "ancestor_owned",
        }
    }

    /// `setns_back` with `outer_hostname` changes the process's own UTS
    /// namespace; otherwise the steps change nothing outside a namespace
    /// their own child made.
    pub fn guarded_by(&self) -> Option<NsType> {
        match self {
            UtsStep::SetnsBack(s) if s.outer_hostname.is_some() => Some(NsType::Uts),
            // The attempts land in the process's own UTS namespace if the
            // kernel lets them through.
            UtsStep::AncestorOwned(_) => Some(NsType::Uts),
            _ => None,
        }
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            UtsStep::Read(_) => Ok(()),
            UtsStep::SetnsBack(s)
                if [
                    Some(&s.hostname),
                    s.domainname.as_ref(),
                    s.outer_hostname.as_ref(),
                ]
                .iter()
                .flatten()
                .any(|n| n.len() > 64) =>
            {
                Err("names over 64 bytes".into())
            }
            UtsStep::SetnsBack(_) => Ok(()),
            UtsStep::AncestorOwned(s) if s.hostname.len() > 64 => Err("names over 64 bytes".into()),
            UtsStep::AncestorOwned(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let s: UtsStep = serde_json::from_str(r#"{"setns_back": {"hostname": "x"}}"#).unwrap();
        assert_eq!((s.name(), s.check()), ("setns_back", Ok(())));
        let long = format!(r#"{{"setns_back": {{"hostname": "{}"}}}}"#, "h".repeat(65));
        let s: UtsStep = serde_json::from_str(&long).unwrap();
        assert!(s.check().is_err());
        let s: UtsStep = serde_json::from_str(r#"{"read": {}}"#).unwrap();
        assert_eq!(s.name(), "read");
        let s: UtsStep = serde_json::from_str(r#"{"ancestor_owned": {"hostname": "x"}}"#).unwrap();
        assert_eq!(
            (s.name(), s.guarded_by()),
            ("ancestor_owned", Some(NsType::Uts))
        );
    }
}
