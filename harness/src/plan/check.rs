//! The one validation of a plan: absurd or host-endangering values, refused
//! before anything runs: by the harness when it reads a case, and again by
//! the probe before it carries out a plan, as defence in depth.

use super::json_path::JsonPath;
use super::{MapLine, Namespaces, Plan, Step};

/// The longest hostname or domainname a case may set (the kernel takes 64).
pub const MAX_NAME_BYTES: usize = 4096;
/// The most lines a uid or gid map may have (the kernel's limit since 4.15).
pub const MAX_MAP_LINES: usize = 340;
/// The most steps a process may run.
pub const MAX_STEPS: usize = 256;
/// The longest path or other string argument of a step.
pub const MAX_ARG_BYTES: usize = 4096;
/// The filesystem types the `mount` step may mount.
pub const FSTYPES: [&str; 6] = ["tmpfs", "proc", "mqueue", "sysfs", "cgroup2", "bind"];
/// Mount points other than the sandbox (`/tmp` and below) that steps may touch.
pub const SPECIAL_TARGETS: [&str; 4] = ["/proc", "/sys", "/dev/mqueue", "/sys/fs/cgroup"];

/// A value refused, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
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

impl Plan {
    /// Checks the plan's namespaces and steps, as the probe does before
    /// carrying it out.
    pub fn validate(&self) -> Result<(), Violation> {
        check_parts(&self.namespaces, &self.steps, &self.child_steps)
    }
}

/// Checks a case's (or a plan's) namespaces and steps; the violation's path
/// leads to the value in the case file.
pub fn check_parts(ns: &Namespaces, steps: &[Step], child_steps: &[Step]) -> Checked {
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
