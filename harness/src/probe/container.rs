//! The probe as a container's process: a runtime door's runtime already
//! made the namespaces, so this process is `inside` from its first
//! instruction. Views go to standard output, and the end of standard input
//! releases it; the supervisor outside reads the one and closes the other.

use std::collections::BTreeMap;

use super::inside;
use crate::door::Ctx;
use crate::guard::{self, Origin};
use crate::kind::NsType;
use crate::plan::{Plan, Process};
use crate::view::ns::NsId;

/// Carry out the steps of `plan` in the namespaces this process is in, and
/// report; returns the exit status.
pub fn run(plan: &Plan) -> i32 {
    let host: BTreeMap<String, NsId> = plan
        .runtime
        .as_ref()
        .and_then(|r| r.host_ns.clone())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let origin = Origin::from_ids(host);
    guard::remember(&origin);
    let body = |ctx: &Ctx| inside::run(ctx);
    let observe = || inside::observe(plan, Process::Unsharer, Vec::new());
    let ctx = Ctx {
        plan,
        origin: &origin,
        views: libc::STDOUT_FILENO,
        release: libc::STDIN_FILENO,
        parent_only: Vec::new(),
        caller: (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
        supervisor: 0,
        body: &body,
        observe: &observe,
    };
    if plan.namespaces.mnt.is_some() {
        let prepared = origin
            .check(NsType::Mnt)
            .and_then(|()| crate::door::prepare::mount_namespace(plan));
        if let Err(message) = prepared {
            ctx.send(&crate::sys::message::Message::error("inside", message));
            return 1;
        }
    }
    inside::run(&ctx)
}
