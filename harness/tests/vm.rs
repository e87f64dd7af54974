//! The `vm:` target as a user runs it: the suite on Debian's 6.1 and 6.12
//! cloud kernels and on sid's 7.x cloud kernel under qemu (fetched by
//! `.ci/fetch-vm` into `.cache/vm`, or named by NSCONFORM_QEMU and
//! NSCONFORM_VM_KERNELS); the cases of what changed after 6.18 passing on
//! 7.x and skipping, with the feature's name, before it; and the machinery's
//! failures as `error` verdicts: not a kernel, qemu missing, a boot timeout,
//! a kernel panic.
//! Without qemu or the kernels a test says so and skips; with `CI=true` it fails.

mod tool_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nsconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nsconform"))
        .args(args)
        .output()
        .expect("run nsconform")
}

fn cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/vm")
}

/// qemu or a kernel is missing: skip, or fail under CI.
fn missing(what: &str) {
    tool_support::missing(
        what,
        "run .ci/fetch-vm, or set NSCONFORM_QEMU and NSCONFORM_VM_KERNELS",
    );
}

fn qemu() -> Option<PathBuf> {
    let q = std::env::var_os("NSCONFORM_QEMU")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("bin/qemu-system-x86_64"));
    q.is_file().then_some(q)
}

/// The kernel whose file name starts with `vmlinuz-<prefix>`.
fn kernel(prefix: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("NSCONFORM_VM_KERNELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("kernels"));
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(&format!("vmlinuz-{prefix}"))
            })
        })
        .collect();
    found.sort();
    found.pop()
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// The single subdirectory of a multi-target run whose name starts with `prefix`.
fn target_dir(dir: &Path, prefix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* under {}", dir.display()))
}

fn trials(r: &serde_json::Value) -> &Vec<serde_json::Value> {
    r["trials"].as_array().expect("trials")
}

/// Every trial of the report is an error whose reason contains `needle`.
fn all_errors_saying(dir: &Path, needle: &str) {
    let r = report(dir);
    assert!(!trials(&r).is_empty());
    for t in trials(&r) {
        assert_eq!(t["verdict"], "error", "{t}");
        let reason = t["reason"].as_str().unwrap_or("");
        assert!(reason.contains(needle), "{reason}");
    }
}

/// A fake image: a boot header and nothing bootable.
fn fake_kernel(dir: &Path) -> PathBuf {
    let mut bytes = vec![0u8; 0x400];
    bytes[0x202..0x206].copy_from_slice(b"HdrS");
    let path = dir.join("vmlinuz-fake");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The uts trials on the `vm:` target `kernel`, run with `args` added, are
/// each an error saying `needle`, and the run exits 1.
fn uts_errors_on(kernel: &Path, args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("r");
    let target = format!("vm:{}", kernel.display());
    let mut all = vec!["run", "--type", "uts", "--target", &target];
    all.extend(args);
    all.extend(["--report-dir", out_dir.to_str().unwrap()]);
    let out = nsconform(&all);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    all_errors_saying(&target_dir(&out_dir, "vm-"), needle);
}

#[test]
fn a_file_that_is_not_a_kernel_is_an_error() {
    let not_kernel = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    uts_errors_on(&not_kernel, &[], "is not a Linux kernel image");
}

#[test]
fn missing_qemu_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    uts_errors_on(
        &fake_kernel(dir.path()),
        &["--qemu", "/nonexistent/qemu-system-x86_64"],
        "qemu is missing",
    );
}

/// The pids of processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

/// The uts trials on a copy of the 6.1 kernel, booted with `args` added, are
/// each an error saying `needle`, and no qemu is left behind.
fn a_boot_that_errs(name: &str, args: &[&str], needle: &str) {
    let (Some(q), Some(k)) = (qemu(), kernel("6.1")) else {
        return missing("qemu or the 6.1 cloud kernel");
    };
    let dir = tempfile::tempdir().unwrap();
    // A copy under a name of its own, to find any qemu left behind.
    let own = dir.path().join(name);
    std::fs::copy(&k, &own).unwrap();
    let mut all = vec!["--qemu", q.to_str().unwrap()];
    all.extend(args);
    uts_errors_on(&own, &all, needle);
    let left = processes_mentioning(own.to_str().unwrap());
    assert!(left.is_empty(), "qemu left behind: {left:?}");
}

#[test]
fn a_boot_timeout_is_an_error_and_leaves_no_qemu() {
    a_boot_that_errs(
        "vmlinuz-timeout-probe",
        &["--boot-timeout", "1"],
        "did not boot within 1s",
    );
}

#[test]
fn a_guest_kernel_panic_is_an_error_and_leaves_no_qemu() {
    // No /init to run and no root to mount: the kernel panics at boot.
    a_boot_that_errs(
        "vmlinuz-panic-probe",
        &["--append", "rdinit=/nonexistent"],
        "the guest kernel panicked: Kernel panic",
    );
}

/// The three guest kernels: 6.1, 6.12 and 7.x, or a skip (a failure under CI).
fn guest_kernels() -> Option<(PathBuf, [PathBuf; 3])> {
    match (qemu(), kernel("6.1."), kernel("6.12."), kernel("7.")) {
        (Some(q), Some(k61), Some(k612), Some(k7)) => Some((q, [k61, k612, k7])),
        _ => {
            missing("qemu or the 6.1, 6.12 and 7.x cloud kernels");
            None
        }
    }
}

/// `nsconform run ARGS` on every kernel of `kernels`, into `out_dir`.
fn run_on(q: &Path, kernels: &[PathBuf], args: &[&str], out_dir: &Path) -> String {
    let targets: Vec<String> = kernels
        .iter()
        .map(|k| format!("vm:{}", k.display()))
        .collect();
    let mut all = vec!["run"];
    all.extend(args);
    for t in &targets {
        all.extend(["--target", t.as_str()]);
    }
    all.extend(["--qemu", q.to_str().unwrap()]);
    all.extend(["--report-dir", out_dir.to_str().unwrap()]);
    String::from_utf8_lossy(&nsconform(&all).stderr).into_owned()
}

#[test]
fn the_suite_runs_on_the_three_guest_kernels() {
    let Some((q, kernels)) = guest_kernels() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("r");
    let selection = ["--type", "uts", "--type", "time", "--door", "clone3"];
    let stderr = run_on(&q, &kernels, &selection, &out_dir);
    let mut list_args = vec!["list"];
    list_args.extend(selection);
    let list = nsconform(&list_args);
    let listed = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let releases = [
        ("vm-6.1.", "vm:6.1."),
        ("vm-6.12.", "vm:6.12."),
        ("vm-7.", "vm:7."),
    ];
    for (prefix, release) in releases {
        let r = report(&target_dir(&out_dir, prefix));
        let target = r["environment"]["target"].as_str().unwrap();
        assert!(target.starts_with(release), "{target}");
        assert_eq!(trials(&r).len(), listed, "{stderr}");
        for t in trials(&r) {
            assert!(
                !["error", "fail"].contains(&t["verdict"].as_str().unwrap_or("")),
                "{t}\n{stderr}"
            );
            assert!(t["target"].as_str().unwrap().starts_with(release));
        }
        assert!(
            !r["environment"]["kconfig"]
                .as_object()
                .is_none_or(|m| m.is_empty()),
            "no kconfig"
        );
        let hash = r["environment"]["kconfig_hash"].as_str().unwrap_or("");
        assert!(hash.starts_with("fnv1a64:"), "no kconfig hash: {hash:?}");
    }
    let matrix = std::fs::read_to_string(out_dir.join("matrix.md")).unwrap();
    for (_, release) in releases {
        assert!(matrix.contains(release), "{matrix}");
    }
    assert!(out_dir.join("matrix.html").is_file());
}

/// The cases of what changed after 6.18, copied into a suite of their own.
const AFTER_6_18: [(&str, Option<&str>); 5] = [
    ("user/listns-filters-and-scope", Some("listns")),
    ("pid/init-via-setns", Some("pid.init_via_setns")),
    ("time/clone-cannot-request-newtime", None),
    ("mnt/listmount-other-namespace", None),
    ("mnt/ns-iteration", None),
];

/// A known issue the guest must apply: its case passes on 7.x, so there it
/// is an xpass (the known issues travel in the initramfs).
const KNOWN_IN_GUEST: &str = r#"{"issues": [{
  "id": "known-in-guest",
  "trials": ["time::clone-cannot-request-newtime"],
  "kernel": ">=7.1",
  "paths": [],
  "reason": "none: tests/vm.rs checks that a guest applies the known issues",
  "reference": "tests/vm.rs"
}]}"#;

fn suite_of(cases: &[(&str, Option<&str>)], dir: &Path) {
    std::fs::write(dir.join("known-issues.json"), KNOWN_IN_GUEST).unwrap();
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for kind in ["cases", "fixtures"] {
        for (name, _) in cases {
            let to = dir.join(kind).join(format!("{name}.json"));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(top.join(kind).join(format!("{name}.json")), to).unwrap();
        }
    }
}

/// On 7.x listns(2) and a pid namespace's init through setns run and pass,
/// as do the cases whose answers changed after 6.18 (clone(2)'s exit signal,
/// the mounts a namespace counts); before 7.x the features skip by name. The
/// suite's known issues go into the guest with it.
#[test]
fn what_changed_after_6_18_passes_on_7x_and_skips_by_name_before() {
    let Some((q, kernels)) = guest_kernels() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    suite_of(&AFTER_6_18, dir.path());
    let (cases, fixtures) = (dir.path().join("cases"), dir.path().join("fixtures"));
    let args = [
        "--cases",
        cases.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
    ];
    let out_dir = dir.path().join("r");
    let stderr = run_on(&q, &kernels, &args, &out_dir);
    for prefix in ["vm-6.1.", "vm-6.12.", "vm-7."] {
        let r = report(&target_dir(&out_dir, prefix));
        let new = prefix == "vm-7.";
        for (name, feature) in AFTER_6_18 {
            let case = name.split('/').nth(1).unwrap();
            let of_case: Vec<&serde_json::Value> =
                trials(&r).iter().filter(|t| t["case"] == case).collect();
            assert!(
                !of_case.is_empty(),
                "no trial of {name} on {prefix}\n{stderr}"
            );
            for t in of_case {
                let verdict = t["verdict"].as_str().unwrap_or("");
                match feature {
                    Some(f) if !new => {
                        assert_eq!(verdict, "skip", "{t}");
                        let reason = t["reason"].as_str().unwrap_or("");
                        assert!(reason.contains(f), "{prefix}: {reason}");
                    }
                    _ if prefix == "vm-6.1." && name.starts_with("mnt/") => {
                        assert_eq!(verdict, "skip", "{t}")
                    }
                    _ if new && name.starts_with("time/") => {
                        assert_eq!(verdict, "xpass", "{prefix}: {t}\n{stderr}")
                    }
                    _ => assert_eq!(verdict, "pass", "{prefix}: {t}\n{stderr}"),
                }
            }
        }
    }
}
