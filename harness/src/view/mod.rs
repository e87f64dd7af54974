//! Views: what one process sees, one section per namespace type plus `ns`;
//! and the reading of the sysctls that some sections show (`sysctl`).

pub mod cgroup;
pub mod ipc;
pub mod mnt;
pub mod net;
pub mod ns;
pub mod pid;
pub mod selection;
pub mod sysctl;
pub mod time;
pub mod user;
pub mod uts;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::kind::NsType;
pub use selection::Selection;

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

/// One section of a view: a namespace type's (named as the table of kinds
/// names it), or `ns`. Sections sort in the order of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Type(NsType),
    Ns,
}

impl Section {
    /// Every section, in the order of a view (not the table's: a view
    /// opens with what a process is, its pid and hostname).
    pub const ALL: [Section; 9] = [
        Section::Type(NsType::Pid),
        Section::Type(NsType::Uts),
        Section::Type(NsType::Mnt),
        Section::Type(NsType::Net),
        Section::Type(NsType::Ipc),
        Section::Type(NsType::User),
        Section::Type(NsType::Cgroup),
        Section::Type(NsType::Time),
        Section::Ns,
    ];

    /// The key of the section in a view.
    pub fn name(self) -> &'static str {
        match self {
            Section::Type(ty) => ty.name(),
            Section::Ns => "ns",
        }
    }

    /// The section whose key is `name`.
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Where the section stands in a view.
    fn position(self) -> usize {
        Section::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(usize::MAX)
    }

    /// Whether any part of this section is one `is` accepts. The parts a
    /// probe can observe one by one: the links of `ns`, the lists of `net`
    /// and `ipc`; none for the others.
    fn any_part(self, is: impl Fn(&str) -> bool) -> bool {
        match self {
            Section::Ns => ns::link_names().any(is),
            Section::Type(NsType::Net) => net::PARTS.into_iter().any(is),
            Section::Type(NsType::Ipc) => ipc::PARTS.into_iter().any(is),
            _ => false,
        }
    }

    /// Whether this section is observed part by part when a fixture judges
    /// only some of its parts.
    pub fn has_parts(self) -> bool {
        self.any_part(|_| true)
    }

    /// Whether `name` is one of this section's parts.
    pub fn has_part(self, name: &str) -> bool {
        self.any_part(|p| p == name)
    }

    /// Observe this section of the calling process's view.
    fn observe(self) -> Value {
        let value = match self {
            Section::Type(NsType::Pid) => serde_json::to_value(pid::observe()),
            Section::Type(NsType::Uts) => serde_json::to_value(uts::observe()),
            Section::Type(NsType::Mnt) => serde_json::to_value(mnt::observe()),
            Section::Type(NsType::Net) => serde_json::to_value(net::observe()),
            Section::Type(NsType::Ipc) => serde_json::to_value(ipc::observe()),
            Section::Type(NsType::User) => serde_json::to_value(user::observe()),
            Section::Type(NsType::Cgroup) => serde_json::to_value(cgroup::observe()),
            Section::Type(NsType::Time) => serde_json::to_value(time::observe()),
            Section::Ns => serde_json::to_value(ns::observe()),
        };
        value.unwrap_or(Value::Null)
    }
}

impl Ord for Section {
    fn cmp(&self, other: &Section) -> std::cmp::Ordering {
        self.position().cmp(&other.position())
    }
}

impl PartialOrd for Section {
    fn partial_cmp(&self, other: &Section) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Section {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Section {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Section, D::Error> {
        let name = String::deserialize(d)?;
        Section::from_name(&name).ok_or_else(|| {
            let names = Section::ALL.map(Section::name);
            serde::de::Error::custom(format!(
                "unknown section `{name}`, expected one of {names:?}"
            ))
        })
    }
}

impl schemars::JsonSchema for Section {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Section".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names = Section::ALL.map(Section::name);
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

/// Observe what `only` selects of the calling process's view (all of it
/// when `only` is `None`), in the order of a view: what a fixture judges is
/// all a probe needs to read.
pub fn observe_sections(only: Option<&Selection>) -> Map<String, Value> {
    observe_sections_with_ns(only, None)
}

/// [`observe_sections`], the `ns` section being `known` when given: the
/// calling process's links, read by it a moment before with nothing
/// between that changes its namespaces (the isolation guard's origin).
pub fn observe_sections_with_ns(
    only: Option<&Selection>,
    known: Option<&ns::NsView>,
) -> Map<String, Value> {
    let wanted = |s: &Section| only.is_none_or(|o| o.has(*s));
    let section = |s: Section| {
        let parts = only.and_then(|o| o.parts(s));
        let wants = |part: &str| parts.is_none_or(|p| p.contains(part));
        let value = match s {
            Section::Ns => {
                let ids: ns::NsView = match known {
                    Some(ids) => (ids.iter())
                        .filter(|(l, _)| wants(l))
                        .map(|(l, id)| (l.clone(), *id))
                        .collect(),
                    None => ns::observe_links(parts),
                };
                serde_json::to_value(ids).unwrap_or(Value::Null)
            }
            Section::Type(NsType::Net) => to_parts(net::observe_parts(&wants), parts),
            Section::Type(NsType::Ipc) => to_parts(ipc::observe_parts(&wants), parts),
            _ => s.observe(),
        };
        (s.name().to_string(), value)
    };
    (Section::ALL.into_iter().filter(wanted))
        .map(section)
        .collect()
}

/// A section observed in part, as JSON: only the fields `parts` names
/// (every field when `None`).
fn to_parts(section: impl Serialize, parts: Option<&BTreeSet<String>>) -> Value {
    let mut value = serde_json::to_value(section).unwrap_or(Value::Null);
    if let (Value::Object(fields), Some(parts)) = (&mut value, parts) {
        fields.retain(|k, _| parts.contains(k));
    }
    value
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
        let select = |items: &[&str]| -> Selection {
            serde_json::from_value(serde_json::json!(items)).unwrap()
        };
        let some = observe_sections(Some(&select(&["ns", "uts"])));
        assert_eq!(some.keys().collect::<Vec<_>>(), ["uts", "ns"]);
        let known = ns::observe();
        let given = observe_sections_with_ns(Some(&select(&["ns"])), Some(&known));
        assert_eq!(given["ns"], serde_json::to_value(&known).unwrap());
        assert_eq!(given["ns"], observe_sections(Some(&select(&["ns"])))["ns"]);
        let links = select(&["ns.uts", "ns.time_for_children"]);
        let two = observe_sections_with_ns(Some(&links), Some(&known));
        assert_eq!(
            two,
            observe_sections(Some(&links)),
            "the known links, filtered"
        );
        let keys: Vec<&String> = two["ns"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["time_for_children", "uts"]);
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
