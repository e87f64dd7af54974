//! Fault injection for the isolation guard: a seccomp filter makes
//! unshare(2) and setns(2) "succeed" without doing anything whenever they are
//! asked for a new UTS namespace. The uts trials through those doors must
//! fail with "namespace not isolated", and the host's hostname and domain
//! name must never change.

mod support_rel;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// One BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// SECCOMP_RET_ERRNO with errno 0: the call returns 0 and does nothing.
const SECCOMP_RET_FAKE_SUCCESS: u32 = 0x0005_0000;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// unshare(flags & `unshare_mask`) and setns(_, nstype & `setns_mask`)
/// return 0 untouched (a `setns_mask` of all ones fakes every setns, even
/// with nstype 0); everything else runs.
fn filter(unshare_mask: u32, setns_mask: u32) -> Vec<SockFilter> {
    let setns_test = if setns_mask == u32::MAX {
        insn(JEQ_K, 2, 2, 0) // either way to "fake"
    } else {
        insn(JSET_K, 1, 2, setns_mask)
    };
    vec![
        insn(LD_W_ABS, 0, 0, 4),                     // 0: arch
        insn(JEQ_K, 0, 8, AUDIT_ARCH_X86_64),        // 1: else allow
        insn(LD_W_ABS, 0, 0, 0),                     // 2: syscall number
        insn(JEQ_K, 0, 2, libc::SYS_unshare as u32), // 3
        insn(LD_W_ABS, 0, 0, 16),                    // 4: args[0]
        insn(JSET_K, 4, 5, unshare_mask),            // 5: fake, else allow
        insn(JEQ_K, 0, 4, libc::SYS_setns as u32),   // 6
        insn(LD_W_ABS, 0, 0, 24),                    // 7: args[1]
        setns_test,                                  // 8: fake, else allow
        insn(RET_K, 0, 0, SECCOMP_RET_ALLOW),        // 9 (unused)
        insn(RET_K, 0, 0, SECCOMP_RET_FAKE_SUCCESS), // 10
        insn(RET_K, 0, 0, SECCOMP_RET_ALLOW),        // 11
    ]
}

/// Run `nsconform run ARGS` under the filter; its exit code and report directory.
fn run_faked(args: &[&str], program: Vec<SockFilter>) -> (Option<i32>, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nsconform"));
    cmd.env(MARKER_VAR, marker());
    cmd.arg("run")
        .args(args)
        .args(["-q", "--report-dir"])
        .arg(out.path());
    // SAFETY: between fork and exec the closure only calls prctl(2), which is
    // async-signal-safe; `program` outlives the spawn.
    unsafe {
        let (len, addr) = (program.len() as u16, program.as_ptr() as usize);
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let prog = SockFprog {
                len,
                filter: addr as *const SockFilter,
            };
            let prog_ptr = &prog as *const SockFprog;
            if libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, prog_ptr) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = cmd.status().expect("run nsconform");
    drop(program);
    (status.code(), out)
}

/// Marks the processes of this file's runs, so that a suite running beside
/// it does not count as a change of the host.
const MARKER_VAR: &str = "NSCONFORM_REL_MARKER";

fn marker() -> String {
    format!("isolation-guard-{}", std::process::id())
}

/// Every CLONE_NEW* flag.
const ALL_NEW: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32
    | 0x80;

/// Host state the snapshot does not hold: the net sysctls cases write.
fn sysctls() -> Vec<(String, String)> {
    let names = [
        "ipv4/ip_forward",
        "ipv4/ip_default_ttl",
        "ipv4/conf/all/forwarding",
        "ipv6/conf/all/forwarding",
    ];
    names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read_to_string(format!("/proc/sys/net/{n}")).unwrap_or_default(),
            )
        })
        .collect()
}

/// The tests of this file take turns: one compares snapshots of the whole
/// host, where the other's run would show.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn uname() -> (String, String) {
    let u = nix::sys::utsname::uname().expect("uname");
    let s = |x: &std::ffi::OsStr| x.to_string_lossy().into_owned();
    (s(u.nodename()), s(u.domainname()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("json")
}

#[test]
fn every_namespace_faked_leaves_the_host_alone() {
    let _serial = one_at_a_time();
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: installing the seccomp filter for this test needs root");
        return;
    }
    let scope = support_rel::snapshot::Scope {
        marker: Some(format!("{MARKER_VAR}={}", marker())),
        ..support_rel::snapshot::Scope::default()
    };
    let before = (
        support_rel::snapshot::HostSnapshot::take_scoped(&scope),
        sysctls(),
        uname(),
    );
    let (code, out) = run_faked(&[], filter(ALL_NEW, u32::MAX));
    let after = (
        support_rel::snapshot::HostSnapshot::take_scoped(&scope),
        sysctls(),
        uname(),
    );
    assert_eq!(
        before.2, after.2,
        "the host's hostname or domain name changed"
    );
    assert_eq!(before.1, after.1, "a sysctl of the host changed");
    let diff = before.0.diff(&after.0);
    assert!(diff.is_empty(), "the host changed:\n{}", diff.join("\n"));
    assert_eq!(code, Some(1), "the run must report failures");
    let report = json(&out.path().join("report.json"));
    let caught = report["trials"]
        .as_array()
        .expect("trials")
        .iter()
        .filter(|t| {
            t["reason"]
                .as_str()
                .unwrap_or("")
                .contains("namespace not isolated")
        })
        .count();
    assert!(
        caught >= 50,
        "only {caught} trials were caught by the guard"
    );
    // A refusal ends the trial at once: none waits for the timeout, and a
    // caught trial is a `fail`, never an `error`.
    for t in report["trials"].as_array().expect("trials") {
        let reason = t["reason"].as_str().unwrap_or("");
        assert!(!reason.contains("timeout:"), "{}: {reason}", t["id"]);
        if reason.contains("namespace not isolated") {
            assert_eq!(t["verdict"], "fail", "{}: {reason}", t["id"]);
        }
    }
}

#[test]
fn faked_unshare_and_setns_are_caught_by_the_guard() {
    let _serial = one_at_a_time();
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: installing the seccomp filter for this test needs root");
        return;
    }
    let before = uname();
    let uts = libc::CLONE_NEWUTS as u32;
    let (code, out) = run_faked(&["--type", "uts"], filter(uts, uts));
    assert_eq!(
        uname(),
        before,
        "the host's hostname or domain name changed"
    );
    assert_eq!(code, Some(1), "the run must report failures");
    let report = json(&out.path().join("report.json"));
    let trials = report["trials"].as_array().expect("trials");
    let mut caught = 0;
    for t in trials {
        let (door, verdict) = (t["door"].as_str().unwrap(), t["verdict"].as_str().unwrap());
        let reason = t["reason"].as_str().unwrap_or("");
        let faked = ["unshare", "setns", "setns-pidfd"].contains(&door);
        let case = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../cases/uts")
                .join(format!("{}.json", t["case"].as_str().unwrap())),
        )
        .unwrap_or_default();
        let creates_uts = case.contains("\"uts\": {") || case.contains("\"uts\":{");
        let changes_uts = case.contains("sethostname") || case.contains("setdomainname");
        if faked && creates_uts && changes_uts {
            assert_eq!(verdict, "fail", "{}: {reason}", t["id"]);
            assert!(
                reason.contains("namespace not isolated"),
                "{}: {reason}",
                t["id"]
            );
            caught += 1;
        }
    }
    assert!(caught >= 3, "only {caught} trials were caught by the guard");
}
