//! Exact evaluation of security groups and network ACLs over flow spaces.
//!
//! A flow is a set of peer addresses times a set of TCP ports. Rules are cut
//! into rectangles of that space and the evaluators decide, for the whole
//! flow, whether every point is allowed, none is, or some are: the
//! three-valued answer the path checks need where the exact source (a
//! PrivateLink endpoint's address, a load balancer node's address) cannot be
//! known from configuration. IPv6 rules are ignored: the paths evaluated are
//! IPv4, as API Gateway's private integrations are.

pub mod nacl;
pub mod ranges;
pub mod sg;

pub use ranges::{AddrSet, Coverage, IntervalSet, PortSet};

use ipnet::Ipv4Net;

/// `6`, `tcp` and `-1` (every protocol) match TCP; anything else does not.
pub fn protocol_matches_tcp(protocol: &str) -> bool {
    matches!(
        protocol.trim().to_ascii_lowercase().as_str(),
        "-1" | "all" | "6" | "tcp"
    )
}

/// Whether the protocol field means "every protocol", which also means
/// every port regardless of the port fields.
pub fn protocol_is_all(protocol: &str) -> bool {
    matches!(protocol.trim().to_ascii_lowercase().as_str(), "-1" | "all")
}

/// Parses an IPv4 CIDR as AWS writes it; `None` for IPv6 or garbage.
pub fn parse_v4(cidr: &str) -> Option<Ipv4Net> {
    cidr.trim().parse::<Ipv4Net>().ok().map(|n| n.trunc())
}

/// The port set of a rule's `from`/`to` fields. AWS uses -1 or an absent
/// value for "all"; a reversed range matches nothing.
pub fn rule_ports(protocol: &str, from: Option<i32>, to: Option<i32>) -> PortSet {
    if protocol_is_all(protocol) {
        return PortSet::all();
    }
    match (from, to) {
        (None, None) | (Some(-1), _) | (_, Some(-1)) => PortSet::all(),
        (Some(f), Some(t)) => {
            let f = f.clamp(0, 65535) as u64;
            let t = t.clamp(0, 65535) as u64;
            PortSet(IntervalSet::range(f, t))
        }
        (Some(p), None) | (None, Some(p)) => {
            let p = p.clamp(0, 65535) as u64;
            PortSet(IntervalSet::range(p, p))
        }
    }
}

/// Decides a flow against allow-rectangles (security groups are allow-only,
/// so a point is allowed when any rectangle holds it).
pub fn coverage_of_union(
    addrs: &AddrSet,
    ports: &PortSet,
    rects: &[(AddrSet, PortSet)],
) -> Coverage {
    if addrs.0.is_empty() || ports.0.is_empty() {
        return Coverage::None;
    }
    let pieces = addrs.0.split_by(rects.iter().map(|(a, _)| &a.0));
    let mut all = true;
    let mut none = true;
    for (lo, _) in pieces {
        let mut allowed = IntervalSet::empty();
        for (a, p) in rects {
            if a.0.contains(lo) {
                allowed = allowed.union(&p.0);
            }
        }
        match ports.0.coverage_by(&allowed) {
            Coverage::All => none = false,
            Coverage::None => all = false,
            Coverage::Partial => {
                all = false;
                none = false;
            }
        }
        if !all && !none {
            return Coverage::Partial;
        }
    }
    match (all, none) {
        (true, _) => Coverage::All,
        (false, true) => Coverage::None,
        (false, false) => Coverage::Partial,
    }
}
