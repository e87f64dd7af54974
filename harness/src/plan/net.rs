//! Steps about the net namespace: what a case may ask a process to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::NsType;

/// A transport protocol over IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

/// One datagram or connection over loopback, inside the caller's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    pub proto: Proto,
    /// A loopback address: `127.0.0.1` or `::1`.
    pub address: String,
    pub port: u16,
}

/// A port to bind in the caller's namespace, then again beside it and in a
/// new namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamePort {
    pub proto: Proto,
    pub port: u16,
}

/// An abstract unix socket name (without the leading NUL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbstractUnix {
    pub name: String,
}

/// A veth pair to create in the caller's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VethPair {
    pub name: String,
    pub peer: String,
}

/// How the moved end of a veth pair names its new namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MoveBy {
    /// IFLA_NET_NS_FD: a descriptor of /proc/thread-self/ns/net.
    Fd,
    /// IFLA_NET_NS_PID: the pid of a process in it.
    Pid,
}

/// A veth pair whose peer end is moved to a second, new namespace made by
/// a helper child; addresses 10.200.<subnet>.1/30 (here) and .2/30 (there)
/// are set, both ends brought up, and one UDP datagram and one TCP
/// connection sent across to `port`. With `ipv6`, the addresses are
/// fd00:200:<subnet>::1/64 and ::2/64 instead (without duplicate address
/// detection, so that they are usable at once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VethCross {
    pub name: String,
    pub peer: String,
    pub move_by: MoveBy,
    pub subnet: u8,
    pub port: u16,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ipv6: bool,
}

impl VethCross {
    /// The address of this end (`true`) or of the peer end, and the prefix.
    pub fn address(&self, here: bool) -> (std::net::IpAddr, u8) {
        let host = if here { 1 } else { 2 };
        if self.ipv6 {
            let a = std::net::Ipv6Addr::new(0xfd00, 0x200, self.subnet.into(), 0, 0, 0, 0, host);
            (a.into(), 64)
        } else {
            let a = std::net::Ipv4Addr::new(10, 200, self.subnet, host as u8);
            (a.into(), 30)
        }
    }
}

/// A net sysctl (`net.ipv4.ip_forward`) to write in the caller's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sysctl {
    pub name: String,
    pub value: String,
}

/// What to do while subscribed to RTMGRP_LINK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkEvents {
    /// Bring this link up.
    LinkUp(String),
    /// Create this veth pair.
    Veth(VethPair),
}

/// A step about the net namespace, written `{"net": {"<name>": {...}}}` in a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NetStep {
    /// Send one UDP datagram or make one TCP connection over loopback.
    Traffic(Traffic),
    /// Bind a port here, then the same port beside it (same namespace) and
    /// in a new namespace, each by a helper child.
    SamePort(SamePort),
    /// Listen on an abstract unix socket; connect to it from the same
    /// namespace and from a new one, and bind the name there.
    AbstractUnix(AbstractUnix),
    /// Create a veth pair with rtnetlink.
    VethPair(VethPair),
    /// Create a veth pair, move one end to a new namespace, and send across.
    VethCross(VethCross),
    /// Create a veth pair, move the peer end to a helper's new namespace,
    /// let the helper exit (ending its namespace), and wait for the end
    /// left here to go too: `moved`, `there.has_peer`, `dellink`, `here_after`.
    VethPeerGone(VethPair),
    /// Try to bring a link up from a helper child in a new user namespace
    /// (which does not own the caller's network namespace).
    LinkUpFromNewUserns(String),
    /// List the link names in /proc/net/dev.
    ProcNetDev(crate::plan::Plain),
    /// List the entries of a sysfs class directory (`/sys/class/net`).
    SysfsLinks(String),
    /// Write a net sysctl in the caller's namespace.
    Sysctl(Sysctl),
    /// Subscribe to link events, let a helper child in a new namespace
    /// bring its loopback up, then act here; report what arrived.
    LinkEvents(LinkEvents),
    /// SIOCGSKNS: a socket made here, and one a child makes after it
    /// unshares a network namespace and setns's back: the namespace each
    /// socket names.
    SocketNs(crate::plan::Plain),
}

/// Whether `name` is a link name the kernel accepts.
fn link_name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() < 16 && !name.contains(['/', ':', ' ', '\0'])
}

fn check_pair(v: &VethPair) -> Result<(), String> {
    if !link_name_ok(&v.name) || !link_name_ok(&v.peer) || v.name == v.peer {
        return Err(format!(
            "veth names {:?} / {:?}: two different names of 1-15 characters without '/', ':' or spaces",
            v.name, v.peer
        ));
    }
    Ok(())
}

impl NetStep {
    /// The step's name, as written in a case.
    pub fn name(&self) -> &'static str {
        match self {
            NetStep::Traffic(_) => "traffic",
            NetStep::SamePort(_) => "same_port",
            NetStep::AbstractUnix(_) => "abstract_unix",
            NetStep::VethPair(_) => "veth_pair",
            NetStep::VethCross(_) => "veth_cross",
            NetStep::VethPeerGone(_) => "veth_peer_gone",
            NetStep::LinkUpFromNewUserns(_) => "link_up_from_new_userns",
            NetStep::ProcNetDev(_) => "proc_net_dev",
            NetStep::SysfsLinks(_) => "sysfs_links",
            NetStep::Sysctl(_) => "sysctl",
            NetStep::LinkEvents(_) => "link_events",
            NetStep::SocketNs(_) => "socket_ns",
        }
    }

    /// The namespace that must be new before this step may run, because it
    /// would change the host otherwise.
    pub fn guarded_by(&self) -> Option<NsType> {
        match self {
            NetStep::ProcNetDev(_) | NetStep::SysfsLinks(_) | NetStep::SocketNs(_) => None,
            _ => Some(NsType::Net),
        }
    }

    /// Refuse absurd arguments (checked when the case is read, and again by
    /// the probe): the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            NetStep::Traffic(t) => match t.address.parse::<std::net::IpAddr>() {
                Ok(ip) if ip.is_loopback() => Ok(()),
                _ => Err(format!("traffic address {:?}: only loopback", t.address)),
            },
            NetStep::AbstractUnix(a) if a.name.is_empty() || a.name.len() > 100 => {
                Err("abstract unix name: 1 to 100 bytes".into())
            }
            NetStep::VethPair(v) | NetStep::VethPeerGone(v) => check_pair(v),
            NetStep::VethCross(v) => check_pair(&VethPair {
                name: v.name.clone(),
                peer: v.peer.clone(),
            }),
            NetStep::LinkUpFromNewUserns(n) if !link_name_ok(n) => Err(format!("link name {n:?}")),
            NetStep::SysfsLinks(p) if !p.starts_with("/sys/") || p.contains("..") => {
                Err(format!("sysfs path {p:?}: a path below /sys without '..'"))
            }
            NetStep::Sysctl(s) => check_sysctl(&s.name),
            NetStep::LinkEvents(LinkEvents::Veth(v)) => check_pair(v),
            NetStep::LinkEvents(LinkEvents::LinkUp(n)) if !link_name_ok(n) => {
                Err(format!("link name {n:?}"))
            }
            _ => Ok(()),
        }
    }
}

/// A sysctl name: `net.` then dot-separated words of letters, digits, `_`
/// and `-`.
pub fn check_sysctl(name: &str) -> Result<(), String> {
    let ok = name.starts_with("net.")
        && name.split('.').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "sysctl {name:?}: a name below net. such as net.ipv4.ip_forward"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn step(json: &str) -> NetStep {
        serde_json::from_str(json).unwrap()
    }

    #[rstest]
    #[case(
        r#"{"traffic": {"proto": "udp", "address": "127.0.0.1", "port": 1}}"#,
        true
    )]
    #[case(r#"{"traffic": {"proto": "tcp", "address": "::1", "port": 1}}"#, true)]
    #[case(
        r#"{"traffic": {"proto": "tcp", "address": "10.0.0.1", "port": 1}}"#,
        false
    )]
    #[case(r#"{"veth_pair": {"name": "a", "peer": "a"}}"#, false)]
    #[case(r#"{"veth_pair": {"name": "nsc0", "peer": "nsc1"}}"#, true)]
    #[case(r#"{"sysctl": {"name": "net.ipv4.ip_forward", "value": "1"}}"#, true)]
    #[case(r#"{"sysctl": {"name": "kernel.hostname", "value": "x"}}"#, false)]
    #[case(r#"{"sysctl": {"name": "net.ipv4/../x", "value": "x"}}"#, false)]
    #[case(r#"{"sysfs_links": "/sys/class/net"}"#, true)]
    #[case(r#"{"sysfs_links": "/sys/../etc"}"#, false)]
    #[case(r#"{"link_events": {"link_up": "lo"}}"#, true)]
    fn checks(#[case] json: &str, #[case] ok: bool) {
        assert_eq!(step(json).check().is_ok(), ok, "{json}");
    }

    #[test]
    fn veth_cross_addresses() {
        let v: NetStep = step(
            r#"{"veth_cross": {"name": "a", "peer": "b", "move_by": "fd", "subnet": 3, "port": 1, "ipv6": true}}"#,
        );
        let NetStep::VethCross(v) = v else {
            panic!("not a veth_cross")
        };
        assert_eq!(v.address(true).0.to_string(), "fd00:200:3::1");
        assert_eq!(v.address(false), ("fd00:200:3::2".parse().unwrap(), 64));
    }

    #[test]
    fn readers_need_no_guard() {
        assert_eq!(step(r#"{"proc_net_dev": {}}"#).guarded_by(), None);
        assert_eq!(
            step(r#"{"same_port": {"proto": "udp", "port": 9}}"#).guarded_by(),
            Some(NsType::Net)
        );
    }
}
