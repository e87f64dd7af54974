//! What a process does right after it entered new namespaces it created,
//! and a refusal of the isolation guard before any step ran.

use super::{offsets, prepare, Ctx};
use crate::guard;
use crate::kind::NsType;
use crate::sys::message::Message;

/// Report a change refused by the isolation guard, before any step ran.
pub(super) fn refused(who: &str, ty: NsType, message: String) -> bool {
    guard::at(who, None);
    guard::refuse(ty, message);
    false
}

/// What a process does right after it entered new namespaces it created:
/// write the time offsets, then cut mount propagation. Reports and returns
/// false on failure.
pub fn settle(ctx: &Ctx, who: &str) -> bool {
    if let Some(time) = &ctx.plan.namespaces.time {
        if time.has_offsets() {
            if let Err(msg) = ctx.origin.check_link(NsType::Time, "time_for_children") {
                return refused(who, NsType::Time, msg);
            }
            if let Err(e) = offsets::write(time) {
                ctx.door_failed(who, "write timens_offsets", e);
                return false;
            }
        }
    }
    if ctx.plan.namespaces.mnt.is_some() {
        if let Err(msg) = ctx.origin.check(NsType::Mnt) {
            return refused(who, NsType::Mnt, msg);
        }
    }
    if let Err(msg) = prepare::mount_namespace(ctx.plan) {
        ctx.send(&Message::error(who, msg));
        return false;
    }
    true
}
