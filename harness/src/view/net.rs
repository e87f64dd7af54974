//! The `net` section: the links and addresses of the calling process's network namespace.
//!
//! Both come from netlink (`if_nameindex(3)`, `getifaddrs(3)`), which answers
//! for the caller's network namespace; `/sys/class/net` is not used, since a
//! sysfs mount may belong to another one. A few per-namespace sysctls are
//! read from `/proc/sys/net`, which always answers for the reader's
//! network namespace, whatever procfs is mounted there.

use std::collections::BTreeMap;
use std::net::IpAddr;

use nix::ifaddrs::InterfaceAddress;
use nix::net::if_::InterfaceFlags;
use serde::{Deserialize, Serialize};

/// One network link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    pub index: u32,
    pub up: bool,
    pub loopback: bool,
}

/// The family of an address, named as `ip(8)` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Inet,
    Inet6,
}

/// One address of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub link: String,
    pub family: Family,
    pub address: String,
    pub prefix: u8,
}

/// The `net` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetView {
    /// Sorted by index.
    pub links: Vec<Link>,
    /// Sorted by link, then address.
    pub addresses: Vec<Address>,
    /// Per-namespace sysctls, by their path below /proc/sys
    /// (`net/ipv4/ip_forward`, so that a fixture reference can name one),
    /// with the trailing newline removed; one that cannot be read is left out.
    #[serde(default)]
    pub sysctl: BTreeMap<String, String>,
}

/// The sysctls the view reads: each is per network namespace.
pub const SYSCTLS: [&str; 7] = [
    "net/ipv4/ip_forward",
    "net/ipv4/ip_default_ttl",
    "net/ipv4/ip_local_port_range",
    "net/ipv4/tcp_syncookies",
    "net/ipv6/conf/all/forwarding",
    "net/core/somaxconn",
    "net/unix/max_dgram_qlen",
];

/// The path of a sysctl, named `net.ipv4.ip_forward` or
/// `net/ipv4/ip_forward`, under /proc/sys.
pub fn sysctl_path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

/// Read a sysctl of the caller's network namespace.
pub fn read_sysctl(name: &str) -> Option<String> {
    let text = std::fs::read_to_string(sysctl_path(name)).ok()?;
    Some(text.trim_end_matches('\n').to_string())
}

/// The prefix length of a netmask: its number of set bits.
pub fn prefix_len(mask: IpAddr) -> u8 {
    let ones = match mask {
        IpAddr::V4(m) => m.to_bits().count_ones(),
        IpAddr::V6(m) => m.to_bits().count_ones(),
    };
    // At most 128, so this never truncates.
    ones as u8
}

fn ip_of(storage: &nix::sys::socket::SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    storage.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// The IPv4 or IPv6 address of one `getifaddrs` entry; `None` for other
/// families (such as the `AF_PACKET` entry of each link).
pub fn address_of(entry: &InterfaceAddress) -> Option<Address> {
    let ip = ip_of(entry.address.as_ref()?)?;
    let family = if ip.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    let prefix = entry
        .netmask
        .as_ref()
        .and_then(ip_of)
        .map(prefix_len)
        .unwrap_or(0);
    Some(Address {
        link: entry.interface_name.clone(),
        family,
        address: ip.to_string(),
        prefix,
    })
}

/// Assemble the section from the `(name, index)` pairs of `if_nameindex` and
/// the entries of `getifaddrs`; sorts both lists.
pub fn assemble(indexes: Vec<(String, u32)>, entries: &[InterfaceAddress]) -> NetView {
    let flags: BTreeMap<&str, InterfaceFlags> = entries
        .iter()
        .map(|e| (e.interface_name.as_str(), e.flags))
        .collect();
    let mut links: Vec<Link> = indexes
        .into_iter()
        .map(|(name, index)| {
            let f = flags
                .get(name.as_str())
                .copied()
                .unwrap_or(InterfaceFlags::empty());
            let up = f.contains(InterfaceFlags::IFF_UP);
            let loopback = f.contains(InterfaceFlags::IFF_LOOPBACK);
            Link {
                name,
                index,
                up,
                loopback,
            }
        })
        .collect();
    links.sort_by_key(|l| l.index);
    let mut addresses: Vec<Address> = entries.iter().filter_map(address_of).collect();
    addresses.sort_by(|a, b| (&a.link, &a.address).cmp(&(&b.link, &b.address)));
    NetView {
        links,
        addresses,
        sysctl: BTreeMap::new(),
    }
}

fn read_indexes() -> Vec<(String, u32)> {
    let Ok(interfaces) = nix::net::if_::if_nameindex() else {
        return Vec::new();
    };
    interfaces
        .iter()
        .map(|i| (i.name().to_string_lossy().into_owned(), i.index()))
        .collect()
}

/// Observe the `net` section of the calling process; empty lists if netlink fails.
pub fn observe() -> NetView {
    let entries: Vec<InterfaceAddress> = nix::ifaddrs::getifaddrs()
        .map(|it| it.collect())
        .unwrap_or_default();
    let mut view = assemble(read_indexes(), &entries);
    view.sysctl = SYSCTLS
        .iter()
        .filter_map(|n| Some((n.to_string(), read_sysctl(n)?)))
        .collect();
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::SockaddrStorage;
    use rstest::rstest;
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};

    fn storage(ip: &str) -> SockaddrStorage {
        match SocketAddr::new(ip.parse().unwrap(), 0) {
            SocketAddr::V4(a) => SockaddrStorage::from(SocketAddrV4::new(*a.ip(), 0)),
            SocketAddr::V6(a) => SockaddrStorage::from(SocketAddrV6::new(*a.ip(), 0, 0, 0)),
        }
    }

    fn entry(name: &str, flags: InterfaceFlags, addr: Option<(&str, &str)>) -> InterfaceAddress {
        InterfaceAddress {
            interface_name: name.into(),
            flags,
            address: addr.map(|(a, _)| storage(a)),
            netmask: addr.map(|(_, m)| storage(m)),
            broadcast: None,
            destination: None,
        }
    }

    #[rstest]
    #[case("255.255.255.0", 24)]
    #[case("255.0.0.0", 8)]
    #[case("0.0.0.0", 0)]
    #[case("ffff:ffff:ffff:ffff::", 64)]
    #[case("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128)]
    fn prefix_of_mask(#[case] mask: &str, #[case] expected: u8) {
        assert_eq!(prefix_len(mask.parse().unwrap()), expected);
    }

    #[test]
    fn assembles_sorted_links_and_addresses() {
        let lo = InterfaceFlags::IFF_UP | InterfaceFlags::IFF_LOOPBACK;
        let entries = [
            entry("eth0", InterfaceFlags::empty(), None),
            entry("lo", lo, None),
            entry(
                "lo",
                lo,
                Some(("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            ),
            entry("lo", lo, Some(("127.0.0.1", "255.0.0.0"))),
            entry(
                "eth0",
                InterfaceFlags::empty(),
                Some(("10.0.0.2", "255.255.255.0")),
            ),
        ];
        let view = assemble(
            vec![("eth0".into(), 2), ("lo".into(), 1), ("dummy0".into(), 3)],
            &entries,
        );
        let links: Vec<(&str, u32, bool, bool)> = view
            .links
            .iter()
            .map(|l| (l.name.as_str(), l.index, l.up, l.loopback))
            .collect();
        assert_eq!(
            links,
            [
                ("lo", 1, true, true),
                ("eth0", 2, false, false),
                ("dummy0", 3, false, false)
            ]
        );
        let addrs: Vec<(&str, Family, &str, u8)> = view
            .addresses
            .iter()
            .map(|a| (a.link.as_str(), a.family, a.address.as_str(), a.prefix))
            .collect();
        assert_eq!(
            addrs,
            [
                ("eth0", Family::Inet, "10.0.0.2", 24),
                ("lo", Family::Inet, "127.0.0.1", 8),
                ("lo", Family::Inet6, "::1", 128),
            ]
        );
    }

    #[test]
    fn family_serializes_as_ip_names() {
        assert_eq!(serde_json::to_string(&Family::Inet6).unwrap(), r#""inet6""#);
    }

    #[test]
    fn observes_loopback() {
        let view = observe();
        assert!(view.links.iter().any(|l| l.loopback));
    }

    #[test]
    fn sysctl_names_become_paths() {
        assert_eq!(
            sysctl_path("net.ipv6.conf.all.forwarding"),
            "/proc/sys/net/ipv6/conf/all/forwarding"
        );
    }

    #[test]
    fn observes_ttl() {
        assert_eq!(
            observe()
                .sysctl
                .get("net/ipv4/ip_default_ttl")
                .map(|v| !v.is_empty()),
            Some(true)
        );
    }
}
