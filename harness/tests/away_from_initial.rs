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

use std::process::{Command, Stdio};

use support_rel::wrapped;

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

#[test]
fn no_fail_and_no_error_away_from_the_initial_namespaces() {
    if let Some(reason) = wrapped::unavailable(unshare(), &["true"], "the namespaces") {
        wrapped::skip(&reason);
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let mut wrapper = unshare();
    wrapper.args(["sh", "-c", SETUP, "sh"]).arg(scratch.path());
    let report = wrapped::run_suite(wrapper, &scratch.path().join("reports"));
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
