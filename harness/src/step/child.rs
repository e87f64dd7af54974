//! Running part of a step in a forked child, whatever namespaces it makes
//! or joins dying with it, and bringing its answer back within a limit.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde_json::{json, Value};

use super::Extra;
use crate::sys::pipe::{self, Pipe};
use crate::sys::process::{self, Forked};

/// Run `body` in a forked child and return what it gave back. A child that
/// takes longer than `limit` is killed: ETIMEDOUT. One that dies without
/// answering gives ECHILD.
pub fn in_child(
    limit: Duration,
    body: impl FnOnce() -> Result<Extra, Errno>,
) -> Result<Extra, Errno> {
    let answer = Pipe::new()?;
    match process::fork(&[answer.read])? {
        Forked::Child => {
            let reply = match body() {
                Ok(extra) => json!({ "ok": extra }),
                Err(e) => json!({ "errno": e as i32 }),
            };
            let _ = pipe::write_all(answer.write, reply.to_string().as_bytes());
            process::exit(0)
        }
        Forked::Parent(pid) => {
            pipe::close(answer.write);
            let deadline = Instant::now() + limit;
            let text = pipe::read_to_end_by(answer.read, deadline);
            pipe::close(answer.read);
            process::reap_within(pid, deadline);
            let text = text.map_err(|_| Errno::ETIMEDOUT)?;
            let reply: Value = serde_json::from_slice(&text).map_err(|_| Errno::ECHILD)?;
            match (reply.get("ok"), reply.get("errno").and_then(Value::as_i64)) {
                (Some(Value::Object(extra)), _) => Ok(extra.clone()),
                (_, Some(e)) => Err(Errno::from_raw(e as i32)),
                _ => Err(Errno::EIO),
            }
        }
    }
}
