//! A synthetic report with every verdict, shared by the `report_*` tests.

#![allow(dead_code)]

use std::collections::BTreeMap;

use nsconform::verdict::{
    Difference, DoorInfo, Environment, Report, Summary, TrialRecord, Verdict,
};
use serde_json::{json, Value};

/// The doors of the synthetic report.
pub const DOORS: [&str; 3] = ["clone", "unshare", "runc"];

pub fn environment() -> Environment {
    Environment {
        kernel_release: "6.18.0-nsconform".into(),
        kernel_version: "#1 SMP PREEMPT_DYNAMIC".into(),
        arch: "x86_64".into(),
        privileged: true,
        rootless: false,
        uid: 0,
        features: BTreeMap::from([("ns.time".into(), true), ("clone3".into(), true)]),
        doors: vec![
            DoorInfo {
                name: "clone".into(),
                available: true,
                version: None,
                ..DoorInfo::default()
            },
            DoorInfo {
                name: "runc".into(),
                available: false,
                version: None,
                ..DoorInfo::default()
            },
        ],
        target: "host".into(),
        kconfig: BTreeMap::from([("CONFIG_TIME_NS".into(), "y".into())]),
        kconfig_hash: Some("fnv1a64:0123456789abcdef".into()),
    }
}

/// A view with volatile fields that change with `seed`, and a hostname.
pub fn views(hostname: &str, seed: u64) -> Value {
    json!({
        "inside": {
            "uts": { "hostname": hostname, "domainname": "(none)" },
            "ns": { "uts": { "ino": 4_026_531_838u64 + seed, "dev": 4 } },
            "pid": { "pid": 1, "ppid": 0, "nspid": [1000 + seed, 1] },
            "time": { "monotonic": 12.5 + seed as f64, "offsets": { "monotonic": [0, 0] } },
            "mnt": { "mounts": [ { "id": 20 + seed, "parent": 1, "fstype": "proc" } ] }
        }
    })
}

pub fn trial(ty: &str, case: &str, door: &str, verdict: Verdict) -> TrialRecord {
    TrialRecord {
        verdict,
        duration_ms: 1.25,
        views: Some(views("nsconform-a", 0)),
        checks: 3,
        ..TrialRecord::new(&format!("{ty}::{case}::{door}"), "host")
    }
}

/// Every verdict across four types and three doors; awkward text in places.
pub fn report() -> Report {
    let mut trials = Vec::new();
    for ty in ["uts", "ipc", "pid", "time"] {
        for case in ["isolated", "setns-back"] {
            for door in DOORS {
                trials.push(trial(ty, case, door, Verdict::Pass));
            }
        }
    }
    // runc is absent: every runc trial is a skip.
    for t in trials.iter_mut().filter(|t| t.door == "runc") {
        t.verdict = Verdict::Skip;
        t.reason = Some("runtime not installed: runc".into());
        t.views = None;
    }
    let fail = trials
        .iter_mut()
        .find(|t| t.id == "uts::isolated::unshare")
        .unwrap();
    fail.verdict = Verdict::Fail;
    fail.reason = Some("2 differences from the fixture".into());
    fail.diff = vec![
        Difference {
            path: "inside.uts.hostname".into(),
            expected: json!("nsconform-a"),
            observed: json!("<script>alert(1)</script> # | `x`"),
        },
        Difference {
            path: "inside.ns.uts.dev".into(),
            expected: json!({ "$ne": 4 }),
            observed: json!(4),
        },
    ];
    fail.stderr = "probe: sethostname done\n".into();
    let error = trials
        .iter_mut()
        .find(|t| t.id == "pid::isolated::clone")
        .unwrap();
    error.verdict = Verdict::Error;
    error.reason = Some("probe killed by signal 9 (SIGKILL) after 10 s timeout".into());
    error.stderr = "thread 'main' panicked at probe.rs:10:5:\n<boom> & more\n".into();
    error.views = None;
    let skip = trials
        .iter_mut()
        .find(|t| t.id == "time::isolated::clone")
        .unwrap();
    skip.verdict = Verdict::Skip;
    skip.reason = Some("CLONE_NEWTIME cannot be passed to clone(2)".into());
    skip.views = None;
    let xfail = trials
        .iter_mut()
        .find(|t| t.id == "ipc::setns-back::unshare")
        .unwrap();
    xfail.verdict = Verdict::Xfail;
    xfail.reason = Some("inside.ipc.shm: expected [], observed [1]".into());
    xfail.known_issue = Some("known issue ipc-x (Linux >=6.17): <kept> & shown [ref]".into());
    xfail.diff = vec![Difference {
        path: "inside.ipc.shm".into(),
        expected: json!([]),
        observed: json!([1]),
    }];
    let xpass = trials
        .iter_mut()
        .find(|t| t.id == "ipc::isolated::clone")
        .unwrap();
    xpass.verdict = Verdict::Xpass;
    xpass.reason = Some("passes, but known issue ipc-y".into());
    xpass.known_issue = Some("known issue ipc-y (Linux >=6.1): fixed? [ref]".into());
    let mut report = Report::new(environment(), trials);
    report.kernel_log = vec!["WARNING: CPU: 0 PID: 1 at kernel/nsproxy.c:1".into()];
    report
}

/// The counts the synthetic report must show.
pub fn expected_summary() -> Summary {
    Summary {
        pass: 11,
        fail: 1,
        skip: 9,
        error: 1,
        xfail: 1,
        xpass: 1,
        checks: 24,
    }
}

/// Summary of a subset of trials.
pub fn summary_of<'a>(trials: impl Iterator<Item = &'a TrialRecord>) -> Summary {
    let mut s = Summary::default();
    trials.for_each(|t| s.add(t.verdict));
    s
}
