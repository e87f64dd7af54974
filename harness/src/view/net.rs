//! The `net` section: the links and addresses of the calling process's network namespace.
//!
//! Both come from one `getifaddrs(3)`, which asks netlink and so answers for
//! the caller's network namespace; `/sys/class/net` is not used, since a
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

/// The parts of the section, observed one by one when a fixture judges
/// only some of them: links and addresses cost one netlink query of the
/// links and one of the addresses, the sysctls a file each.
pub const PARTS: [&str; 3] = ["links", "addresses", "sysctl"];

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

/// The index of a link from the `AF_PACKET` entry that `getifaddrs` gives
/// each link with a hardware address.
fn index_of(entry: &InterfaceAddress) -> Option<u32> {
    let link = entry.address.as_ref()?.as_link_addr()?;
    u32::try_from(link.ifindex()).ok()
}

/// Whether an entry of `getifaddrs` is a link's: its `AF_PACKET` entry, or
/// one with no address (a link without a hardware address). An address's
/// entry has its IPv4 or IPv6 address, and may bear a label that is no
/// link's name (`eth0:1`).
fn is_link(entry: &InterfaceAddress) -> bool {
    entry
        .address
        .as_ref()
        .is_none_or(|a| a.as_link_addr().is_some())
}

/// The links among the entries of `getifaddrs`, with their flags, sorted
/// by index. A link without a hardware address has no `AF_PACKET` entry
/// to give its index: `index` looks it up by name.
pub fn links_of(entries: &[InterfaceAddress], index: impl Fn(&str) -> Option<u32>) -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    for e in entries.iter().filter(|e| is_link(e)) {
        let name = e.interface_name.as_str();
        if links.iter().any(|l| l.name == name) {
            continue;
        }
        let Some(index) = index_of(e).or_else(|| index(name)) else {
            continue;
        };
        links.push(Link {
            name: name.to_string(),
            index,
            up: e.flags.contains(InterfaceFlags::IFF_UP),
            loopback: e.flags.contains(InterfaceFlags::IFF_LOOPBACK),
        });
    }
    links.sort_by_key(|l| l.index);
    links
}

/// The IPv4 and IPv6 addresses among the entries of `getifaddrs`, sorted
/// by link, then address.
pub fn addresses_of(entries: &[InterfaceAddress]) -> Vec<Address> {
    let mut addresses: Vec<Address> = entries.iter().filter_map(address_of).collect();
    addresses.sort_by(|a, b| (&a.link, &a.address).cmp(&(&b.link, &b.address)));
    addresses
}

/// The index of the link `name`, asked of the kernel by name.
fn index_by_name(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok()
}

/// Observe the `net` section of the calling process; empty lists if netlink fails.
pub fn observe() -> NetView {
    observe_parts(&|_| true)
}

/// Observe the parts of the `net` section that `wants` names (the others
/// are left empty, unread). Links and addresses come from one
/// `getifaddrs`, which reads both at once.
pub fn observe_parts(wants: &dyn Fn(&str) -> bool) -> NetView {
    let mut view = NetView::default();
    if wants("links") || wants("addresses") {
        let entries: Vec<InterfaceAddress> = nix::ifaddrs::getifaddrs()
            .map(|it| it.collect())
            .unwrap_or_default();
        if wants("links") {
            view.links = links_of(&entries, index_by_name);
        }
        if wants("addresses") {
            view.addresses = addresses_of(&entries);
        }
    }
    if wants("sysctl") {
        view.sysctl = SYSCTLS
            .iter()
            .filter_map(|n| Some((n.to_string(), super::sysctl::read(n)?)))
            .collect();
    }
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
    fn sorts_links_and_addresses() {
        let lo = InterfaceFlags::IFF_UP | InterfaceFlags::IFF_LOOPBACK;
        let entries = [
            entry("eth0", InterfaceFlags::empty(), None),
            entry("lo", lo, None),
            entry("dummy0", InterfaceFlags::empty(), None),
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
            entry(
                "eth0:1",
                InterfaceFlags::empty(),
                Some(("10.0.0.3", "255.255.255.0")),
            ),
        ];
        let index = |name: &str| match name {
            "lo" => Some(1),
            "eth0" | "eth0:1" => Some(2),
            "dummy0" => Some(3),
            _ => None,
        };
        let links: Vec<(String, u32, bool, bool)> = links_of(&entries, index)
            .into_iter()
            .map(|l| (l.name, l.index, l.up, l.loopback))
            .collect();
        let link = |n: &str, i, up, lo| (n.to_string(), i, up, lo);
        assert_eq!(
            links,
            [
                link("lo", 1, true, true),
                link("eth0", 2, false, false),
                link("dummy0", 3, false, false)
            ],
            "an address's label is no link"
        );
        let addrs: Vec<(String, Family, String, u8)> = addresses_of(&entries)
            .into_iter()
            .map(|a| (a.link, a.family, a.address, a.prefix))
            .collect();
        let addr = |l: &str, f, a: &str, p| (l.to_string(), f, a.to_string(), p);
        assert_eq!(
            addrs,
            [
                addr("eth0", Family::Inet, "10.0.0.2", 24),
                addr("eth0:1", Family::Inet, "10.0.0.3", 24),
                addr("lo", Family::Inet, "127.0.0.1", 8),
                addr("lo", Family::Inet6, "::1", 128),
            ]
        );
    }

    #[test]
    fn links_are_those_the_kernel_names_by_index() {
        let mut named: Vec<(String, u32)> = nix::net::if_::if_nameindex()
            .unwrap()
            .iter()
            .map(|i| (i.name().to_string_lossy().into_owned(), i.index()))
            .collect();
        named.sort_by_key(|(_, index)| *index);
        let seen: Vec<(String, u32)> = (observe().links.into_iter())
            .map(|l| (l.name, l.index))
            .collect();
        assert_eq!(seen, named);
    }

    #[test]
    fn observes_only_the_parts_wanted() {
        let sysctls = observe_parts(&|p| p == "sysctl");
        assert!(sysctls.links.is_empty() && !sysctls.sysctl.is_empty());
        let links = observe_parts(&|p| p == "links");
        assert!(links.sysctl.is_empty() && links.links.iter().any(|l| l.loopback));
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
