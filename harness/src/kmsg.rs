//! The kernel log: where `/dev/kmsg` is readable, the records a run caused
//! that show the kernel went wrong (WARNING, BUG, Oops, KASAN, UBSAN) are
//! kept for the report, and they fail the run.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;

use regex::Regex;

/// A reader of the kernel log positioned at the end when the run started.
pub struct KernelLog {
    file: File,
}

/// Whether a log message says the kernel went wrong.
pub fn is_alarm(message: &str) -> bool {
    static PATTERN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        Regex::new(
            r"^(WARNING:|BUG:|Oops|kernel BUG at|general protection fault|UBSAN:|KASAN:|Kernel panic|refcount_t:|.*\bKASAN\b)",
        )
        .expect("a valid pattern")
    });
    re.is_match(message)
}

/// The message part of one `/dev/kmsg` record (`prio,seq,ts,flags;text`).
pub fn message_of(record: &str) -> &str {
    let first = record.lines().next().unwrap_or("");
    first.split_once(';').map_or(first, |(_, text)| text)
}

impl KernelLog {
    /// Open `/dev/kmsg` at its end; `None` where it cannot be read.
    pub fn open() -> Option<KernelLog> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .ok()?;
        file.seek(SeekFrom::End(0)).ok()?;
        Some(KernelLog { file })
    }

    /// The alarming messages logged since the last call.
    pub fn alarms(&mut self) -> Vec<String> {
        let mut found = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let record = String::from_utf8_lossy(&buf[..n]);
                    let message = message_of(&record);
                    if is_alarm(message) {
                        found.push(message.to_string());
                    }
                }
                // EPIPE: records were overwritten before we read them; go on.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "4,1234,5678,-;WARNING: CPU: 1 PID: 42 at kernel/nsproxy.c:100 foo+0x1/0x2",
        true
    )]
    #[case(
        "1,1,1,-;BUG: kernel NULL pointer dereference, address: 0000000000000000",
        true
    )]
    #[case("4,1,1,-;Oops: 0002 [#1] PREEMPT SMP", true)]
    #[case("3,1,1,-;BUG: KASAN: slab-use-after-free in put_pid_ns+0x1/0x2", true)]
    #[case(
        "3,1,1,-;UBSAN: shift-out-of-bounds in kernel/time/namespace.c:10:5",
        true
    )]
    #[case(
        "6,1,1,-;IPv6: ADDRCONF(NETDEV_CHANGE): veth0: link becomes ready",
        false
    )]
    #[case("4,1,1,-;refcount_t: underflow; use-after-free.", true)]
    #[case("6,1,1,-;random: crng init done", false)]
    fn recognises_alarms(#[case] record: &str, #[case] alarm: bool) {
        assert_eq!(is_alarm(message_of(record)), alarm);
    }

    #[test]
    fn continuation_lines_are_not_the_message() {
        let record = "4,9,9,-;WARNING: at x\n SUBSYSTEM=net\n";
        assert_eq!(message_of(record), "WARNING: at x");
    }
}
