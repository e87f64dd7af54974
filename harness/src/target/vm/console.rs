//! The guest's console: the kernel log as qemu carries it out of ttyS0. The
//! guest marks the start and end of every trial there, so that a WARNING, BUG,
//! Oops, KASAN, UBSAN, general protection fault or refcount warning is tied to
//! the trials that were running when it appeared.

use super::protocol::{DONE, READY, START};
use crate::kmsg::is_alarm;

/// A kernel log line that says the kernel went wrong, and the trials that
/// were running then.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub message: String,
    pub trials: Vec<String>,
}

impl Alarm {
    /// The line as the report lists it.
    pub fn describe(&self) -> String {
        if self.trials.is_empty() {
            format!("{} (while no trial was running)", self.message)
        } else {
            format!(
                "{} (while running {})",
                self.message,
                self.trials.join(", ")
            )
        }
    }
}

/// What the console said so far.
#[derive(Debug, Default)]
pub struct Console {
    /// Every line, as read.
    pub lines: Vec<String>,
    /// Whether the guest's /init said it is running.
    pub ready: bool,
    pub alarms: Vec<Alarm>,
    /// The first line of a kernel panic.
    pub panic: Option<String>,
    /// The trials started and not yet done.
    pub running: Vec<String>,
}

/// The message of a console line: without the `[ 12.345678] ` timestamp.
pub fn message_of(line: &str) -> &str {
    let line = line.trim_end_matches(['\r', '\n']);
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix('[') {
        if let Some((stamp, msg)) = rest.split_once(']') {
            if stamp.trim().parse::<f64>().is_ok() {
                return msg.strip_prefix(' ').unwrap_or(msg);
            }
        }
    }
    line
}

impl Console {
    /// Takes in one line of the console.
    pub fn feed(&mut self, line: &str) {
        let msg = message_of(line).to_string();
        if msg == READY {
            self.ready = true;
        } else if let Some(id) = msg.strip_prefix(START) {
            self.running.push(id.to_string());
        } else if let Some(id) = msg.strip_prefix(DONE) {
            self.running.retain(|r| r != id);
        } else if is_alarm(&msg) {
            if msg.starts_with("Kernel panic") && self.panic.is_none() {
                self.panic = Some(msg.clone());
            }
            self.alarms.push(Alarm {
                message: msg,
                trials: self.running.clone(),
            });
        }
        self.lines
            .push(line.trim_end_matches(['\r', '\n']).to_string());
    }

    /// The last line the kernel printed, for an error that has nothing better.
    pub fn last_line(&self) -> Option<&str> {
        self.lines
            .iter()
            .rev()
            .map(|l| message_of(l))
            .find(|l| !l.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_stripped() {
        assert_eq!(
            message_of("[    4.394030] Run /init as init process\r"),
            "Run /init as init process"
        );
        assert_eq!(message_of("plain"), "plain");
    }

    #[test]
    fn an_alarm_is_tied_to_the_trials_running() {
        let mut c = Console::default();
        for line in [
            "[    1.0] nsconform-guest: ready",
            "[    1.1] nsconform-guest: start uts::a::clone",
            "[    1.2] nsconform-guest: start pid::b::unshare",
            "[    1.3] nsconform-guest: done uts::a::clone",
            "[    1.4] WARNING: CPU: 0 PID: 9 at kernel/pid_namespace.c:1 x+0x1/0x2",
            "[    1.5] nsconform-guest: done pid::b::unshare",
            "[    1.6] refcount_t: underflow; use-after-free.",
        ] {
            c.feed(line);
        }
        assert!(c.ready);
        assert_eq!(c.alarms.len(), 2);
        assert_eq!(c.alarms[0].trials, ["pid::b::unshare"]);
        assert!(c.alarms[1].trials.is_empty());
        assert!(c.alarms[1].describe().contains("no trial was running"));
        assert!(c.panic.is_none());
    }

    #[test]
    fn a_panic_is_noticed() {
        let mut c = Console::default();
        c.feed("[    2.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100");
        assert!(c
            .panic
            .as_deref()
            .unwrap()
            .contains("Attempted to kill init"));
    }
}
