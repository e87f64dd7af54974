//! The `ipc` section: System V objects of `/proc/sysvipc` and the POSIX message queues.
//!
//! The three `/proc/sysvipc` files share one layout (a header line, then key
//! and id first on every line), so one small parser reads them all; `procfs`
//! parses only the `shm` file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::view::mnt;

/// One System V IPC object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcObject {
    pub key: i32,
    pub id: i32,
}

/// The POSIX message queues of the last `mqueue` mount: the one mounted
/// most recently, so that a mount the host had (systemd mounts one at
/// `/dev/mqueue`) and the new namespace copied does not hide it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mqueue {
    /// Where it is mounted.
    pub mount: String,
    /// The queue names, sorted.
    pub queues: Vec<String>,
}

/// The `ipc` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcView {
    pub shm: Vec<IpcObject>,
    pub msg: Vec<IpcObject>,
    pub sem: Vec<IpcObject>,
    /// `None` if no `mqueue` filesystem is mounted.
    pub mqueue: Option<Mqueue>,
    /// The per-namespace IPC sysctls of ipc_namespaces(7), by name
    /// (`kernel.shmmax`, `fs.mqueue.queues_max`), as /proc/sys shows them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctl: BTreeMap<String, String>,
}

/// The sysctls that belong to an IPC namespace (ipc_namespaces(7)).
pub const SYSCTLS: [&str; 16] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
    "kernel.msg_next_id",
    "kernel.sem_next_id",
    "kernel.shm_next_id",
    "fs.mqueue.msg_default",
    "fs.mqueue.msg_max",
    "fs.mqueue.msgsize_default",
    "fs.mqueue.msgsize_max",
    "fs.mqueue.queues_max",
];

/// The parts of the section, observed one by one when a fixture judges
/// only some of them.
pub const PARTS: [&str; 5] = ["shm", "msg", "sem", "mqueue", "sysctl"];

/// The IPC sysctls that this kernel has, read in the caller's namespace.
fn read_sysctls() -> BTreeMap<String, String> {
    SYSCTLS
        .iter()
        .filter_map(|name| Some((name.to_string(), super::sysctl::read(name)?)))
        .collect()
}

/// Parse a `/proc/sysvipc/{shm,msg,sem}` text, sorted by id; malformed lines
/// (and the header) are skipped.
pub fn parse_sysvipc(text: &str) -> Vec<IpcObject> {
    let mut objects: Vec<IpcObject> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let key = fields.next()?.parse().ok()?;
            let id = fields.next()?.parse().ok()?;
            Some(IpcObject { key, id })
        })
        .collect();
    objects.sort_by_key(|o| o.id);
    objects
}

fn read_sysvipc(kind: &str) -> Vec<IpcObject> {
    std::fs::read_to_string(format!("/proc/sysvipc/{kind}"))
        .map(|t| parse_sysvipc(&t))
        .unwrap_or_default()
}

fn read_mqueue(mounts: &[mnt::Mount]) -> Option<Mqueue> {
    let mount = mounts.iter().rev().find(|m| m.fstype == "mqueue")?;
    let mut queues: Vec<String> = std::fs::read_dir(&mount.mount_point)
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    queues.sort();
    Some(Mqueue {
        mount: mount.mount_point.clone(),
        queues,
    })
}

/// Observe the `ipc` section of the calling process.
pub fn observe() -> IpcView {
    observe_parts(&|_| true)
}

/// Observe the parts of the `ipc` section that `wants` names; the others
/// are left empty, unread.
pub fn observe_parts(wants: &dyn Fn(&str) -> bool) -> IpcView {
    let sysvipc = |kind| {
        if wants(kind) {
            read_sysvipc(kind)
        } else {
            Vec::new()
        }
    };
    IpcView {
        shm: sysvipc("shm"),
        msg: sysvipc("msg"),
        sem: sysvipc("sem"),
        mqueue: wants("mqueue")
            .then(|| read_mqueue(&mnt::read_mountinfo()))
            .flatten(),
        sysctl: if wants("sysctl") {
            read_sysctls()
        } else {
            BTreeMap::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const SHM: &str = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
         0          3  1600                  4096  7301  7301      0     0     0     0     0          0          0 1700000000                     0                     0
1234567890          2   600                  1024  7300  7300      0     0     0     0     0          0          0 1700000000                     0                     0
";
    const MSG: &str = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime
  -1059191          0   666           0          0     0     0     0     0     0     0          0          0 1700000000
";
    const SEM: &str =
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime
";

    #[rstest]
    #[case(SHM, &[(1234567890, 2), (0, 3)])]
    #[case(MSG, &[(-1059191, 0)])]
    #[case(SEM, &[])]
    #[case("", &[])]
    fn parses_sysvipc(#[case] text: &str, #[case] expected: &[(i32, i32)]) {
        let got: Vec<(i32, i32)> = parse_sysvipc(text).iter().map(|o| (o.key, o.id)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn mqueue_from_mountinfo() {
        let mounts = mnt::parse_mountinfo(
            "22 1 252:1 / / rw - ext4 /dev/vda1 rw\n\
             40 22 0:35 / /nonexistent/mqueue rw - mqueue mqueue rw\n",
        );
        let mq = read_mqueue(&mounts).unwrap();
        assert_eq!(
            mq,
            Mqueue {
                mount: "/nonexistent/mqueue".into(),
                queues: vec![]
            }
        );
        assert_eq!(read_mqueue(&mounts[..1]), None);
    }

    #[test]
    fn the_last_mqueue_mount_counts() {
        let mounts = mnt::parse_mountinfo(
            "22 1 252:1 / / rw - ext4 /dev/vda1 rw\n\
             30 22 0:20 / /nonexistent/dev-mqueue rw - mqueue mqueue rw\n\
             40 22 0:35 / /nonexistent/mqueue rw - mqueue mqueue rw\n",
        );
        let mq = read_mqueue(&mounts).unwrap();
        assert_eq!(mq.mount, "/nonexistent/mqueue");
    }

    #[test]
    fn serializes_null_mqueue() {
        let json = serde_json::to_value(IpcView::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"shm": [], "msg": [], "sem": [], "mqueue": null})
        );
    }
}
