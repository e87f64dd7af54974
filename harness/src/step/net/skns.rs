//! SIOCGSKNS: the network namespace a socket belongs to is the one it was
//! made in, whatever namespace its creator moves to later.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use serde_json::Value;

use crate::kind::NsType;
use crate::step::Extra;
use crate::sys::helper::in_child;
use crate::sys::ns::{flags_of, ns_at, ns_of_fd, open, setns_fd, unshare, DEADLINE};
use crate::view::ns::NsId;

/// `SIOCGSKNS` from linux/sockios.h (4.9).
const SIOCGSKNS: u64 = 0x894C;

fn udp_socket() -> Result<OwnedFd, Errno> {
    socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// Which namespace the socket names: `original`, `new`, another, or the errno.
fn socket_ns(sock: &OwnedFd, original: NsId, new: Option<NsId>) -> Value {
    // SAFETY: SIOCGSKNS takes no argument and returns a new descriptor.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGSKNS as _) };
    let fd = match Errno::result(ret) {
        // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
        Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
        Err(e) => return format!("{e:?}").into(),
    };
    match ns_of_fd(&fd) {
        Ok(id) if id == original => "original".into(),
        Ok(id) if Some(id) == new => "new".into(),
        Ok(_) => "other".into(),
        Err(e) => format!("{e:?}").into(),
    }
}

fn across_namespaces() -> Result<Extra, Errno> {
    let own = open("/proc/self/ns/net")?;
    let original = ns_of_fd(&own)?;
    let first = udp_socket()?;
    let mut extra = Extra::new();
    extra.insert("first".into(), socket_ns(&first, original, None));
    unshare(flags_of(&[NsType::Net]))?;
    let new = ns_at("/proc/self/ns/net")?;
    extra.insert(
        "first_after_unshare".into(),
        socket_ns(&first, original, Some(new)),
    );
    let second = udp_socket()?;
    extra.insert("second".into(), socket_ns(&second, original, Some(new)));
    setns_fd(own.as_raw_fd(), flags_of(&[NsType::Net]))?;
    let back = ns_at("/proc/self/ns/net")? == original;
    extra.insert("creator_back".into(), back.into());
    extra.insert(
        "second_after_setns".into(),
        socket_ns(&second, original, Some(new)),
    );
    Ok(extra)
}

/// In a child: a socket here, a new network namespace and a socket there,
/// then setns back.
pub fn socket_ns_step() -> Result<Extra, Errno> {
    in_child(DEADLINE, across_namespaces)
}
