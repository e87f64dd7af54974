//! A selection: what one process observes of its view, the sections its
//! fixture judges and, where the fixture judges a section with parts part
//! by part (the links of `ns`; the links, addresses and sysctls of `net`;
//! each kind of object of `ipc` and its sysctls), only those parts.
//! Written as a list: `["uts", "ns.uts", "net.links"]`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Section;

/// What one process observes of its view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    sections: BTreeSet<Section>,
    /// Sections observed part by part, with their parts; a section is
    /// here only while it is not observed whole.
    parts: BTreeMap<Section, BTreeSet<String>>,
}

impl Selection {
    /// Observe the whole section `s`.
    pub fn add_section(&mut self, s: Section) {
        self.parts.remove(&s);
        self.sections.insert(s);
    }

    /// Observe the whole section named `name`, if it is one (a process's
    /// `steps` are always there).
    pub fn add_named(&mut self, name: &str) {
        if let Some(s) = Section::from_name(name) {
            self.add_section(s);
        }
    }

    /// Observe `part` of the section named `name`: only that part where
    /// the section has parts, else the whole section. A name that is no
    /// part of a section with parts is left out: the fixture's check then
    /// fails on the missing value, as it would on a whole view.
    pub fn add_part(&mut self, name: &str, part: &str) {
        if let Some(s) = Section::from_name(name) {
            self.add_part_of(s, part);
        }
    }

    /// Observe `part` of the section `s`, as `add_part` does.
    fn add_part_of(&mut self, s: Section, part: &str) {
        if !s.has_parts() {
            return self.add_section(s);
        }
        if !self.sections.contains(&s) && s.has_part(part) {
            self.parts.entry(s).or_default().insert(part.to_string());
        }
    }

    /// Whether the section `s` is observed, whole or in part.
    pub fn has(&self, s: Section) -> bool {
        self.sections.contains(&s) || self.parts.contains_key(&s)
    }

    /// The parts of `s` observed: `None` for every part (or none, when `s`
    /// is not observed at all).
    pub fn parts(&self, s: Section) -> Option<&BTreeSet<String>> {
        self.parts.get(&s)
    }

    /// The selection as its list.
    fn items(&self) -> Vec<String> {
        let sections = self.sections.iter().map(|s| s.name().to_string());
        let parts = (self.parts.iter())
            .flat_map(|(s, parts)| parts.iter().map(move |p| format!("{}.{p}", s.name())));
        sections.chain(parts).collect()
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
            let (name, part) = match item.split_once('.') {
                Some((name, part)) => (name, Some(part)),
                None => (item.as_str(), None),
            };
            let section = Section::from_name(name);
            match (section, part) {
                (Some(s), None) => out.add_section(s),
                (Some(s), Some(p)) if s.has_part(p) => out.add_part_of(s, p),
                _ => {
                    let names = Section::ALL.map(Section::name);
                    return Err(serde::de::Error::custom(format!(
                        "unknown section `{item}`, expected one of {names:?} or \
                         `<section>.<part>` of `ns`, `net` or `ipc`"
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
    fn a_whole_section_takes_the_place_of_its_parts() {
        let mut s = Selection::default();
        s.add_part("ns", "uts");
        s.add_part("ns", "nonsense");
        assert!(s.has(Section::Ns));
        assert_eq!(s.parts(Section::Ns).map(|l| l.len()), Some(1));
        s.add_section(Section::Ns);
        s.add_part("ns", "pid");
        assert_eq!(s.parts(Section::Ns), None);
        assert!(!s.has(Section::Type(NsType::Uts)));
        s.add_part("net", "sysctl");
        let net = Section::Type(NsType::Net);
        assert_eq!(s.parts(net).map(|p| p.len()), Some(1));
        s.add_named("net");
        assert_eq!(s.parts(net), None);
        assert!(s.has(net));
    }

    #[test]
    fn a_section_without_parts_is_observed_whole() {
        let mut s = Selection::default();
        s.add_part("uts", "hostname");
        let uts = Section::Type(NsType::Uts);
        assert!(s.has(uts));
        assert_eq!(s.parts(uts), None);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["uts"]"#);
    }

    #[test]
    fn round_trips_as_a_list() {
        let text = r#"["uts","net.addresses","net.links","ns.pid_for_children","ns.uts"]"#;
        let s: Selection = serde_json::from_str(text).unwrap();
        assert!(s.has(Section::Type(NsType::Uts)) && s.has(Section::Ns));
        assert_eq!(serde_json::to_string(&s).unwrap(), text);
        for nope in ["ns.nope", "net.nope", "uts.hostname"] {
            let bad = serde_json::from_str::<Selection>(&format!(r#"["{nope}"]"#)).unwrap_err();
            let said = format!("unknown section `{nope}`");
            assert!(bad.to_string().contains(&said), "{bad}");
        }
    }
}
