//! Network steps: bringing a link up, and the steps of plan::net (carried
//! out here or in the modules beside this one).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use serde_json::json;

use super::{sock, veth};
use crate::guard;
use crate::kind::NsType;
use crate::plan::net::{check_sysctl, NetStep, Sysctl};
use crate::step::Extra;

/// A socket for the interface ioctls, and an ifreq naming `name`.
fn ifreq(name: &str) -> Result<(OwnedFd, libc::ifreq), Errno> {
    if name.len() >= libc::IFNAMSIZ {
        return Err(Errno::EINVAL);
    }
    // SAFETY: socket(2) takes integers and returns a new descriptor.
    let fd = Errno::result(unsafe {
        libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
    })?;
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    Ok((sock, req))
}

/// The interface flags (IFF_*) of the link `name` of the caller's namespace.
pub fn link_flags(name: &str) -> Result<libc::c_int, Errno> {
    let (sock, mut req) = ifreq(name)?;
    // SAFETY: SIOCGIFFLAGS reads and writes the ifreq we own.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: after SIOCGIFFLAGS the flags member of the union is the live one.
    Ok(unsafe { req.ifr_ifru.ifru_flags } as u16 as libc::c_int)
}

/// Set IFF_UP on the link `name` of the caller's network namespace.
pub fn link_up(name: &str) -> Result<Extra, Errno> {
    let (sock, mut req) = ifreq(name)?;
    // SAFETY: SIOCGIFFLAGS reads and writes the ifreq we own.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: after SIOCGIFFLAGS the flags member of the union is the live one.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // The socket is the caller's, opened just now: it acts on the links of
    // the caller's network namespace, which must not be the host's.
    guard::ensure(NsType::Net)?;
    // SAFETY: SIOCSIFFLAGS reads the ifreq we own.
    Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) })?;
    Ok(Extra::new())
}

/// The link names in /proc/net/dev, as listed (the reader's namespace).
fn dev_names(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

fn proc_net_dev() -> Result<Extra, Errno> {
    let text = std::fs::read_to_string("/proc/net/dev").map_err(sock::errno)?;
    let mut links = dev_names(&text);
    links.sort();
    let mut e = Extra::new();
    e.insert("links".into(), json!(links));
    Ok(e)
}

fn sysfs_links(path: &str) -> Result<Extra, Errno> {
    let mut names: Vec<String> = std::fs::read_dir(path)
        .map_err(sock::errno)?
        .filter_map(|d| d.ok())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut e = Extra::new();
    e.insert("entries".into(), json!(names));
    Ok(e)
}

/// Write a sysctl of the caller's network namespace and read it back.
fn sysctl(s: &Sysctl) -> Result<Extra, Errno> {
    check_sysctl(&s.name).map_err(|_| Errno::EINVAL)?;
    crate::step::sysctl::write(&s.name, &s.value, NsType::Net)
}

/// Carry out one of the steps of plan::net.
pub fn perform(step: &NetStep, _env: &crate::step::StepEnv) -> Result<Extra, Errno> {
    step.check().map_err(|_| Errno::EINVAL)?;
    carry_out(step)
}

fn carry_out(step: &NetStep) -> Result<Extra, Errno> {
    match step {
        NetStep::Traffic(t) => sock::traffic(t),
        NetStep::SamePort(s) => sock::same_port(s),
        NetStep::AbstractUnix(a) => sock::abstract_unix(a),
        NetStep::VethPair(v) => veth::veth_pair(v),
        NetStep::VethCross(v) => veth::veth_cross(v),
        NetStep::VethPeerGone(v) => super::peer_gone::veth_peer_gone(v),
        NetStep::LinkUpFromNewUserns(l) => veth::link_up_from_new_userns(l),
        NetStep::ProcNetDev(_) => proc_net_dev(),
        NetStep::SysfsLinks(p) => sysfs_links(p),
        NetStep::Sysctl(s) => sysctl(s),
        NetStep::LinkEvents(w) => veth::link_events(w),
        NetStep::SocketNs(_) => super::skns::socket_ns_step(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_names_skip_the_header() {
        let text = "Inter-|   Receive\n face |bytes\n    lo: 0 0\n  nsc0: 1 2\n";
        assert_eq!(dev_names(text), ["lo", "nsc0"]);
    }

    #[test]
    fn loopback_flags_are_readable() {
        assert_ne!(link_flags("lo").unwrap() & libc::IFF_LOOPBACK, 0);
    }
}
