//! No false failure away from the initial namespaces: the whole suite, run
//! inside `unshare --user --map-root-user --pid --fork --mount-proc --mount
//! --uts --ipc --net --cgroup`, in a time namespace with large offsets, and
//! with an mqueue filesystem at `/dev/mqueue` (as systemd mounts one), gives
//! no `fail` and no `error`.
//!
//! Everything happens in the namespaces unshare(1) made: `/dev` is replaced,
//! in the private mount namespace only, by a tmpfs holding bind mounts of
//! the host's entries and a new `mqueue` directory; the host's `/dev` is
//! never written. Where unshare(1) or user namespaces are missing the test
//! is skipped, except under `CI=true`, where it fails.

mod support_rel;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support_rel::source_dir;

/// Large clock offsets for the time namespace the suite runs in.
const MONOTONIC: &str = "100000000";
const BOOTTIME: &str = "200000000";

/// Run inside the new namespaces: `$1` is a scratch directory, the rest the
/// command. A tmpfs over `/dev` (in the private mount namespace) gets a bind
/// mount of each host entry, then `/dev/mqueue` with an mqueue filesystem.
const SETUP: &str = r#"set -e
scratch="$1"; shift
mkdir "$scratch/dev"
mount --rbind /dev "$scratch/dev"
mount -t tmpfs -o mode=755 nsconform-dev /dev
for e in "$scratch"/dev/* "$scratch"/dev/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n="/dev/${e##*/}"
  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$n"
  elif [ -d "$e" ]; then mkdir "$n"; mount --rbind "$e" "$n"
  else touch "$n"; mount --bind "$e" "$n"; fi
done
mkdir /dev/mqueue
mount -t mqueue mqueue /dev/mqueue
exec "$@"
"#;

/// The unshare(1) command line that makes the namespaces.
fn unshare() -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--user",
        "--map-root-user",
        "--pid",
        "--fork",
        "--mount-proc",
        "--mount",
        "--uts",
        "--ipc",
        "--net",
        "--cgroup",
        "--time",
        "--monotonic",
        MONOTONIC,
        "--boottime",
        BOOTTIME,
    ]);
    cmd.stdin(Stdio::null());
    cmd
}

/// Why the namespaces cannot be made here, if they cannot.
fn unavailable() -> Option<String> {
    let out = unshare().arg("true").output();
    match out {
        Err(e) => Some(format!("unshare(1) cannot run: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "unshare(1) cannot make the namespaces: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    }
}

/// Run the suite in the namespaces; the report it wrote.
fn run_suite(scratch: &Path, reports: &Path) -> Value {
    let out = unshare()
        .args(["sh", "-c", SETUP, "sh"])
        .arg(scratch)
        .arg(env!("CARGO_BIN_EXE_nsconform"))
        .args(["run", "-q", "--report-dir"])
        .arg(reports)
        .arg("--cases")
        .arg(source_dir("cases"))
        .arg("--fixtures")
        .arg(source_dir("fixtures"))
        .output()
        .expect("unshare(1) starts");
    let path = reports.join("report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no report at {} ({e}); exit {:?}, stderr:\n{}",
            path.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(&text).expect("report.json is JSON")
}

#[test]
fn no_fail_and_no_error_away_from_the_initial_namespaces() {
    if let Some(reason) = unavailable() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true, and {reason}"
        );
        eprintln!("skipped: {reason}");
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let reports: PathBuf = scratch.path().join("reports");
    let report = run_suite(scratch.path(), &reports);
    let bad: Vec<String> = report["trials"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| matches!(t["verdict"].as_str(), Some("fail" | "error")))
        .map(|t| format!("{} {}: {}", t["id"], t["verdict"], t["reason"]))
        .collect();
    assert!(bad.is_empty(), "{} trials:\n{}", bad.len(), bad.join("\n"));
    let pass = report["summary"]["pass"].as_u64().unwrap_or(0);
    assert!(pass > 0, "nothing ran: {}", report["summary"]);
}
