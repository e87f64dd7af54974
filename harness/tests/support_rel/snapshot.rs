//! A snapshot of what the suite must never change on the host (names,
//! mounts, links, IPC objects, `nsconform*` cgroups, its own processes),
//! and the differences between two snapshots in words.
//!
//! Mount ids, link indexes and the like are left out on purpose: they change
//! whenever anything is mounted or created, even in a namespace that is gone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use nsconform::view::{ipc, mnt, uts};

/// The names of the suite's binaries.
pub const SUITE_BINARIES: [&str; 2] = ["nsconform", "nsconform-probe"];

/// How deep the cgroup trees are walked.
const CGROUP_DEPTH: usize = 8;
/// How many cgroup directories are visited at most, over all trees.
const CGROUP_DIRS: usize = 50_000;

/// Which processes count as the suite's.
#[derive(Debug, Clone)]
pub struct Scope {
    /// File names of the executables to look for.
    pub binaries: Vec<String>,
    /// When set, only processes whose environment holds this exact
    /// `NAME=value` entry (inherited by every process a run starts), so that
    /// a test sees its own runs and not those of a suite running beside it.
    pub marker: Option<String>,
}

impl Default for Scope {
    fn default() -> Scope {
        Scope {
            binaries: SUITE_BINARIES.iter().map(|b| b.to_string()).collect(),
            marker: None,
        }
    }
}

/// One mount, without the ids that change with every mount anywhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MountEntry {
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
    pub options: Vec<String>,
}

/// One network link of the host's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LinkEntry {
    pub name: String,
    /// The `IFF_*` flags that are set, by name.
    pub flags: Vec<String>,
}

/// One System V IPC object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct IpcEntry {
    /// `shm`, `msg` or `sem`.
    pub kind: String,
    pub key: i64,
    pub id: i64,
    /// The owner's uid.
    pub owner: u32,
}

/// One process of the suite.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SuiteProcess {
    pub pid: i32,
    /// The file name of its executable.
    pub exe: String,
    pub cmdline: String,
}

/// What the suite must never change on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostSnapshot {
    pub hostname: String,
    pub domainname: String,
    /// Sorted.
    pub mounts: Vec<MountEntry>,
    /// Sorted by name.
    pub links: Vec<LinkEntry>,
    /// `<link> <address>/<prefix>`, sorted.
    pub addresses: Vec<String>,
    /// The entries of `/run/netns`; `None` when it does not exist.
    pub netns: Option<Vec<String>>,
    /// Sorted.
    pub sysv: Vec<IpcEntry>,
    /// The queues of the host's first `mqueue` mount, if it has one.
    pub mqueue: Option<ipc::Mqueue>,
    /// Paths of cgroups named `nsconform*` in every cgroup tree, sorted.
    pub cgroups: Vec<String>,
    /// Sorted by pid.
    pub processes: Vec<SuiteProcess>,
}

impl HostSnapshot {
    /// Take a snapshot, counting every process of the suite's binaries.
    pub fn take() -> HostSnapshot {
        HostSnapshot::take_scoped(&Scope::default())
    }

    /// Take a snapshot, counting the processes that `scope` names.
    pub fn take_scoped(scope: &Scope) -> HostSnapshot {
        let names = uts::observe();
        let mountinfo = mnt::read_mountinfo();
        let (links, addresses) = read_links();
        HostSnapshot {
            hostname: names.hostname,
            domainname: names.domainname,
            mounts: mount_entries(&mountinfo),
            links,
            addresses,
            netns: list_dir(Path::new("/run/netns")),
            sysv: read_sysv(),
            mqueue: ipc::observe().mqueue,
            cgroups: find_cgroups(&mountinfo),
            processes: suite_processes(scope),
        }
    }

    /// What changed from `self` to `other`, one sentence per change; empty
    /// when nothing did.
    pub fn diff(&self, other: &HostSnapshot) -> Vec<String> {
        let mut out = Vec::new();
        if self.hostname != other.hostname {
            out.push(format!(
                "hostname changed from {:?} to {:?}",
                self.hostname, other.hostname
            ));
        }
        if self.domainname != other.domainname {
            out.push(format!(
                "domainname changed from {:?} to {:?}",
                self.domainname, other.domainname
            ));
        }
        list_diff("mount", &self.mounts, &other.mounts, &mut out);
        list_diff("link", &self.links, &other.links, &mut out);
        list_diff("address", &self.addresses, &other.addresses, &mut out);
        match (&self.netns, &other.netns) {
            (Some(a), Some(b)) => list_diff("/run/netns entry", a, b, &mut out),
            (a, b) if a != b => out.push(format!("/run/netns changed from {a:?} to {b:?}")),
            _ => {}
        }
        list_diff("System V IPC object", &self.sysv, &other.sysv, &mut out);
        if self.mqueue != other.mqueue {
            out.push(format!(
                "POSIX message queues changed from {} to {}",
                describe(&self.mqueue),
                describe(&other.mqueue)
            ));
        }
        list_diff("cgroup", &self.cgroups, &other.cgroups, &mut out);
        list_diff("process", &self.processes, &other.processes, &mut out);
        out
    }
}

/// One value as compact JSON, for messages.
fn describe<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "?".into())
}

/// Say which elements are only in `before` (gone) or only in `after`
/// (appeared), counting repeats.
fn list_diff<T: Serialize>(what: &str, before: &[T], after: &[T], out: &mut Vec<String>) {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for item in before {
        *counts.entry(describe(item)).or_default() -= 1;
    }
    for item in after {
        *counts.entry(describe(item)).or_default() += 1;
    }
    for (text, n) in counts {
        let verb = if n > 0 { "appeared" } else { "is gone" };
        for _ in 0..n.unsigned_abs() {
            out.push(format!("{what} {verb}: {text}"));
        }
    }
}

fn mount_entries(mounts: &[mnt::Mount]) -> Vec<MountEntry> {
    let mut out: Vec<MountEntry> = mounts
        .iter()
        .map(|m| MountEntry {
            mount_point: m.mount_point.clone(),
            fstype: m.fstype.clone(),
            source: m.source.clone(),
            options: m.options.clone(),
        })
        .collect();
    out.sort();
    out
}

/// The links (with their flags) and addresses of the caller's network namespace.
fn read_links() -> (Vec<LinkEntry>, Vec<String>) {
    let entries: Vec<nix::ifaddrs::InterfaceAddress> = nix::ifaddrs::getifaddrs()
        .map(|it| it.collect())
        .unwrap_or_default();
    let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut addresses = Vec::new();
    for entry in &entries {
        let names = entry.flags.iter_names().map(|(n, _)| n.to_string());
        flags
            .entry(entry.interface_name.clone())
            .or_insert_with(|| names.collect());
        if let Some(a) = nsconform::view::net::address_of(entry) {
            addresses.push(format!("{} {}/{}", a.link, a.address, a.prefix));
        }
    }
    let links = flags
        .into_iter()
        .map(|(name, flags)| LinkEntry { name, flags })
        .collect();
    addresses.sort();
    (links, addresses)
}

/// The sorted names in `dir`; `None` when it cannot be read.
fn list_dir(dir: &Path) -> Option<Vec<String>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}

/// Parse one `/proc/sysvipc/*` text: key, id and the `uid` column found by
/// its header.
pub fn parse_sysv(kind: &str, text: &str) -> Vec<IpcEntry> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let Some(uid_col) = header.iter().position(|h| *h == "uid") else {
        return Vec::new();
    };
    lines
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some(IpcEntry {
                kind: kind.to_string(),
                key: fields.first()?.parse().ok()?,
                id: fields.get(1)?.parse().ok()?,
                owner: fields.get(uid_col)?.parse().ok()?,
            })
        })
        .collect()
}

fn read_sysv() -> Vec<IpcEntry> {
    let mut out: Vec<IpcEntry> = ["shm", "msg", "sem"]
        .iter()
        .flat_map(|kind| {
            let text = std::fs::read_to_string(format!("/proc/sysvipc/{kind}")).unwrap_or_default();
            parse_sysv(kind, &text)
        })
        .collect();
    out.sort();
    out
}

/// The cgroups named `nsconform*` under every cgroup and cgroup2 mount.
fn find_cgroups(mounts: &[mnt::Mount]) -> Vec<String> {
    let mut roots: Vec<&str> = mounts
        .iter()
        .filter(|m| m.fstype == "cgroup" || m.fstype == "cgroup2")
        .map(|m| m.mount_point.as_str())
        .collect();
    roots.sort();
    roots.dedup();
    let mut budget = CGROUP_DIRS;
    let mut found = Vec::new();
    for root in roots {
        walk_cgroups(Path::new(root), CGROUP_DEPTH, &mut budget, &mut found);
    }
    found.sort();
    found
}

/// Depth-first walk of one cgroup tree, visiting at most `budget` directories.
fn walk_cgroups(dir: &Path, depth: usize, budget: &mut usize, found: &mut Vec<String>) {
    if depth == 0 || *budget == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if *budget == 0 {
            return;
        }
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        *budget -= 1;
        let path: PathBuf = entry.path();
        if entry.file_name().to_string_lossy().starts_with("nsconform") {
            found.push(path.display().to_string());
        }
        walk_cgroups(&path, depth - 1, budget, found);
    }
}

/// Whether the NUL-separated `environ` text holds the entry `marker`.
pub fn environ_has(environ: &[u8], marker: &str) -> bool {
    environ.split(|b| *b == 0).any(|e| e == marker.as_bytes())
}

/// The file name of a `/proc/<pid>/exe` target, without ` (deleted)`.
pub fn exe_name(target: &Path) -> String {
    let name = target
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    name.strip_suffix(" (deleted)")
        .map(str::to_string)
        .unwrap_or(name)
}

/// The live processes of the suite (zombies have no executable, and are
/// their parent's to reap).
pub fn suite_processes(scope: &Scope) -> Vec<SuiteProcess> {
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<SuiteProcess> = proc_dir
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let dir = e.path();
            let exe = exe_name(&std::fs::read_link(dir.join("exe")).ok()?);
            if !scope.binaries.contains(&exe) {
                return None;
            }
            if let Some(marker) = &scope.marker {
                let environ = std::fs::read(dir.join("environ")).ok()?;
                if !environ_has(&environ, marker) {
                    return None;
                }
            }
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            Some(SuiteProcess {
                pid,
                exe,
                cmdline: cmdline.trim_end().to_string(),
            })
        })
        .collect();
    out.sort();
    out
}
