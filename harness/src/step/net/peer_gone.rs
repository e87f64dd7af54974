//! `veth_peer_gone`: a veth pair whose peer end lives in a network
//! namespace that is then destroyed goes with it: the kernel unregisters
//! the namespace's devices, and a veth device takes its peer along, so the
//! end left here disappears (an RTM_DELLINK arrives for it).

use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde_json::{json, Value};

use super::child;
use super::rtnl::{self, index_of, Rtnl, Target, RTMGRP_LINK, RTM_DELLINK};
use crate::plan::net::VethPair;
use crate::step::Extra;
use crate::sys::errno::outcome;

/// How long the namespace's cleanup (a kernel work item) may take.
const CLEANUP_WAIT: Duration = Duration::from_secs(8);
/// The most netlink datagrams the wait reads.
const MAX_EVENTS: usize = 256;

/// Whether a datagram holds an RTM_DELLINK for `name`.
fn deletes(buf: &[u8], name: &str) -> bool {
    rtnl::messages(buf).into_iter().any(|(ty, body)| {
        ty == RTM_DELLINK
            && rtnl::link_event(ty, body).is_some_and(|e| e.name.as_deref() == Some(name))
    })
}

/// Wait, bounded, for the RTM_DELLINK of `name`.
fn await_deleted(nl: &Rtnl, name: &str) -> Result<bool, Errno> {
    let deadline = Instant::now() + CLEANUP_WAIT;
    for _ in 0..MAX_EVENTS {
        match nl.recv(deadline) {
            Ok(buf) if deletes(&buf, name) => return Ok(true),
            Ok(_) => continue,
            Err(Errno::ETIMEDOUT) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// The helper: in its new namespace, take the peer end (through the
/// step's rtnetlink socket, still in the step's namespace), say whether it
/// came, and exit once let go, which ends the namespace (nothing else holds it).
fn holder(nl: &Rtnl, index: u32, peer: &str, ch: &crate::sys::helper::Channel) -> Value {
    let moved = outcome(nl.move_link(index, Target::Pid(std::process::id() as i32)));
    let has_peer = index_of(peer).is_ok();
    ch.ready();
    if !ch.wait_go() {
        return json!({"go": "ETIMEDOUT"});
    }
    json!({"moved": moved, "has_peer": has_peer})
}

pub fn veth_peer_gone(v: &VethPair) -> Result<Extra, Errno> {
    let nl = Rtnl::open()?;
    nl.create_veth(&v.name, &v.peer)?;
    let peer = index_of(&v.peer)?;
    let events = Rtnl::subscribe(RTMGRP_LINK)?;
    let helper = child::spawn(true, |ch| holder(&nl, peer, &v.peer, ch))?;
    let mut e = Extra::new();
    e.insert("ready".into(), outcome(helper.wait_ready()));
    e.insert(
        "peer_here_after_move".into(),
        index_of(&v.peer).is_ok().into(),
    );
    e.insert("here_before".into(), index_of(&v.name).is_ok().into());
    helper.go();
    e.insert("there".into(), helper.finish()?);
    e.insert("dellink".into(), await_deleted(&events, &v.name)?.into());
    e.insert("here_after".into(), index_of(&v.name).is_ok().into());
    e.insert("peer_here_after".into(), index_of(&v.peer).is_ok().into());
    Ok(e)
}
