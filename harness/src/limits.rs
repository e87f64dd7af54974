//! Limits: absurd or host-endangering values in a case or plan, refused
//! before anything runs (and again by the probe, as defence in depth).

use crate::case::Case;
use crate::format_error::JsonPath;
use crate::plan::{MapLine, Namespaces, Plan, Step};

/// The longest hostname or domainname a case may set (the kernel takes 64).
pub const MAX_NAME_BYTES: usize = 4096;
/// The most lines a uid or gid map may have (the kernel takes 340).
pub const MAX_MAP_LINES: usize = 1000;
/// The most steps a process may run.
pub const MAX_STEPS: usize = 256;
/// The longest path or other string argument of a step.
pub const MAX_ARG_BYTES: usize = 4096;
/// The filesystem types the `mount` step may mount.
pub const FSTYPES: [&str; 6] = ["tmpfs", "proc", "mqueue", "sysfs", "cgroup2", "bind"];
/// Mount points other than the sandbox (`/tmp` and below) that steps may touch.
pub const SPECIAL_TARGETS: [&str; 4] = ["/proc", "/sys", "/dev/mqueue", "/sys/fs/cgroup"];

/// A value refused, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: JsonPath,
    pub message: String,
}

type Checked = Result<(), Violation>;

fn refuse(path: JsonPath, message: impl Into<String>) -> Checked {
    Err(Violation {
        path,
        message: message.into(),
    })
}

/// Checks a case; the violation's path leads to the value in the case file.
pub fn check_case(case: &Case) -> Checked {
    check_parts(&case.namespaces, &case.steps, &case.child_steps)
}

/// Checks a plan, as the probe does before carrying it out.
pub fn check_plan(plan: &Plan) -> Result<(), String> {
    check_parts(&plan.namespaces, &plan.steps, &plan.child_steps)
        .map_err(|v| format!("{}: {}", v.path, v.message))
}

fn check_parts(ns: &Namespaces, steps: &[Step], child_steps: &[Step]) -> Checked {
    let root = JsonPath::root();
    check_namespaces(ns, &root.key("namespaces"))?;
    check_steps(ns, steps, &root.key("steps"))?;
    check_steps(ns, child_steps, &root.key("child_steps"))
}

fn check_namespaces(ns: &Namespaces, at: &JsonPath) -> Checked {
    let Some(user) = &ns.user else {
        return Ok(());
    };
    let at = at.key("user");
    let maps = [("uid_map", &user.uid_map), ("gid_map", &user.gid_map)];
    for (name, map) in maps {
        if let Some(lines) = map {
            check_map(lines, &at.key(name))?;
        }
    }
    Ok(())
}

fn check_map(lines: &[MapLine], at: &JsonPath) -> Checked {
    if lines.len() > MAX_MAP_LINES {
        return refuse(
            at.clone(),
            format!(
                "{} map lines, over the limit of {MAX_MAP_LINES}",
                lines.len()
            ),
        );
    }
    Ok(())
}

fn check_steps(ns: &Namespaces, steps: &[Step], at: &JsonPath) -> Checked {
    if steps.len() > MAX_STEPS {
        return refuse(
            at.clone(),
            format!("{} steps, over the limit of {MAX_STEPS}", steps.len()),
        );
    }
    for (i, step) in steps.iter().enumerate() {
        let here = at.index(i);
        if let Some(ty) = step.guarded_by() {
            if !ns.has(ty) {
                return refuse(
                    here,
                    format!(
                        "{} needs a new {ty} namespace in the case: it would change the host otherwise",
                        step.label()
                    ),
                );
            }
        }
        check_step(step, &here.key(step.name()))?;
    }
    Ok(())
}

fn check_step(step: &Step, at: &JsonPath) -> Checked {
    match step {
        Step::Sethostname(name) | Step::Setdomainname(name) => check_len(name, MAX_NAME_BYTES, at),
        Step::Mkdir(p) | Step::Umount(p) => check_target(p, at),
        Step::Propagation(prop) => check_target(&prop.target, &at.key("target")),
        Step::Mount(m) => {
            if !FSTYPES.contains(&m.fstype.as_str()) {
                return refuse(
                    at.key("fstype"),
                    format!(
                        "filesystem type `{}` is not one of {}",
                        m.fstype,
                        FSTYPES.join(", ")
                    ),
                );
            }
            check_target(&m.target, &at.key("target"))?;
            if let Some(source) = &m.source {
                if m.fstype == "bind" {
                    check_target(source, &at.key("source"))?;
                } else {
                    check_len(source, MAX_ARG_BYTES, &at.key("source"))?;
                }
            }
            if let Some(data) = &m.data {
                check_len(data, MAX_ARG_BYTES, &at.key("data"))?;
            }
            Ok(())
        }
        Step::Mqueue(s) | Step::LinkUp(s) | Step::Stat(s) => check_len(s, MAX_ARG_BYTES, at),
        Step::Sysv(_) | Step::Setsid(_) => Ok(()),
        _ => step.check().map_err(|message| Violation {
            path: at.clone(),
            message,
        }),
    }
}

fn check_len(s: &str, max: usize, at: &JsonPath) -> Checked {
    if s.len() > max {
        return refuse(
            at.clone(),
            format!("{} bytes, over the limit of {max}", s.len()),
        );
    }
    Ok(())
}

/// Checks a path a step changes: absolute, normalized, and inside the
/// sandbox (`/tmp` and below) or one of [`SPECIAL_TARGETS`].
pub fn path_problem(p: &str) -> Option<String> {
    if p.len() > MAX_ARG_BYTES {
        return Some(format!(
            "a path of {} bytes, over the limit of {MAX_ARG_BYTES}",
            p.len()
        ));
    }
    if !p.starts_with('/') {
        return Some(format!("`{p}` is not an absolute path"));
    }
    if p.contains('\0') {
        return Some("a path with a NUL byte".into());
    }
    let parts: Vec<&str> = p[1..].split('/').collect();
    if parts.contains(&"..") {
        return Some(format!("`{p}` contains `..`"));
    }
    if p != "/" && parts.iter().any(|c| c.is_empty() || *c == ".") {
        return Some(format!(
            "`{p}` is not normalized (no `//`, `.` or trailing `/`)"
        ));
    }
    if p == "/tmp" || p.starts_with("/tmp/") || SPECIAL_TARGETS.contains(&p) {
        return None;
    }
    Some(format!(
        "`{p}` is outside the sandbox: use a path below /tmp, or one of {}",
        SPECIAL_TARGETS.join(", ")
    ))
}

fn check_target(p: &str, at: &JsonPath) -> Checked {
    match path_problem(p) {
        Some(m) => refuse(at.clone(), m),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;
    use crate::plan::Door;
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
