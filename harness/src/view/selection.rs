//! A selection: what one process observes of its view, the sections its
//! fixture judges and, where the fixture judges `ns` link by link, only
//! those links. Written as a list: `["uts", "ns.uts"]`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Section;

/// What one process observes of its view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    sections: BTreeSet<Section>,
    /// Links of `ns` observed one by one; none while `ns` is whole.
    links: BTreeSet<String>,
}

/// The prefix of a link of `ns` in a selection's list.
const LINK: &str = "ns.";

/// Whether `name` is one of the links of `/proc/self/ns`.
fn is_link(name: &str) -> bool {
    super::ns::link_names().any(|l| l == name)
}

impl Selection {
    /// Observe the whole section `s`.
    pub fn add_section(&mut self, s: Section) {
        if s == Section::Ns {
            self.links.clear();
        }
        self.sections.insert(s);
    }

    /// Observe the whole section named `name`, if it is one (a process's
    /// `steps` are always there).
    pub fn add_named(&mut self, name: &str) {
        if let Some(s) = Section::from_name(name) {
            self.add_section(s);
        }
    }

    /// Observe the link `name` of `ns` (a name that is no link is left
    /// out: the fixture's check then fails on the missing value).
    pub fn add_link(&mut self, name: &str) {
        if !self.sections.contains(&Section::Ns) && is_link(name) {
            self.links.insert(name.to_string());
        }
    }

    /// Whether the section `s` is observed, whole or in part.
    pub fn has(&self, s: Section) -> bool {
        self.sections.contains(&s) || (s == Section::Ns && !self.links.is_empty())
    }

    /// The links of `ns` observed: `None` for every link.
    pub fn links(&self) -> Option<&BTreeSet<String>> {
        (!self.links.is_empty()).then_some(&self.links)
    }

    /// The selection as its list.
    fn items(&self) -> Vec<String> {
        let sections = self.sections.iter().map(|s| s.name().to_string());
        sections
            .chain(self.links.iter().map(|l| format!("{LINK}{l}")))
            .collect()
    }
}

impl Serialize for Selection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.items().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Selection, D::Error> {
        let mut out = Selection::default();
        for item in Vec::<String>::deserialize(d)? {
            match (item.strip_prefix(LINK), Section::from_name(&item)) {
                (_, Some(s)) => out.add_section(s),
                (Some(link), None) if is_link(link) => out.add_link(link),
                _ => {
                    let names = Section::ALL.map(Section::name);
                    return Err(serde::de::Error::custom(format!(
                        "unknown section `{item}`, expected one of {names:?} or `ns.<link>`"
                    )));
                }
            }
        }
        Ok(out)
    }
}

impl schemars::JsonSchema for Selection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Selection".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "array", "items": { "type": "string" } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::NsType;

    #[test]
    fn a_whole_ns_takes_the_place_of_its_links() {
        let mut s = Selection::default();
        s.add_link("uts");
        s.add_link("nonsense");
        assert!(s.has(Section::Ns));
        assert_eq!(s.links().map(|l| l.len()), Some(1));
        s.add_section(Section::Ns);
        s.add_link("pid");
        assert_eq!(s.links(), None);
        assert!(!s.has(Section::Type(NsType::Uts)));
    }

    #[test]
    fn round_trips_as_a_list() {
        let text = r#"["uts","ns.pid_for_children","ns.uts"]"#;
        let s: Selection = serde_json::from_str(text).unwrap();
        assert!(s.has(Section::Type(NsType::Uts)) && s.has(Section::Ns));
        assert_eq!(serde_json::to_string(&s).unwrap(), text);
        let bad = serde_json::from_str::<Selection>(r#"["ns.nope"]"#).unwrap_err();
        assert!(
            bad.to_string().contains("unknown section `ns.nope`"),
            "{bad}"
        );
    }
}
