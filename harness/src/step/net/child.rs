//! The net steps' helper children (run through `sys::helper`): an attempt
//! made beside the step or from a new network namespace, reported as one
//! JSON value. A helper whose guard refused a change reports it like any
//! errno; the step then fails as not isolated.

use std::time::Duration;

use nix::errno::Errno;
use serde_json::Value;

use crate::sys::errno;
use crate::sys::helper::{self, Channel, Helper};

/// How long a helper child may take at each wait.
pub const CHILD_WAIT: Duration = Duration::from_secs(4);

/// In the helper: unshare a new network namespace first when `new_net`,
/// then run `body`; a failed unshare is the answer.
fn attempt(new_net: bool, body: impl FnOnce() -> Value) -> Value {
    if new_net {
        if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
            return serde_json::json!({ "unshare": errno::name(e) });
        }
    }
    body()
}

/// Fork a helper (in a new network namespace when `new_net`) that runs
/// `body`, which may say it is ready on its channel.
pub fn spawn(new_net: bool, body: impl FnOnce(&Channel) -> Value) -> Result<Helper<Value>, Errno> {
    helper::spawn(CHILD_WAIT, |ch| Ok(attempt(new_net, || body(ch))))
}

/// Run `body` in a helper child (in a new network namespace when `new_net`)
/// and return what it reported.
pub fn run(new_net: bool, body: impl FnOnce() -> Value) -> Result<Value, Errno> {
    helper::in_child(CHILD_WAIT, || Ok(attempt(new_net, body)))
}
