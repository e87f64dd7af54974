//! Socket steps: loopback traffic, one port bound in two namespaces, and
//! abstract unix sockets, which belong to a network namespace.
//!
//! Every bind, listen and connect here is preceded by the guard: in the
//! network namespace the probe started in it would take the host's ports
//! and abstract names, or talk to the host's services.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};
use std::time::Duration;

use nix::errno::Errno;
use serde_json::{json, Value};

use super::child;
use crate::guard;
use crate::kind::NsType;
use crate::plan::net::{AbstractUnix, Proto, SamePort, Traffic};
use crate::step::Extra;
use crate::sys::errno::outcome;

/// The payload every traffic step sends.
pub const PAYLOAD: &str = "nsconform";
/// How long one receive may wait.
const RECV_WAIT: Duration = Duration::from_secs(2);

pub use crate::sys::errno::io_errno as errno;

/// Receive one datagram on `server`, bounded; (payload, source address).
pub fn recv_udp(server: &UdpSocket) -> Result<(String, IpAddr), Errno> {
    server.set_read_timeout(Some(RECV_WAIT)).map_err(errno)?;
    let mut buf = [0u8; 64];
    let (n, from) = server.recv_from(&mut buf).map_err(errno)?;
    Ok((String::from_utf8_lossy(&buf[..n]).into_owned(), from.ip()))
}

/// Accept one connection on `listener` and read what it sends, bounded;
/// (payload, peer address).
pub fn accept_tcp(listener: &TcpListener) -> Result<(String, IpAddr), Errno> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(listener);
    crate::sys::pipe::await_readable(fd, std::time::Instant::now() + RECV_WAIT)?;
    let (mut conn, from) = listener.accept().map_err(errno)?;
    conn.set_read_timeout(Some(RECV_WAIT)).map_err(errno)?;
    let mut buf = Vec::new();
    conn.read_to_end(&mut buf).map_err(errno)?;
    Ok((String::from_utf8_lossy(&buf).into_owned(), from.ip()))
}

/// Bind a UDP socket at `at` in the caller's namespace.
pub fn bind_udp(at: SocketAddr) -> Result<UdpSocket, Errno> {
    guard::ensure(NsType::Net)?;
    UdpSocket::bind(at).map_err(errno)
}

/// Listen on TCP at `at` in the caller's namespace.
pub fn bind_tcp(at: SocketAddr) -> Result<TcpListener, Errno> {
    guard::ensure(NsType::Net)?;
    TcpListener::bind(at).map_err(errno)
}

/// Connect to `to`, bounded, and send the payload.
pub fn send_tcp(to: SocketAddr) -> Result<(), Errno> {
    guard::ensure(NsType::Net)?;
    let mut conn = TcpStream::connect_timeout(&to, RECV_WAIT).map_err(errno)?;
    conn.write_all(PAYLOAD.as_bytes()).map_err(errno)
}

/// Send the payload in one datagram to `to`, from an address of `from`.
pub fn send_udp(from: IpAddr, to: SocketAddr) -> Result<(), Errno> {
    let sock = bind_udp(SocketAddr::new(from, 0))?;
    sock.send_to(PAYLOAD.as_bytes(), to).map_err(errno)?;
    Ok(())
}

fn seen(payload: String, from: IpAddr) -> Extra {
    let mut e = Extra::new();
    e.insert("payload".into(), payload.into());
    e.insert("from".into(), from.to_string().into());
    e
}

/// One datagram or connection over loopback, in the caller's namespace.
pub fn traffic(t: &Traffic) -> Result<Extra, Errno> {
    let ip: IpAddr = t.address.parse().map_err(|_| Errno::EINVAL)?;
    let to = SocketAddr::new(ip, t.port);
    let (payload, from) = match t.proto {
        Proto::Udp => {
            let server = bind_udp(to)?;
            send_udp(ip, to)?;
            recv_udp(&server)?
        }
        Proto::Tcp => {
            let listener = bind_tcp(to)?;
            send_tcp(to)?;
            accept_tcp(&listener)?
        }
    };
    Ok(seen(payload, from))
}

/// Bind `port` on every address of the caller's namespace; the socket is
/// returned so that it stays bound.
fn bind_any(proto: Proto, port: u16) -> Result<Box<dyn std::any::Any>, Errno> {
    let at = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
    Ok(match proto {
        Proto::Udp => Box::new(bind_udp(at)?),
        Proto::Tcp => Box::new(bind_tcp(at)?),
    })
}

/// Bind a port here, then in a helper child beside it, then in a helper
/// child in a new namespace.
pub fn same_port(s: &SamePort) -> Result<Extra, Errno> {
    let _held = bind_any(s.proto, s.port)?;
    let (proto, port) = (s.proto, s.port);
    let beside = child::run(false, || outcome(bind_any(proto, port)))?;
    let elsewhere = child::run(true, || outcome(bind_any(proto, port)))?;
    let mut e = Extra::new();
    e.insert("same_netns".into(), beside);
    e.insert("new_netns".into(), elsewhere);
    Ok(e)
}

fn abstract_addr(name: &str) -> Result<UnixAddr, Errno> {
    UnixAddr::from_abstract_name(name.as_bytes()).map_err(errno)
}

/// Connect to the abstract name and report "ok" or the errno.
fn connect(name: &str) -> Value {
    outcome(abstract_addr(name).and_then(|a| {
        guard::ensure(NsType::Net)?;
        UnixStream::connect_addr(&a).map_err(errno)
    }))
}

/// Listen on the abstract name in the caller's namespace.
fn listen_abstract(name: &str) -> Result<UnixListener, Errno> {
    let addr = abstract_addr(name)?;
    guard::ensure(NsType::Net)?;
    UnixListener::bind_addr(&addr).map_err(errno)
}

/// Listen on an abstract name here; connect from the same namespace and
/// from a new one; bind the same name in the new one.
pub fn abstract_unix(a: &AbstractUnix) -> Result<Extra, Errno> {
    let _listener = listen_abstract(&a.name)?;
    let name = a.name.clone();
    let beside = child::run(false, || json!({ "connect": connect(&name) }))?;
    let elsewhere = child::run(true, || {
        let before = connect(&name);
        let bound = listen_abstract(&name);
        json!({ "connect": before, "bind": outcome(bound) })
    })?;
    let mut e = Extra::new();
    e.insert("same_netns".into(), beside);
    e.insert("new_netns".into(), elsewhere);
    Ok(e)
}
