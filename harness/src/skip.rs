//! Why a trial cannot run here: the typed reason of a `skip` verdict, and
//! the class of requirement it names (privilege, kernel feature, door).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;
use crate::kver::KernelVersion;
use crate::plan::Door;

/// What kind of requirement a skip names, recorded in the report beside
/// the reason's text so that tools need not read the text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SkipClass {
    /// The run lacks a privilege the case needs.
    Privilege,
    /// The kernel lacks a namespace type, a syscall or a feature.
    Feature,
    /// The door cannot carry out the case, or cannot run here.
    Door,
}

/// Why a trial is a `skip`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SkipReason {
    /// The case needs CAP_SYS_ADMIN in the initial user namespace.
    #[error("needs CAP_SYS_ADMIN in the initial user namespace (running as uid {uid})")]
    NeedsRoot { uid: u32 },
    /// The case needs a newer kernel than this one.
    #[error("needs Linux {need} or later; this is {have}")]
    KernelTooOld { need: KernelVersion, have: String },
    /// The kernel has no namespaces of a type the case creates.
    #[error("the kernel has no {ty} namespaces ({} is off)", ty.kind().kconfig)]
    NoNamespace { ty: NsType },
    /// A feature the case requires was not found.
    #[error("the kernel lacks the feature {0}")]
    NoFeature(String),
    /// A sysctl a step writes does not exist in this kernel (no file under
    /// /proc/sys: the option or protocol is not built in).
    #[error("the kernel has no sysctl {0} (no file under /proc/sys)")]
    NoSysctl(String),
    /// A host setting the case needs is not set here.
    #[error("needs the setting {0}, which this host does not have")]
    NeedsSetting(String),
    /// The suite's starting point is not the one the case counts from.
    #[error("{0}")]
    StartingPoint(&'static str),
    /// A host setting restricts the user namespaces the case needs.
    #[error("{0}; the case needs a user namespace")]
    UsernsRestricted(String),
    /// Running unprivileged where ordinary users may not make user namespaces.
    #[error("running unprivileged, and ordinary users may not create user namespaces here")]
    NoUnprivilegedUserns,
    /// The door needs a kernel feature that was not found.
    #[error("the kernel lacks {feature} (needed by the {door} door)")]
    DoorUnavailable { door: Door, feature: &'static str },
    /// A runtime door's program is missing or cannot run here, or the door
    /// does to its namespaces what the case must be spared.
    #[error("{reason}")]
    RuntimeDoor { door: Door, reason: String },
    /// The door cannot express the case (the plan's own explanation).
    #[error("{0}")]
    Inexpressible(String),
    /// A syscall of the door or a step is not implemented by this kernel.
    #[error("{what} failed with {errno}")]
    Unsupported { what: String, errno: String },
}

impl SkipReason {
    /// The class of requirement this reason names.
    pub fn class(&self) -> SkipClass {
        match self {
            SkipReason::NeedsRoot { .. }
            | SkipReason::NoUnprivilegedUserns
            | SkipReason::UsernsRestricted(_) => SkipClass::Privilege,
            SkipReason::KernelTooOld { .. }
            | SkipReason::NoNamespace { .. }
            | SkipReason::NoFeature(_)
            | SkipReason::NoSysctl(_)
            | SkipReason::NeedsSetting(_)
            | SkipReason::StartingPoint(_)
            | SkipReason::Unsupported { .. } => SkipClass::Feature,
            SkipReason::DoorUnavailable { .. }
            | SkipReason::RuntimeDoor { .. }
            | SkipReason::Inexpressible(_) => SkipClass::Door,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_render_and_classify() {
        let r = SkipReason::NeedsRoot { uid: 65534 };
        assert_eq!(r.class(), SkipClass::Privilege);
        assert!(r.to_string().contains("uid 65534"), "{r}");
        let r = SkipReason::NoNamespace { ty: NsType::Time };
        assert_eq!(r.class(), SkipClass::Feature);
        assert!(r.to_string().contains("CONFIG_TIME_NS"), "{r}");
        let r = SkipReason::DoorUnavailable {
            door: Door::Clone3,
            feature: "clone3",
        };
        assert_eq!(r.class(), SkipClass::Door);
    }
}
