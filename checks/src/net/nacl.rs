//! Network ACLs: stateless, ordered, first match by rule number wins, and
//! anything no rule matches is denied (the `*` rule).

use serde::Serialize;

use super::{AddrSet, Coverage, IntervalSet, PortSet, parse_v4, protocol_matches_tcp, rule_ports};
use crate::model::{NaclEntry, NetworkAcl};

/// The rule number AWS gives the catch-all `*` deny rule.
pub const CATCH_ALL_RULE: i32 = 32767;

/// A point of the flow that is denied, and the rule that denied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    pub addresses: String,
    pub ports: String,
    /// The rule number, or `*` when no rule matched.
    pub rule: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NaclEvaluation {
    #[serde(serialize_with = "ser_coverage")]
    pub coverage: Coverage,
    /// Rule numbers that allowed part of the flow.
    pub allowed_by: Vec<String>,
    /// The first denied piece of the flow, when any is denied.
    pub first_denial: Option<Denial>,
    /// The ports denied whatever the peer address, when the flow is only
    /// partly allowed: a connection whose port falls there always fails,
    /// so a gap is a failure, not a matter of which source sends it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_for_every_address: Option<String>,
}

fn ser_coverage<S: serde::Serializer>(c: &Coverage, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match c {
        Coverage::All => "all",
        Coverage::None => "none",
        Coverage::Partial => "partial",
    })
}

struct Rect<'a> {
    entry: &'a NaclEntry,
    addrs: AddrSet,
    ports: PortSet,
}

pub fn rule_label(n: i32) -> String {
    if n == CATCH_ALL_RULE {
        "*".to_string()
    } else {
        n.to_string()
    }
}

/// Decides TCP `ports` to (egress) or from (ingress) `peer` through `acl`.
/// IPv6 entries never match an IPv4 flow.
pub fn evaluate(acl: &NetworkAcl, egress: bool, peer: &AddrSet, ports: &PortSet) -> NaclEvaluation {
    let mut entries: Vec<&NaclEntry> = acl
        .entries
        .iter()
        .filter(|e| e.egress == egress && protocol_matches_tcp(&e.protocol))
        .collect();
    entries.sort_by_key(|e| e.rule_number);
    let rects: Vec<Rect> = entries
        .into_iter()
        .filter_map(|e| {
            let net = parse_v4(e.cidr_block.as_deref()?)?;
            Some(Rect {
                entry: e,
                addrs: AddrSet::from_net(&net),
                ports: rule_ports(&e.protocol, e.from_port, e.to_port),
            })
        })
        .collect();

    let mut allowed_any = false;
    let mut denied_any = false;
    let mut allowed_by: Vec<i32> = Vec::new();
    let mut first_denial: Option<Denial> = None;
    let mut gap = ports.0.clone();
    for (alo, ahi) in peer.0.split_by(rects.iter().map(|r| &r.addrs.0)) {
        let mut denied_here = IntervalSet::empty();
        let applicable: Vec<&Rect> = rects.iter().filter(|r| r.addrs.0.contains(alo)).collect();
        let port_pieces = ports.0.split_by(applicable.iter().map(|r| &r.ports.0));
        for (plo, phi) in port_pieces {
            let decider = applicable.iter().find(|r| r.ports.0.contains(plo));
            let allow = decider.is_some_and(|r| r.entry.action.eq_ignore_ascii_case("allow"));
            if allow {
                allowed_any = true;
                if let Some(r) = decider
                    && !allowed_by.contains(&r.entry.rule_number)
                {
                    allowed_by.push(r.entry.rule_number);
                }
            } else {
                denied_any = true;
                denied_here = denied_here.union(&IntervalSet::range(plo, phi));
                if first_denial.is_none() {
                    first_denial = Some(Denial {
                        addresses: AddrSet(IntervalSet::range(alo, ahi)).to_string(),
                        ports: PortSet(IntervalSet::range(plo, phi)).to_string(),
                        rule: decider
                            .map_or_else(|| "*".to_string(), |r| rule_label(r.entry.rule_number)),
                    });
                }
            }
        }
        gap = gap.intersect(&denied_here);
    }
    allowed_by.sort_unstable();
    let coverage = match (allowed_any, denied_any) {
        (true, false) => Coverage::All,
        (false, _) => Coverage::None,
        (true, true) => Coverage::Partial,
    };
    let denied_for_every_address =
        (coverage == Coverage::Partial && !gap.is_empty()).then(|| PortSet(gap).to_string());
    NaclEvaluation {
        coverage,
        allowed_by: allowed_by.into_iter().map(rule_label).collect(),
        first_denial,
        denied_for_every_address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipnet::Ipv4Net;

    fn entry(
        n: i32,
        egress: bool,
        action: &str,
        cidr: &str,
        ports: Option<(i32, i32)>,
    ) -> NaclEntry {
        NaclEntry {
            rule_number: n,
            egress,
            protocol: if ports.is_some() {
                "6".into()
            } else {
                "-1".into()
            },
            action: action.into(),
            cidr_block: Some(cidr.into()),
            ipv6_cidr_block: None,
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
        }
    }

    fn acl(entries: Vec<NaclEntry>) -> NetworkAcl {
        NetworkAcl {
            id: "acl-1".into(),
            vpc_id: None,
            owner_id: None,
            is_default: Some(false),
            entries,
        }
    }

    fn addrs(c: &str) -> AddrSet {
        let n: Ipv4Net = c.parse().unwrap();
        AddrSet::from_net(&n)
    }

    #[test]
    fn first_match_by_rule_number_wins_whatever_the_listed_order() {
        // Listed out of order, as moto and sometimes AWS return them.
        let a = acl(vec![
            entry(200, false, "allow", "0.0.0.0/0", Some((80, 80))),
            entry(100, false, "deny", "10.0.1.0/24", Some((80, 80))),
        ]);
        let e = evaluate(&a, false, &addrs("10.0.1.0/24"), &PortSet::single(80));
        assert_eq!(e.coverage, Coverage::None);
        assert_eq!(e.first_denial.unwrap().rule, "100");
        let e = evaluate(&a, false, &addrs("10.0.2.0/24"), &PortSet::single(80));
        assert_eq!(e.coverage, Coverage::All);
        assert_eq!(e.allowed_by, vec!["200"]);
    }

    #[test]
    fn allow_before_deny_wins_too() {
        let a = acl(vec![
            entry(100, false, "allow", "10.0.0.0/16", Some((80, 80))),
            entry(110, false, "deny", "0.0.0.0/0", None),
        ]);
        assert_eq!(
            evaluate(&a, false, &addrs("10.0.1.0/24"), &PortSet::single(80)).coverage,
            Coverage::All
        );
    }

    #[test]
    fn unmatched_traffic_hits_the_implicit_deny() {
        let a = acl(vec![entry(
            100,
            false,
            "allow",
            "10.0.0.0/16",
            Some((80, 80)),
        )]);
        let e = evaluate(&a, false, &addrs("10.0.1.0/24"), &PortSet::single(81));
        assert_eq!(e.coverage, Coverage::None);
        assert_eq!(e.first_denial.unwrap().rule, "*");
    }

    #[test]
    fn directions_are_separate() {
        let a = acl(vec![entry(100, true, "allow", "0.0.0.0/0", None)]);
        assert_eq!(
            evaluate(&a, false, &addrs("10.0.1.0/24"), &PortSet::single(80)).coverage,
            Coverage::None
        );
        assert_eq!(
            evaluate(&a, true, &addrs("10.0.1.0/24"), &PortSet::single(80)).coverage,
            Coverage::All
        );
    }

    #[test]
    fn ephemeral_return_ports_partially_allowed_is_partial() {
        let a = acl(vec![entry(
            100,
            true,
            "allow",
            "10.0.0.0/16",
            Some((32768, 65535)),
        )]);
        let e = evaluate(&a, true, &addrs("10.0.1.0/24"), &PortSet::ephemeral());
        assert_eq!(e.coverage, Coverage::Partial);
        let d = e.first_denial.clone().unwrap();
        assert_eq!(d.ports, "1024-32767");
        assert_eq!(d.rule, "*");
        // Denied whatever the address: a gap every connection can fall in.
        assert_eq!(e.denied_for_every_address.as_deref(), Some("1024-32767"));
    }

    #[test]
    fn a_gap_for_only_some_addresses_is_not_a_gap_for_all() {
        // The upper half of the subnet may use every port, the lower half
        // only the upper ports: no port is denied to every address.
        let a = acl(vec![
            entry(90, true, "allow", "10.0.1.128/25", None),
            entry(100, true, "allow", "10.0.1.0/24", Some((32768, 65535))),
        ]);
        let e = evaluate(&a, true, &addrs("10.0.1.0/24"), &PortSet::ephemeral());
        assert_eq!(e.coverage, Coverage::Partial);
        assert_eq!(e.denied_for_every_address, None);
        // Add a deny of 2000-2999 for everyone, below both: that part is a gap.
        let mut b = a.clone();
        b.entries
            .push(entry(80, true, "deny", "0.0.0.0/0", Some((2000, 2999))));
        let e = evaluate(&b, true, &addrs("10.0.1.0/24"), &PortSet::ephemeral());
        assert_eq!(e.denied_for_every_address.as_deref(), Some("2000-2999"));
    }

    #[test]
    fn port_range_edges() {
        let a = acl(vec![entry(
            100,
            false,
            "allow",
            "0.0.0.0/0",
            Some((1024, 65535)),
        )]);
        assert_eq!(
            evaluate(&a, false, &addrs("10.0.0.1/32"), &PortSet::single(1024)).coverage,
            Coverage::All
        );
        assert_eq!(
            evaluate(&a, false, &addrs("10.0.0.1/32"), &PortSet::single(1023)).coverage,
            Coverage::None
        );
        assert_eq!(
            evaluate(&a, false, &addrs("10.0.0.1/32"), &PortSet::single(65535)).coverage,
            Coverage::All
        );
    }

    #[test]
    fn deny_of_a_slice_of_the_source_is_partial() {
        let a = acl(vec![
            entry(90, false, "deny", "10.0.1.128/25", None),
            entry(100, false, "allow", "0.0.0.0/0", None),
        ]);
        let e = evaluate(&a, false, &addrs("10.0.1.0/24"), &PortSet::single(443));
        assert_eq!(e.coverage, Coverage::Partial);
        assert_eq!(e.denied_for_every_address, None);
        assert_eq!(e.first_denial.unwrap().addresses, "10.0.1.128/25");
    }

    #[test]
    fn ipv6_and_udp_entries_never_match_ipv4_tcp() {
        let a = acl(vec![
            NaclEntry {
                rule_number: 100,
                egress: false,
                protocol: "-1".into(),
                action: "allow".into(),
                cidr_block: None,
                ipv6_cidr_block: Some("::/0".into()),
                from_port: None,
                to_port: None,
            },
            NaclEntry {
                rule_number: 101,
                egress: false,
                protocol: "17".into(),
                action: "allow".into(),
                cidr_block: Some("0.0.0.0/0".into()),
                ipv6_cidr_block: None,
                from_port: Some(0),
                to_port: Some(65535),
            },
        ]);
        assert_eq!(
            evaluate(&a, false, &addrs("10.0.0.0/24"), &PortSet::single(80)).coverage,
            Coverage::None
        );
    }

    #[test]
    fn catch_all_rule_is_labelled_star() {
        let a = acl(vec![entry(
            CATCH_ALL_RULE,
            false,
            "deny",
            "0.0.0.0/0",
            None,
        )]);
        let e = evaluate(&a, false, &addrs("10.0.0.0/24"), &PortSet::single(80));
        assert_eq!(e.first_denial.unwrap().rule, "*");
    }
}
