//! Views: what one process sees, one section per namespace type plus `ns`.

pub mod cgroup;
pub mod ipc;
pub mod mnt;
pub mod net;
pub mod ns;
pub mod pid;
pub mod time;
pub mod user;
pub mod uts;

use serde::{Deserialize, Serialize};

/// What one process sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    pub pid: pid::PidView,
    pub uts: uts::UtsView,
    pub mnt: mnt::MntView,
    pub net: net::NetView,
    pub ipc: ipc::IpcView,
    pub user: user::UserView,
    pub cgroup: cgroup::CgroupView,
    pub time: time::TimeView,
    pub ns: ns::NsView,
}

/// Observe the calling process. Never panics: what cannot be read is left
/// empty or `null` in its section.
pub fn observe() -> View {
    View {
        pid: pid::observe(),
        uts: uts::observe(),
        mnt: mnt::observe(),
        net: net::observe(),
        ipc: ipc::observe(),
        user: user::observe(),
        cgroup: cgroup::observe(),
        time: time::observe(),
        ns: ns::observe(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTIONS: [&str; 9] = [
        "pid", "uts", "mnt", "net", "ipc", "user", "cgroup", "time", "ns",
    ];

    #[test]
    fn serializes_all_sections_in_order() {
        let json = serde_json::to_value(observe()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, SECTIONS);
    }

    #[test]
    fn round_trips_through_json() {
        let json = serde_json::to_string(&observe()).unwrap();
        let back: View = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}
