//! A small rtnetlink client, written by hand over libc: create a veth pair,
//! move a link to another network namespace, set a link up, add an IPv4
//! or IPv6 address, and read link events. Each request waits for the kernel's
//! acknowledgement with a bounded wait.
//!
//! A request acts on the namespace the socket was opened in, which may not
//! be the sender's (a helper may use its parent's socket): a socket for
//! requests is checked by the guard when it is opened, and the sender once
//! more right before each request.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;

use crate::guard;
use crate::kind::NsType;

const NLMSG_HDRLEN: usize = 16;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_GETLINK: u16 = 18;
const IFLA_IFNAME: u16 = 3;
const IFLA_OPERSTATE: u16 = 16;
/// IFLA_OPERSTATE's value for a link that is up (RFC 2863's "up").
pub const IF_OPER_UP: u8 = 6;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_PID: u16 = 19;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
/// ifa_flags: no duplicate address detection, so that an IPv6 address is
/// usable at once instead of tentative.
const IFA_F_NODAD: u8 = 0x02;
/// The multicast group of link events.
pub const RTMGRP_LINK: u32 = 0x1;
/// How long to wait for one acknowledgement.
const ACK_WAIT: Duration = Duration::from_secs(2);

/// Where to move a link: a network namespace by descriptor, or the one of a
/// process by pid (as the caller's pid namespace numbers it).
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Fd(RawFd),
    Pid(i32),
}

/// A message being built: header, fixed part, then attributes.
struct Msg(Vec<u8>);

impl Msg {
    fn new(ty: u16, flags: u16) -> Msg {
        let mut b = vec![0u8; NLMSG_HDRLEN];
        b[4..6].copy_from_slice(&ty.to_ne_bytes());
        b[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        b[8..12].copy_from_slice(&1u32.to_ne_bytes());
        Msg(b)
    }

    fn pad(&mut self) {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }

    /// struct ifinfomsg: family, pad, type, index, flags, change.
    fn ifinfo(&mut self, index: i32, flags: u32, change: u32) {
        ifinfo_into(&mut self.0, index, flags, change);
    }

    /// struct ifaddrmsg: family, prefixlen, flags, scope, index.
    fn ifaddr(&mut self, family: u8, prefix: u8, flags: u8, index: u32) {
        self.0.extend_from_slice(&[family, prefix, flags, 0]);
        self.0.extend_from_slice(&index.to_ne_bytes());
    }

    fn attr(&mut self, ty: u16, data: &[u8]) {
        let len = (4 + data.len()) as u16;
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.pad();
    }

    /// Open a nested attribute; returns where its length goes.
    fn begin(&mut self, ty: u16) -> usize {
        let at = self.0.len();
        self.0.extend_from_slice(&0u16.to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        at
    }

    fn end(&mut self, at: usize) {
        self.pad();
        let len = (self.0.len() - at) as u16;
        self.0[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.pad();
        let len = self.0.len() as u32;
        self.0[0..4].copy_from_slice(&len.to_ne_bytes());
        self.0
    }
}

fn ifinfo_into(buf: &mut Vec<u8>, index: i32, flags: u32, change: u32) {
    buf.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
    buf.extend_from_slice(&index.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&change.to_ne_bytes());
}

fn name_bytes(name: &str) -> Result<Vec<u8>, Errno> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(['/', '\0']) {
        return Err(Errno::EINVAL);
    }
    let mut v = name.as_bytes().to_vec();
    v.push(0);
    Ok(v)
}

/// The message to create the veth pair `name` / `peer`.
fn veth_msg(name: &str, peer: &str) -> Result<Vec<u8>, Errno> {
    let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.ifinfo(0, 0, 0);
    m.attr(IFLA_IFNAME, &name_bytes(name)?);
    let info = m.begin(IFLA_LINKINFO);
    m.attr(IFLA_INFO_KIND, b"veth\0");
    let data = m.begin(IFLA_INFO_DATA);
    let p = m.begin(VETH_INFO_PEER);
    m.ifinfo(0, 0, 0);
    m.attr(IFLA_IFNAME, &name_bytes(peer)?);
    m.end(p);
    m.end(data);
    m.end(info);
    Ok(m.finish())
}

/// A NETLINK_ROUTE socket, bound in the network namespace it was opened in.
pub struct Rtnl {
    fd: OwnedFd,
    /// Whether the guard found, when the socket was opened, that its
    /// namespace (the opener's) was not the one the probe started in.
    may_change: bool,
}

impl Rtnl {
    /// Open a socket for requests that change links and addresses: the
    /// caller's namespace, where the socket will act, is checked first.
    pub fn open() -> Result<Rtnl, Errno> {
        guard::ensure(NsType::Net)?;
        let mut sock = Rtnl::bound(0)?;
        sock.may_change = true;
        Ok(sock)
    }

    /// Open a socket that only listens to the multicast `groups`; it may
    /// send no request.
    pub fn subscribe(groups: u32) -> Result<Rtnl, Errno> {
        Rtnl::bound(groups)
    }

    fn bound(groups: u32) -> Result<Rtnl, Errno> {
        // SAFETY: socket(2) takes integers and returns a new descriptor.
        let fd = Errno::result(unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        })?;
        // SAFETY: the kernel just returned this descriptor; nothing else owns it.
        let sock = Rtnl {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            may_change: false,
        };
        // SAFETY: sockaddr_nl is plain old data; all zeroes is valid.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = groups;
        // SAFETY: bind reads the sockaddr_nl we own, of the size we pass.
        Errno::result(unsafe {
            libc::bind(
                fd,
                std::ptr::addr_of!(addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        })?;
        Ok(sock)
    }

    /// Send one request and wait for its acknowledgement. Every request
    /// this module sends creates or changes a link or an address.
    fn request(&self, msg: &[u8]) -> Result<(), Errno> {
        if !self.may_change {
            return Err(Errno::EBADF);
        }
        // The socket's namespace was checked when it was opened; the sender
        // (perhaps a helper that inherited the socket) is checked now.
        guard::ensure(NsType::Net)?;
        self.send(msg)?;
        let deadline = std::time::Instant::now() + ACK_WAIT;
        loop {
            let buf = self.recv(deadline)?;
            for (ty, body) in messages(&buf) {
                if let Some(code) = error_code(ty, body) {
                    return if code == 0 {
                        Ok(())
                    } else {
                        Err(Errno::from_raw(-code))
                    };
                }
            }
        }
    }

    /// The RFC 2863 operational state of the link `index` (IFLA_OPERSTATE),
    /// asked of the kernel: a request that changes nothing.
    pub fn operstate(&self, index: u32) -> Result<Option<u8>, Errno> {
        let mut m = Msg::new(RTM_GETLINK, 0);
        m.ifinfo(index as i32, 0, 0);
        self.send(&m.finish())?;
        let deadline = std::time::Instant::now() + ACK_WAIT;
        loop {
            let buf = self.recv(deadline)?;
            for (ty, body) in messages(&buf) {
                match link_event(ty, body) {
                    Some(ev) if ev.index == index as i32 => return Ok(ev.operstate),
                    _ => match error_code(ty, body) {
                        Some(code) if code != 0 => return Err(Errno::from_raw(-code)),
                        _ => {}
                    },
                }
            }
        }
    }

    /// Send one whole message.
    fn send(&self, msg: &[u8]) -> Result<(), Errno> {
        // SAFETY: send reads `msg.len()` bytes of the slice we own.
        let n = Errno::result(unsafe {
            libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0)
        })?;
        if n as usize != msg.len() {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Receive one datagram, waiting until `deadline` at most (ETIMEDOUT).
    pub fn recv(&self, deadline: std::time::Instant) -> Result<Vec<u8>, Errno> {
        crate::sys::pipe::await_readable(self.fd.as_raw_fd(), deadline)?;
        let mut buf = vec![0u8; 16384];
        // SAFETY: recv writes at most `buf.len()` bytes into the buffer we own.
        let n = Errno::result(unsafe {
            libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0)
        })?;
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// Receive one datagram if one is queued now, without waiting.
    pub fn try_recv(&self) -> Result<Option<Vec<u8>>, Errno> {
        let mut buf = vec![0u8; 16384];
        // SAFETY: recv writes at most `buf.len()` bytes into the buffer we own.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        match Errno::result(n) {
            Ok(n) => {
                buf.truncate(n as usize);
                Ok(Some(buf))
            }
            Err(Errno::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Create the veth pair `name` / `peer` in this socket's namespace.
    pub fn create_veth(&self, name: &str, peer: &str) -> Result<(), Errno> {
        self.request(&veth_msg(name, peer)?)
    }

    /// Move the link `index` to the caller's own network namespace, named
    /// by a descriptor of it or by the caller's pid: the destination is the
    /// one request() checks, and no other is accepted (EINVAL).
    pub fn move_link(&self, index: u32, to: Target) -> Result<(), Errno> {
        if !is_own_netns(to) {
            return Err(Errno::EINVAL);
        }
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(index as i32, 0, 0);
        match to {
            Target::Fd(fd) => m.attr(IFLA_NET_NS_FD, &(fd as u32).to_ne_bytes()),
            Target::Pid(pid) => m.attr(IFLA_NET_NS_PID, &(pid as u32).to_ne_bytes()),
        }
        self.request(&m.finish())
    }

    /// Set IFF_UP on the link `index`.
    pub fn set_up(&self, index: u32) -> Result<(), Errno> {
        let up = libc::IFF_UP as u32;
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(index as i32, up, up);
        self.request(&m.finish())
    }

    /// Add the IPv4 or IPv6 address `addr/prefix` to the link `index`; an
    /// IPv6 one with IFA_F_NODAD.
    pub fn add_ip(&self, index: u32, addr: IpAddr, prefix: u8) -> Result<(), Errno> {
        self.request(&addr_msg(index, addr, prefix))
    }
}

/// The RTM_NEWADDR message for `addr/prefix` on the link `index`.
fn addr_msg(index: u32, addr: IpAddr, prefix: u8) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    match addr {
        IpAddr::V4(a) => {
            m.ifaddr(libc::AF_INET as u8, prefix, 0, index);
            m.attr(IFA_LOCAL, &a.octets());
            m.attr(IFA_ADDRESS, &a.octets());
        }
        IpAddr::V6(a) => {
            m.ifaddr(libc::AF_INET6 as u8, prefix, IFA_F_NODAD, index);
            m.attr(IFA_LOCAL, &a.octets());
            m.attr(IFA_ADDRESS, &a.octets());
        }
    }
    m.finish()
}

/// Whether `to` names the caller's own network namespace.
fn is_own_netns(to: Target) -> bool {
    match to {
        Target::Pid(pid) => pid == nix::unistd::getpid().as_raw(),
        Target::Fd(fd) => {
            // SAFETY: the caller keeps `fd` open for the whole call.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let Ok(st) = nix::sys::stat::fstat(borrowed) else {
                return false;
            };
            crate::view::ns::current(NsType::Net)
                .is_some_and(|own| own.ino == st.st_ino && own.dev == st.st_dev)
        }
    }
}

/// The index of the link `name` in the caller's network namespace (ENODEV).
pub fn index_of(name: &str) -> Result<u32, Errno> {
    nix::net::if_::if_nametoindex(name).map_err(|_| Errno::ENODEV)
}

/// The code of an NLMSG_ERROR message (0: an acknowledgement, else -errno).
fn error_code(ty: u16, body: &[u8]) -> Option<i32> {
    (ty == NLMSG_ERROR && body.len() >= 4)
        .then(|| i32::from_ne_bytes([body[0], body[1], body[2], body[3]]))
}

/// The (type, body) of each netlink message in one datagram.
pub fn messages(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let len = u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            break;
        }
        let ty = u16::from_ne_bytes([buf[at + 4], buf[at + 5]]);
        out.push((ty, &buf[at + NLMSG_HDRLEN..at + len]));
        at += (len + 3) & !3;
    }
    out
}

/// One link event: the message type, the link's index, name, flags and
/// operational state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    pub ty: u16,
    pub index: i32,
    pub name: Option<String>,
    pub flags: u32,
    pub operstate: Option<u8>,
}

/// Read a link event from the body of an RTM_NEWLINK or RTM_DELLINK message.
pub fn link_event(ty: u16, body: &[u8]) -> Option<LinkEvent> {
    if body.len() < 16 || (ty != RTM_NEWLINK && ty != RTM_DELLINK) {
        return None;
    }
    let index = i32::from_ne_bytes([body[4], body[5], body[6], body[7]]);
    let flags = u32::from_ne_bytes([body[8], body[9], body[10], body[11]]);
    let (mut name, mut operstate) = (None, None);
    let mut at = 16;
    while at + 4 <= body.len() {
        let len = u16::from_ne_bytes([body[at], body[at + 1]]) as usize;
        let aty = u16::from_ne_bytes([body[at + 2], body[at + 3]]) & 0x3fff;
        if len < 4 || at + len > body.len() {
            break;
        }
        if aty == IFLA_IFNAME {
            let raw = &body[at + 4..at + len];
            let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
            name = Some(String::from_utf8_lossy(&raw[..end]).into_owned());
        }
        if aty == IFLA_OPERSTATE && len > 4 {
            operstate = Some(body[at + 4]);
        }
        at += (len + 3) & !3;
    }
    Some(LinkEvent {
        ty,
        index,
        name,
        flags,
        operstate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_message_nests_the_peer() {
        let m = veth_msg("nsc0", "nsc1").unwrap();
        assert!(m.len().is_multiple_of(4));
        let len = u32::from_ne_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(len, m.len());
        let parsed = messages(&m);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0, RTM_NEWLINK);
        let ev = link_event(RTM_NEWLINK, parsed[0].1).unwrap();
        assert_eq!(ev.name.as_deref(), Some("nsc0"));
        assert!(m.windows(5).any(|w| w == b"veth\0"));
        assert!(m.windows(5).any(|w| w == b"nsc1\0"));
    }

    #[test]
    fn an_ipv6_address_skips_dad() {
        let m = addr_msg(3, "fd00:200:1::1".parse().unwrap(), 64);
        let body = messages(&m)[0].1;
        assert_eq!(body[0], libc::AF_INET6 as u8);
        assert_eq!((body[1], body[2]), (64, IFA_F_NODAD));
        assert_eq!(u32::from_ne_bytes([body[4], body[5], body[6], body[7]]), 3);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(name_bytes(""), Err(Errno::EINVAL));
        assert_eq!(name_bytes("a-name-far-too-long"), Err(Errno::EINVAL));
        assert_eq!(name_bytes("a/b"), Err(Errno::EINVAL));
        assert_eq!(name_bytes("ok").unwrap(), b"ok\0");
    }

    #[test]
    fn a_link_event_carries_the_operational_state() {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(7, libc::IFF_UP as u32, 0);
        m.attr(IFLA_OPERSTATE, &[IF_OPER_UP]);
        let m = m.finish();
        let ev = link_event(RTM_NEWLINK, messages(&m)[0].1).unwrap();
        assert_eq!((ev.index, ev.operstate), (7, Some(IF_OPER_UP)));
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(7, 0, 0);
        let m = m.finish();
        assert_eq!(
            link_event(RTM_NEWLINK, messages(&m)[0].1)
                .unwrap()
                .operstate,
            None
        );
    }

    #[test]
    fn truncated_messages_are_dropped() {
        assert!(messages(&[1, 2, 3]).is_empty());
        assert!(link_event(RTM_NEWLINK, &[0; 8]).is_none());
    }
}
