//! Messages the probe's processes send to the supervisor, one JSON line each.

use std::os::fd::RawFd;

use serde::{Deserialize, Serialize};

use crate::plan::{DoorResult, GuardFailure};

use super::pipe;

/// One line on the views pipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// A process's view (sections plus `steps`).
    View {
        process: String,
        view: serde_json::Value,
    },
    /// A door syscall failed.
    Door { process: String, result: DoorResult },
    /// A change refused by the isolation guard.
    Guard(GuardFailure),
    /// Something broke that is not the kernel's answer to the case.
    Error { process: String, message: String },
}

impl Message {
    pub fn door_failure(process: &str, syscall: &str, errno: nix::errno::Errno) -> Message {
        Message::Door {
            process: process.to_string(),
            result: DoorResult {
                syscall: Some(syscall.to_string()),
                errno: Some(format!("{errno:?}")),
            },
        }
    }

    pub fn error(process: &str, message: impl Into<String>) -> Message {
        Message::Error {
            process: process.to_string(),
            message: message.into(),
        }
    }
}

/// Send one message as a line. Failure is reported on stderr: the
/// supervisor will notice the missing line.
pub fn send(fd: RawFd, message: &Message) {
    let mut line = match serde_json::to_vec(message) {
        Ok(line) => line,
        Err(e) => {
            eprintln!("nsconform-probe: cannot encode a message: {e}");
            return;
        }
    };
    line.push(b'\n');
    if let Err(e) = pipe::write_all(fd, &line) {
        eprintln!("nsconform-probe: cannot send a message: {e}");
    }
}

/// Split what was read from the views pipe into messages; a line that does
/// not parse becomes an error message quoting it.
pub fn parse_all(bytes: &[u8]) -> Vec<Message> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| {
                let shown: String = line.chars().take(200).collect();
                Message::error("probe", format!("garbled message ({e}): {shown}"))
            })
        })
        .collect()
}
