//! The typed helper process: run part of a step in a forked child, whatever
//! namespaces it makes or joins dying with it, and bring its typed answer
//! back within a limit.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::pipe::{self, Pipe};
use super::process::{self, Forked};

/// What a helper sends back: its answer, or the errno it failed with.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply<T> {
    Ok(T),
    Errno(i32),
}

/// Run `body` in a forked child and return what it gave back. A child that
/// takes longer than `limit` is killed: ETIMEDOUT. One that dies without
/// answering gives ECHILD.
pub fn in_child<T: Serialize + DeserializeOwned>(
    limit: Duration,
    body: impl FnOnce() -> Result<T, Errno>,
) -> Result<T, Errno> {
    let answer = Pipe::new()?;
    match process::fork(&[answer.read])? {
        Forked::Child => {
            let reply = match body() {
                Ok(value) => Reply::Ok(value),
                Err(e) => Reply::Errno(e as i32),
            };
            if let Ok(text) = serde_json::to_vec(&reply) {
                let _ = pipe::write_all(answer.write, &text);
            }
            process::exit(0)
        }
        Forked::Parent(pid) => {
            pipe::close(answer.write);
            let deadline = Instant::now() + limit;
            let text = pipe::read_to_end_by(answer.read, deadline);
            pipe::close(answer.read);
            process::reap_within(pid, deadline);
            let text = text.map_err(|_| Errno::ETIMEDOUT)?;
            match serde_json::from_slice(&text).map_err(|_| Errno::ECHILD)? {
                Reply::Ok(value) => Ok(value),
                Reply::Errno(e) => Err(Errno::from_raw(e)),
            }
        }
    }
}
