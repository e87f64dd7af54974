//! Cases: one scenario each, a JSON file `cases/<type>/<name>.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::format_error::FormatError;
use crate::kver::KernelVersion;
use crate::plan::runtime::{RuntimeConfig, RuntimePlan};
use crate::plan::{check, Door, Namespaces, Plan, Process, Step};

/// One scenario: which namespaces to create, what to do inside, which
/// processes to observe, what it requires, and through which doors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// One sentence: the behaviour the case checks.
    pub about: String,
    pub namespaces: Namespaces,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Steps the child runs before it observes (only with `child` observed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_steps: Vec<Step>,
    pub observe: Vec<Process>,
    #[serde(default)]
    pub requires: Requires,
    #[serde(default)]
    pub doors: Doors,
    /// What only a runtime's configuration can say (OCI `hostname`,
    /// `maskedPaths`, a namespace joined by `path`, ...): a case with it runs
    /// through the OCI doors alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeConfig>,
    /// References by kind: `man`, `ltp`, `kselftest`, `linux-git`, `CVE`, ...
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, Vec<String>>,
}

impl Case {
    /// The plan a probe carries out for this case through `door`.
    pub fn plan(&self, door: Door, outer_userns: bool) -> Plan {
        Plan {
            door,
            namespaces: self.namespaces.clone(),
            steps: self.steps.clone(),
            child_steps: self.child_steps.clone(),
            observe: self.observe.clone(),
            outer_userns,
            runtime: door.is_runtime().then(|| RuntimePlan {
                config: self.runtime.clone().unwrap_or_default(),
                ..RuntimePlan::default()
            }),
        }
    }

    /// The doors this case runs through, each once, in order.
    pub fn doors(&self) -> Vec<Door> {
        match &self.doors {
            Doors::All => Door::ALL.to_vec(),
            Doors::Once => Door::ALL
                .into_iter()
                .find(|d| self.plan(*d, false).inexpressible().is_none())
                .into_iter()
                .collect(),
            Doors::Only(list) => {
                let mut out: Vec<Door> = Vec::new();
                for d in list {
                    if !out.contains(d) {
                        out.push(*d);
                    }
                }
                out
            }
        }
    }
}

/// Reads a case from `text` (the contents of `path`), refusing unknown
/// fields, wrong types and absurd values with the line and column.
pub fn parse_case(path: &Path, text: &str) -> Result<Case, FormatError> {
    let case: Case = serde_json::from_str(text).map_err(|e| FormatError::from_json(path, &e))?;
    crate::fixture::require_object(path, text, "a case")?;
    check::check_parts(&case.namespaces, &case.steps, &case.child_steps)
        .map_err(|v| FormatError::at_path(path, text, &v.path, v.message))?;
    Ok(case)
}

/// Reads and parses the case file at `path`.
pub fn read_case(path: &Path) -> Result<Case, FormatError> {
    let text = std::fs::read_to_string(path).map_err(|e| FormatError::unreadable(path, &e))?;
    parse_case(path, &text)
}

/// What a case needs from the machine; an unmet need is a skip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    #[serde(default)]
    pub privilege: Privilege,
    /// The oldest kernel release that can pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelVersion>,
    /// Kernel features by name, as the environment reports them (`ns.time`, `clone3`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// The privilege a case needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privilege {
    /// Runs as root, or rootless inside a user namespace the suite makes first.
    #[default]
    Userns,
    /// Needs CAP_SYS_ADMIN in the initial user namespace.
    Root,
}

/// The doors a case names: `"all"`, `"once"`, or a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Doors {
    #[default]
    All,
    /// The case's steps make the namespaces it checks, so the door that
    /// brought the probe in changes nothing: one trial, through the first
    /// door that can express it.
    Once,
    Only(Vec<Door>),
}

impl Serialize for Doors {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doors::All => s.serialize_str("all"),
            Doors::Once => s.serialize_str("once"),
            Doors::Only(list) => list.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Doors {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DoorsVisitor)
    }
}

struct DoorsVisitor;

impl<'de> Visitor<'de> for DoorsVisitor {
    type Value = Doors;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("\"all\", \"once\" or a list of doors")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Doors, E> {
        match v {
            "all" => Ok(Doors::All),
            "once" => Ok(Doors::Once),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doors, A::Error> {
        let mut list = Vec::new();
        while let Some(d) = seq.next_element::<Door>()? {
            list.push(d);
        }
        if list.is_empty() {
            return Err(de::Error::invalid_length(0, &"at least one door"));
        }
        Ok(Doors::Only(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plain;
    use rstest::rstest;

    const UTS: &str = r#"{
  "about": "A hostname set inside a new UTS namespace is seen inside, and not outside.",
  "namespaces": { "uts": {} },
  "steps": [ { "sethostname": "nsconform-a" } ],
  "child_steps": [],
  "observe": ["inside", "host"],
  "requires": { "privilege": "userns", "kernel": "5.6", "features": ["ns.time"] },
  "doors": "all",
  "tags": { "man": ["uts_namespaces(7)"], "ltp": ["utsname01"] }
}"#;

    fn parse(text: &str) -> Result<Case, FormatError> {
        parse_case(Path::new("cases/uts/x.json"), text)
    }

    #[test]
    fn parses_the_example() {
        let case = parse(UTS).unwrap();
        assert_eq!(case.namespaces.uts, Some(Plain {}));
        assert_eq!(case.steps, vec![Step::Sethostname("nsconform-a".into())]);
        assert_eq!(case.observe, vec![Process::Inside, Process::Host]);
        assert_eq!(case.requires.privilege, Privilege::Userns);
        assert_eq!(case.requires.kernel, Some(KernelVersion::new(5, 6, 0)));
        assert_eq!(case.requires.features, vec!["ns.time".to_string()]);
        assert_eq!(case.tags["ltp"], vec!["utsname01".to_string()]);
        assert_eq!(case.doors(), Door::ALL.to_vec());
    }

    #[test]
    fn defaults() {
        let case = parse(r#"{"about": "a", "namespaces": {}, "observe": ["inside"]}"#).unwrap();
        assert_eq!(case.requires, Requires::default());
        assert_eq!(case.doors, Doors::All);
        assert!(case.steps.is_empty() && case.tags.is_empty());
    }

    #[test]
    fn names_doors() {
        let text = UTS.replace(
            r#""doors": "all""#,
            r#""doors": ["unshare", "clone3", "unshare"]"#,
        );
        let case = parse(&text).unwrap();
        assert_eq!(case.doors(), vec![Door::Unshare, Door::Clone3]);
    }

    #[test]
    fn once_is_the_first_door_that_can_express_it() {
        let case = parse(&UTS.replace(r#""doors": "all""#, r#""doors": "once""#)).unwrap();
        assert_eq!(case.doors(), vec![Door::Clone]);
        let time =
            r#"{"about": "a", "namespaces": {"time": {}}, "observe": ["inside"], "doors": "once"}"#;
        assert_eq!(parse(time).unwrap().doors(), vec![Door::Clone3]);
    }

    #[test]
    fn makes_a_plan() {
        let case = parse(UTS).unwrap();
        let plan = case.plan(Door::Clone3, true);
        assert_eq!(plan.door, Door::Clone3);
        assert!(plan.outer_userns);
        assert_eq!(plan.steps, case.steps);
        assert_eq!(plan.observe, case.observe);
        assert_eq!(plan.namespaces, case.namespaces);
    }

    #[test]
    fn reads_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, UTS).unwrap();
        assert_eq!(read_case(&path).unwrap(), parse(UTS).unwrap());
        let err = read_case(&dir.path().join("none.json")).unwrap_err();
        assert_eq!((err.line, err.column), (0, 0));
        assert!(err.message.starts_with("cannot read: "), "{err}");
    }

    #[test]
    fn round_trips() {
        let case = parse(UTS).unwrap();
        let text = serde_json::to_string_pretty(&case).unwrap();
        assert_eq!(parse(&text).unwrap(), case);
    }

    #[rstest]
    #[case::invalid_json(
        "{\n  \"about\": \"a\",\n  \"namespaces\": {,\n}",
        3,
        18,
        "key must be a string"
    )]
    #[case::unknown_key(
        "{\n  \"about\": \"a\",\n    \"nmespaces\": {}\n}",
        3,
        15,
        "unknown field `nmespaces`"
    )]
    #[case::unknown_ns(
        "{\"about\": \"a\",\n \"namespaces\": {\"utz\": {}}}",
        2,
        21,
        "unknown field `utz`"
    )]
    #[case::wrong_type(
        "{\n\"about\": 3}",
        2,
        10,
        "invalid type: integer `3`, expected a string"
    )]
    #[case::unknown_door("{\"about\": \"a\", \"namespaces\": {}, \"observe\": [],\n\"doors\": [\"clone\", \"fork\"]}", 2, 25, "unknown variant `fork`")]
    #[case::bad_doors(
        "{\"about\": \"a\", \"namespaces\": {}, \"observe\": [],\n\"doors\": \"some\"}",
        2,
        15,
        "invalid value: string \"some\", expected \"all\", \"once\" or a list of doors"
    )]
    #[case::unknown_step(
        "{\"about\": \"a\", \"namespaces\": {}, \"observe\": [],\n  \"steps\": [{\"reboot\": 1}]}",
        2,
        21,
        "unknown variant `reboot`"
    )]
    #[case::unknown_process(
        "{\"about\": \"a\", \"namespaces\": {}, \"observe\": [\"outside\"]}",
        1,
        54,
        "unknown variant `outside`"
    )]
    #[case::bad_privilege("{\"about\": \"a\", \"namespaces\": {}, \"observe\": [],\n\"requires\": {\"privilege\": \"god\"}}", 2, 31, "unknown variant `god`")]
    #[case::bad_kernel("{\"about\": \"a\", \"namespaces\": {}, \"observe\": [],\n\"requires\": {\"kernel\": \"5\"}}", 2, 27, "`5` is not a kernel version")]
    #[case::key_outside_i32("{\"about\": \"a\", \"namespaces\": {\"ipc\": {}}, \"observe\": [],\n\"steps\": [{\"sysv\": {\"kind\": \"shm\", \"key\": 5000000000}}]}", 2, 52, "expected i32")]
    #[case::missing("{\"about\": \"a\"}", 1, 14, "missing field `namespaces`")]
    #[case::absurd_hostname_in_case("{\"about\": \"a\", \"namespaces\": {\"uts\": {}}, \"observe\": [],\n  \"steps\": [{}, {\"sethostname\": \"HOST\"}]}", 2, 45, "steps.1.sethostname: 5000 bytes")]
    fn refuses(#[case] text: &str, #[case] line: usize, #[case] column: usize, #[case] msg: &str) {
        let text = text.replace("HOST", &"h".repeat(5000));
        let text = text.replace("[{}, ", "[{\"setsid\": {}}, ");
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains(msg), "{err}");
        assert_eq!((err.line, err.column), (line, column), "{err}");
        assert!(err.to_string().starts_with("cases/uts/x.json:"));
    }
}

#[cfg(test)]
mod limit_tests {
    //! The limits, as a case file meets them.
    use super::parse_case;
    use crate::plan::check::path_problem;
    use crate::plan::{Door, Plan, Step};
    use rstest::rstest;
    use std::path::Path;

    #[rstest]
    #[case("/tmp", true)]
    #[case("/tmp/a/b", true)]
    #[case("/proc", true)]
    #[case("/sys/fs/cgroup", true)]
    #[case("/dev/mqueue", true)]
    #[case("/", false)]
    #[case("/etc", false)]
    #[case("/tmpfoo", false)]
    #[case("/proc/sys", false)]
    #[case("tmp/a", false)]
    #[case("/tmp/../etc", false)]
    #[case("/tmp/a/..", false)]
    #[case("/tmp//a", false)]
    #[case("/tmp/./a", false)]
    #[case("/tmp/a/", false)]
    #[case("", false)]
    fn paths(#[case] p: &str, #[case] ok: bool) {
        assert_eq!(path_problem(p).is_none(), ok, "{p}: {:?}", path_problem(p));
    }

    fn case_with(ns: &str, steps: &str) -> String {
        format!("{{\"about\": \"a\",\n \"namespaces\": {ns},\n \"observe\": [\"inside\"],\n \"steps\": {steps}\n}}")
    }

    fn refused(text: &str) -> (usize, usize, String) {
        let e = parse_case(Path::new("c.json"), text).unwrap_err();
        (e.line, e.column, e.message)
    }

    #[rstest]
    #[case::long_hostname(r#"{"uts": {}}"#, r#"[{"sethostname": "LONG"}]"#, (4, 28), "steps.0.sethostname: 4097 bytes")]
    #[case::long_domainname(r#"{"uts": {}}"#, r#"[{"setsid": {}}, {"setdomainname": "LONG"}]"#, (4, 46), "steps.1.setdomainname: 4097 bytes")]
    #[case::mkdir_outside(r#"{"mnt": {}}"#, r#"[{"mkdir": "/etc/x"}]"#, (4, 22), "steps.0.mkdir: `/etc/x` is outside the sandbox")]
    #[case::mount_dotdot(r#"{"mnt": {}}"#, r#"[{"mount": {"fstype": "tmpfs", "target": "/tmp/../etc"}}]"#, (4, 52), "steps.0.mount.target: `/tmp/../etc` contains `..`")]
    #[case::bind_source(r#"{"mnt": {}}"#, r#"[{"mount": {"fstype": "bind", "source": "/home", "target": "/tmp/a"}}]"#, (4, 51), "steps.0.mount.source: `/home` is outside")]
    #[case::fstype(r#"{"mnt": {}}"#, r#"[{"mount": {"fstype": "ext4", "target": "/tmp/a"}}]"#, (4, 33), "steps.0.mount.fstype: filesystem type `ext4`")]
    #[case::propagation(r#"{"mnt": {}}"#, r#"[{"propagation": {"target": "/", "type": "shared"}}]"#, (4, 39), "steps.0.propagation.target: `/` is outside")]
    #[case::umount_relative(r#"{"mnt": {}}"#, r#"[{"umount": "tmp"}]"#, (4, 23), "steps.0.umount: `tmp` is not an absolute path")]
    #[case::unguarded(r#"{"pid": {}}"#, r#"[{"setsid": {}}, {"sethostname": "x"}]"#, (4, 28), "steps.1: sethostname needs a new uts namespace")]
    #[case::too_many_steps(r#"{}"#, "MANY", (4, 11), "steps: 257 steps, over the limit of 256")]
    #[case::long_map(r#"{"user": {"uid_map": MAP}}"#, "[]", (2, 37), "namespaces.user.uid_map: 1001 map lines")]
    fn refuses_absurd(
        #[case] ns: &str,
        #[case] steps: &str,
        #[case] pos: (usize, usize),
        #[case] msg: &str,
    ) {
        let many = format!("[{}]", vec![r#"{"setsid": {}}"#; 257].join(","));
        let map = format!("[{}]", vec!["[0, 0, 1]"; 1001].join(","));
        let text = case_with(&ns.replace("MAP", &map), &steps.replace("MANY", &many))
            .replace("LONG", &"x".repeat(4097));
        let (line, column, message) = refused(&text);
        assert!(message.starts_with(msg), "{message}");
        assert_eq!((line, column), pos, "{message}");
    }

    #[test]
    fn accepts_sane() {
        let text = case_with(
            r#"{"mnt": {}, "uts": {}, "user": {"uid_map": [[0, "caller", 1]]}}"#,
            r#"[{"sethostname": "x"}, {"mkdir": "/tmp/a"},
               {"mount": {"fstype": "bind", "source": "/tmp/a", "target": "/tmp/a"}},
               {"mount": {"fstype": "proc", "source": "proc", "target": "/proc"}}]"#,
        );
        parse_case(Path::new("c.json"), &text).unwrap();
    }

    #[test]
    fn checks_plans() {
        let check_plan = |p: &Plan| p.validate().map_err(|v| v.to_string());
        let text = case_with(r#"{"mnt": {}}"#, r#"[{"mkdir": "/tmp/ok"}]"#);
        let case = parse_case(Path::new("c.json"), &text).unwrap();
        let mut plan = case.plan(Door::Unshare, false);
        assert_eq!(check_plan(&plan), Ok(()));
        plan.child_steps = vec![Step::Mkdir("/var/x".into())];
        let err = check_plan(&plan).unwrap_err();
        assert!(
            err.starts_with("child_steps.0.mkdir: `/var/x` is outside"),
            "{err}"
        );
    }
}
