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
use serde_json::{Map, Value};

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

/// One section of a view: a namespace type's, or `ns`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Pid,
    Uts,
    Mnt,
    Net,
    Ipc,
    User,
    Cgroup,
    Time,
    Ns,
}

impl Section {
    /// Every section, in the order of a view.
    pub const ALL: [Section; 9] = [
        Section::Pid,
        Section::Uts,
        Section::Mnt,
        Section::Net,
        Section::Ipc,
        Section::User,
        Section::Cgroup,
        Section::Time,
        Section::Ns,
    ];

    /// The key of the section in a view.
    pub fn name(self) -> &'static str {
        match self {
            Section::Pid => "pid",
            Section::Uts => "uts",
            Section::Mnt => "mnt",
            Section::Net => "net",
            Section::Ipc => "ipc",
            Section::User => "user",
            Section::Cgroup => "cgroup",
            Section::Time => "time",
            Section::Ns => "ns",
        }
    }

    /// The section whose key is `name`.
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Observe this section of the calling process's view.
    fn observe(self) -> Value {
        let value = match self {
            Section::Pid => serde_json::to_value(pid::observe()),
            Section::Uts => serde_json::to_value(uts::observe()),
            Section::Mnt => serde_json::to_value(mnt::observe()),
            Section::Net => serde_json::to_value(net::observe()),
            Section::Ipc => serde_json::to_value(ipc::observe()),
            Section::User => serde_json::to_value(user::observe()),
            Section::Cgroup => serde_json::to_value(cgroup::observe()),
            Section::Time => serde_json::to_value(time::observe()),
            Section::Ns => serde_json::to_value(ns::observe()),
        };
        value.unwrap_or(Value::Null)
    }
}

/// Observe the sections `only` names of the calling process's view (every
/// section when `only` is `None`), in the order of a view: what a fixture
/// judges is all a probe needs to read.
pub fn observe_sections(only: Option<&[Section]>) -> Map<String, Value> {
    observe_sections_with_ns(only, None)
}

/// [`observe_sections`], the `ns` section being `known` when given: the
/// calling process's links, read by it a moment before with nothing
/// between that changes its namespaces (the isolation guard's origin).
pub fn observe_sections_with_ns(
    only: Option<&[Section]>,
    known: Option<&ns::NsView>,
) -> Map<String, Value> {
    let wanted = |s: &Section| only.is_none_or(|o| o.contains(s));
    let section = |s: Section| match (s, known) {
        (Section::Ns, Some(ids)) => serde_json::to_value(ids).unwrap_or(Value::Null),
        _ => s.observe(),
    };
    (Section::ALL.into_iter().filter(wanted))
        .map(|s| (s.name().to_string(), section(s)))
        .collect()
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
    fn all_sections_are_the_whole_view() {
        let keys: Vec<String> = observe_sections(None).keys().cloned().collect();
        assert_eq!(keys, SECTIONS);
        let some = observe_sections(Some(&[Section::Ns, Section::Uts]));
        assert_eq!(some.keys().collect::<Vec<_>>(), ["uts", "ns"]);
        let known = ns::observe();
        let given = observe_sections_with_ns(Some(&[Section::Ns]), Some(&known));
        assert_eq!(given["ns"], serde_json::to_value(&known).unwrap());
        assert_eq!(given["ns"], observe_sections(Some(&[Section::Ns]))["ns"]);
        for s in Section::ALL {
            assert_eq!(Section::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn round_trips_through_json() {
        let json = serde_json::to_string(&observe()).unwrap();
        let back: View = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}
