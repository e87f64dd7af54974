//! The net steps: links, sockets, rtnetlink, veth pairs, and the helper
//! that runs an attempt in a child.

mod child;
mod link;
mod peer_gone;
mod rtnl;
mod skns;
mod sock;
mod veth;

pub use link::{link_up, perform};
