//! Asking a tool a question from the harness (a runtime's `--version`, its
//! `features`): bounded in time, in a process group killed whole at the
//! end, and with whatever the tool mounts kept out of the harness's mount
//! namespace (crun bind-mounts its own binary over a file in /tmp for a
//! moment each time it starts, which a trial running at the same time would
//! see in the host's mount table).

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::command::Group;

/// What `cmd` prints on its standard output, when it succeeds within
/// `timeout` (its output must fit a pipe's buffer, 64 KiB: it is read once
/// the tool has ended). The tool runs with no input, in a new mount
/// namespace of its own where one can be had.
pub fn answer(cmd: &mut Command, timeout: Duration) -> Option<Vec<u8>> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    keep_mounts_apart(cmd);
    let mut group = Group::spawn(cmd).ok()?;
    let ended = group.wait_for(timeout);
    let mut out = Vec::new();
    if let (true, Some(stdout)) = (ended, group.child().stdout.as_mut()) {
        stdout.read_to_end(&mut out).ok()?;
    }
    let status = group.end().ok()?;
    (ended && status.success()).then_some(out)
}

/// Start `cmd` in a new mount namespace whose mounts are all private, so
/// that none of its mounts reaches the caller's. A caller that may not make
/// one (without CAP_SYS_ADMIN) starts it where it is: such a tool cannot
/// mount there either. The namespace is checked to be new before its
/// propagation is changed; if it is not, the tool does not start.
fn keep_mounts_apart(cmd: &mut Command) {
    let Ok(before) = std::fs::metadata("/proc/self/ns/mnt").map(|m| m.ino()) else {
        return;
    };
    // SAFETY: the closure runs between fork and exec and makes only raw
    // syscalls (unshare, stat, mount) on static strings and a stack buffer:
    // async-signal-safe, no allocation.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Ok(());
            }
            let mut st: libc::stat = std::mem::zeroed();
            if libc::stat(c"/proc/self/ns/mnt".as_ptr(), &mut st) != 0 || st.st_ino == before {
                return Err(std::io::Error::from_raw_os_error(libc::EEXIST));
            }
            let flags = libc::MS_REC | libc::MS_PRIVATE;
            let root = c"/".as_ptr();
            if libc::mount(
                std::ptr::null(),
                root,
                std::ptr::null(),
                flags,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_answers_from_a_mount_namespace_of_its_own() {
        let mine = std::fs::read_link("/proc/self/ns/mnt").unwrap();
        let mut cmd = Command::new("readlink");
        cmd.arg("/proc/self/ns/mnt");
        let out = answer(&mut cmd, Duration::from_secs(10)).expect("readlink answers");
        let theirs = String::from_utf8(out).unwrap();
        // CAP_SYS_ADMIN (bit 21) in the effective set makes a new one.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let caps = status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .unwrap();
        let privileged = u64::from_str_radix(caps.trim(), 16).unwrap() & (1 << 21) != 0;
        assert_eq!(
            theirs.trim() != mine.to_string_lossy(),
            privileged,
            "{theirs:?} against {mine:?}"
        );
    }

    #[test]
    fn a_tool_that_hangs_is_killed_and_gives_no_answer() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        assert_eq!(answer(&mut cmd, Duration::from_millis(200)), None);
    }

    #[test]
    fn a_tool_that_fails_gives_no_answer() {
        assert_eq!(
            answer(&mut Command::new("false"), Duration::from_secs(10)),
            None
        );
    }
}
