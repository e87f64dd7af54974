//! The isolation guard: a step that would change the host runs only in a
//! namespace that really is new.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use nix::errno::Errno;

use crate::kind::NsType;
use crate::view::ns::{self, NsId};

/// The namespaces the probe started in.
#[derive(Debug, Clone, Default)]
pub struct Origin(BTreeMap<String, NsId>);

impl Origin {
    /// Record the calling process's namespaces.
    pub fn here() -> Origin {
        Origin(ns::observe())
    }

    /// The namespaces a probe outside recorded where it started, for the
    /// probe a runtime started inside a container.
    pub fn from_ids(ids: BTreeMap<String, NsId>) -> Origin {
        Origin(ids)
    }

    /// Check that the caller's namespace of `ty` (or the one named `link`,
    /// such as `time_for_children`) is not the one the probe started in.
    pub fn check_link(&self, ty: NsType, link: &str) -> Result<(), String> {
        let now = ns::id_of("self", link)
            .ok_or_else(|| format!("namespace not isolated: /proc/self/ns/{link} is unreadable"))?;
        match self.0.get(ty.name()) {
            Some(start) if *start == now => Err(format!(
                "namespace not isolated: the {ty} namespace is still {}:{}, the one the probe started in",
                now.dev, now.ino
            )),
            Some(_) => Ok(()),
            None => Err(format!("namespace not isolated: the starting {ty} namespace is unknown")),
        }
    }

    /// Check that process `pid`'s namespace of `ty` is not the one the probe
    /// started in (before writing, say, the maps of its user namespace).
    pub fn check_process(&self, ty: NsType, pid: i32) -> Result<(), String> {
        let now = ns::id_of(&pid.to_string(), ty.name())
            .ok_or_else(|| format!("namespace not isolated: /proc/{pid}/ns/{ty} is unreadable"))?;
        match self.0.get(ty.name()) {
            Some(start) if *start == now => Err(format!(
                "namespace not isolated: process {pid} is still in the {ty} namespace {}:{} the probe started in",
                now.dev, now.ino
            )),
            Some(_) => Ok(()),
            None => Err(format!(
                "namespace not isolated: the starting {ty} namespace is unknown"
            )),
        }
    }

    /// Check the caller's namespace of `ty`.
    pub fn check(&self, ty: NsType) -> Result<(), String> {
        self.check_link(ty, ty.name())
    }
}

/// The origin of this probe, kept for every process it forks.
static ORIGIN: OnceLock<Origin> = OnceLock::new();

/// What a guarded change returns when its namespace is not new. The probe
/// also says so on its standard error, which the harness reads: whichever
/// process trips the guard, the trial fails with "namespace not isolated".
pub const NOT_ISOLATED: Errno = Errno::ENOTRECOVERABLE;

/// Remember where the probe started, for [`ensure`].
pub fn remember(origin: &Origin) {
    let _ = ORIGIN.set(origin.clone());
}

/// Check, right before a change that would alter the host if the caller's
/// namespace of `ty` were the one the probe started in, that it is not.
/// Every process of the probe calls this before every such change: the
/// steps' own helpers too, whatever namespaces they made or joined.
/// Fails closed when the origin is unknown.
pub fn ensure(ty: NsType) -> Result<(), Errno> {
    let verdict = match ORIGIN.get() {
        Some(origin) => origin.check(ty),
        None => Err(format!(
            "namespace not isolated: the {ty} namespace the probe started in is unknown"
        )),
    };
    verdict.map_err(|message| {
        eprintln!("nsconform-probe: {message} (pid {})", std::process::id());
        NOT_ISOLATED
    })
}
