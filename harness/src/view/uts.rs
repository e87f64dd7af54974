//! The `uts` section: the host and domain names `uname(2)` reports.

use serde::{Deserialize, Serialize};

/// The `uts` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtsView {
    pub hostname: String,
    pub domainname: String,
}

/// Observe the `uts` section of the calling process; empty names if `uname` fails.
pub fn observe() -> UtsView {
    match nix::sys::utsname::uname() {
        Ok(names) => UtsView {
            hostname: names.nodename().to_string_lossy().into_owned(),
            domainname: names.domainname().to_string_lossy().into_owned(),
        },
        Err(_) => UtsView::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_matches_proc() {
        let proc = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        assert_eq!(observe().hostname, proc.trim_end());
    }

    #[test]
    fn round_trips_through_json() {
        let view = UtsView {
            hostname: "a".into(),
            domainname: "(none)".into(),
        };
        let json = serde_json::to_string(&view).unwrap();
        assert_eq!(json, r#"{"hostname":"a","domainname":"(none)"}"#);
        assert_eq!(serde_json::from_str::<UtsView>(&json).unwrap(), view);
    }
}
