//! veth steps: a pair made with rtnetlink, one end moved to a second new
//! namespace with traffic sent across, and link events seen by a netlink
//! subscriber.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde_json::{json, Value};

use super::child;
use super::rtnl::{self, index_of, Rtnl, Target, IF_OPER_UP, RTMGRP_LINK, RTM_NEWLINK};
use super::sock::{self, errno};
use crate::plan::net::{LinkEvents, MoveBy, VethCross, VethPair};
use crate::step::Extra;
use crate::sys::errno::outcome;
use crate::sys::helper::Channel;

/// How long a link may take to become operational (IFF_RUNNING).
const RUNNING_WAIT: Duration = Duration::from_secs(2);
/// The most netlink datagrams one step reads.
const MAX_EVENTS: usize = 64;

/// Create a veth pair in the caller's namespace.
pub fn veth_pair(v: &VethPair) -> Result<Extra, Errno> {
    Rtnl::open()?.create_veth(&v.name, &v.peer)?;
    Ok(Extra::new())
}

/// Wait until the link `name` is operational, bounded: IFF_RUNNING and an
/// operational state of up, read again at each link event of the namespace
/// (subscribed to first, so that none is missed), never on a timer.
/// IFF_RUNNING alone also shows while the state is still "unknown", before
/// the kernel's link watch has started the link's queue: a packet sent then
/// is dropped (a first ARP request, retried only a second later).
fn wait_running(name: &str) -> Result<(), Errno> {
    let events = Rtnl::subscribe(RTMGRP_LINK)?;
    let ask = Rtnl::subscribe(0)?;
    let deadline = Instant::now() + RUNNING_WAIT;
    let index = index_of(name)?;
    while super::link::link_flags(name)? & libc::IFF_RUNNING == 0
        || ask.operstate(index)? != Some(IF_OPER_UP)
    {
        events.recv(deadline)?;
    }
    Ok(())
}

/// The links and addresses of the caller's namespace, as the view has them.
fn links_and_addresses() -> Value {
    let view = crate::view::net::observe();
    json!({ "links": view.links, "addresses": view.addresses })
}

/// What one received datagram or connection looked like, or the errno.
fn received(r: Result<(String, IpAddr), Errno>) -> Value {
    match r {
        Ok((payload, from)) => json!({ "payload": payload, "from": from.to_string() }),
        Err(e) => format!("{e:?}").into(),
    }
}

/// The helper child's side of veth_cross: in its new namespace, take the
/// peer end, configure it, wait for the traffic, and report.
fn peer_side(nl: &Rtnl, peer: u32, v: &VethCross, report: &Channel) -> Value {
    let target_fd: Option<OwnedFd>;
    let target = match v.move_by {
        MoveBy::Fd => match std::fs::File::open("/proc/thread-self/ns/net") {
            Ok(f) => {
                target_fd = Some(f.into());
                Target::Fd(target_fd.as_ref().map_or(-1, |f| f.as_raw_fd()))
            }
            Err(e) => return json!({ "open_netns": format!("{:?}", errno(e)) }),
        },
        MoveBy::Pid => Target::Pid(std::process::id() as i32),
    };
    if let Err(e) = nl.move_link(peer, target) {
        return json!({ "move": format!("{e:?}") });
    }
    let (there, prefix) = v.address(false);
    let at = SocketAddr::new(there, v.port);
    let setup = (|| {
        let own = Rtnl::open()?;
        let index = index_of(&v.peer)?;
        own.add_ip(index, there, prefix)?;
        own.set_up(index)?;
        wait_running(&v.peer)?;
        let udp = sock::bind_udp(at)?;
        let tcp = sock::bind_tcp(at)?;
        Ok::<_, Errno>((udp, tcp))
    })();
    let (udp, tcp) = match setup {
        Ok(s) => s,
        Err(e) => return json!({ "move": "ok", "setup": format!("{e:?}") }),
    };
    report.ready();
    let udp_seen = received(sock::recv_udp(&udp));
    let tcp_seen = received(sock::accept_tcp(&tcp));
    let mut out = links_and_addresses();
    out["move"] = "ok".into();
    out["setup"] = "ok".into();
    out["udp"] = udp_seen;
    out["tcp"] = tcp_seen;
    out
}

/// Send one datagram and one connection to the peer end, once it is ready.
fn send_across(v: &VethCross) -> Result<Value, Errno> {
    wait_running(&v.name)?;
    let here = v.address(true).0;
    let to = SocketAddr::new(v.address(false).0, v.port);
    Ok(json!({
        "udp": outcome(sock::send_udp(here, to)),
        "tcp": outcome(sock::send_tcp(to)),
    }))
}

/// Create a veth pair, move the peer end to a helper child's new namespace
/// (by descriptor or pid), address both ends, and send across.
pub fn veth_cross(v: &VethCross) -> Result<Extra, Errno> {
    let nl = Rtnl::open()?;
    nl.create_veth(&v.name, &v.peer)?;
    let (a, b) = (index_of(&v.name)?, index_of(&v.peer)?);
    let (here, prefix) = v.address(true);
    nl.add_ip(a, here, prefix)?;
    nl.set_up(a)?;
    let helper = child::spawn(true, |report| peer_side(&nl, b, v, report))?;
    let mut e = Extra::new();
    // The helper waits for the traffic, so both ends exist while this runs.
    let sent = match helper.wait_ready() {
        Ok(()) => {
            e.insert("here".into(), links_and_addresses());
            e.insert("peer_by_name".into(), outcome(super::link_up(&v.peer)));
            e.insert("peer_by_index".into(), outcome(nl.set_up(b)));
            let (addr, prefix) = v.address(false);
            e.insert(
                "peer_addr_by_index".into(),
                outcome(nl.add_ip(b, addr, prefix)),
            );
            send_across(v).unwrap_or_else(|e| format!("{e:?}").into())
        }
        Err(e) => format!("{e:?}").into(),
    };
    e.insert("sent".into(), sent);
    e.insert("there".into(), helper.finish()?);
    Ok(e)
}

/// From a helper child in a new user namespace, try to bring `link` up.
pub fn link_up_from_new_userns(link: &str) -> Result<Extra, Errno> {
    let name = link.to_string();
    let seen = child::run(false, || {
        match nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER) {
            Ok(()) => outcome(super::link_up(&name)),
            Err(e) => json!({ "unshare": format!("{e:?}") }),
        }
    })?;
    let mut e = Extra::new();
    e.insert("set_up".into(), seen);
    Ok(e)
}

/// The names in RTM_NEWLINK events of one datagram: (all, those up).
fn newlinks(buf: &[u8], all: &mut BTreeSet<String>, up: &mut BTreeSet<String>) {
    for (ty, body) in rtnl::messages(buf) {
        let Some(ev) = rtnl::link_event(ty, body) else {
            continue;
        };
        if ev.ty != RTM_NEWLINK {
            continue;
        }
        let name = ev.name.unwrap_or_else(|| format!("#{}", ev.index));
        if ev.flags & libc::IFF_UP as u32 != 0 {
            up.insert(name.clone());
        }
        all.insert(name);
    }
}

/// Subscribe to link events; let a helper child in a new namespace bring
/// its loopback up (whose events must not arrive here); then act here and
/// read the events, until the expected ones came or two seconds passed.
pub fn link_events(what: &LinkEvents) -> Result<Extra, Errno> {
    let nl = Rtnl::subscribe(RTMGRP_LINK)?;
    let elsewhere = child::run(true, || outcome(super::link_up("lo")))?;
    let mut queued = 0;
    while queued < MAX_EVENTS && nl.try_recv()?.is_some() {
        queued += 1;
    }
    let (want, want_up): (Vec<&str>, Vec<&str>) = match what {
        LinkEvents::LinkUp(name) => {
            super::link_up(name)?;
            (vec![name], vec![name])
        }
        LinkEvents::Veth(v) => {
            Rtnl::open()?.create_veth(&v.name, &v.peer)?;
            (vec![&v.name, &v.peer], vec![])
        }
    };
    let (mut all, mut up) = (BTreeSet::new(), BTreeSet::new());
    let deadline = Instant::now() + RUNNING_WAIT;
    for _ in 0..MAX_EVENTS {
        let done = want.iter().all(|n| all.contains(*n)) && want_up.iter().all(|n| up.contains(*n));
        if done {
            break;
        }
        match nl.recv(deadline) {
            Ok(buf) => newlinks(&buf, &mut all, &mut up),
            Err(Errno::ETIMEDOUT) => break,
            Err(e) => return Err(e),
        }
    }
    let mut e = Extra::new();
    e.insert("elsewhere".into(), elsewhere);
    e.insert("queued_before".into(), queued.into());
    e.insert("newlink".into(), json!(all));
    e.insert("newlink_up".into(), json!(up));
    Ok(e)
}
