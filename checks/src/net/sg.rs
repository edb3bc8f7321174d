//! Security groups: stateful, allow-only, the union of every rule of every
//! group on the interface decides.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::{
    AddrSet, Coverage, PortSet, coverage_of_union, parse_v4, protocol_matches_tcp, rule_ports,
};
use crate::model::{SecurityGroup, SgRule};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// The other end of a flow, as a security group rule can match it.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Every address the peer may use.
    pub addrs: AddrSet,
    /// The security groups attached to the peer, which SG-to-SG rules match.
    pub groups: Vec<String>,
}

/// The verdict of a set of groups on a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SgVerdict {
    /// Every address and port of the flow is allowed.
    All,
    /// None is.
    None,
    /// Some addresses or ports are: it depends on the exact source.
    Partial,
    /// A prefix list the answer depends on could not be read.
    Unknown,
}

/// One rule that allowed part of the flow, for the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    pub group: String,
    pub protocol: String,
    pub ports: String,
    pub from: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SgEvaluation {
    pub verdict: SgVerdict,
    pub matched: Vec<MatchedRule>,
    pub unresolved_prefix_lists: Vec<String>,
}

/// Decides whether `groups` let TCP `ports` to or from `peer` through.
///
/// `prefix_lists` resolves a prefix list id to its CIDRs; `None` means the
/// list could not be read, which makes the answer `Unknown` unless the other
/// rules already decide it.
pub fn evaluate(
    groups: &[&SecurityGroup],
    direction: Direction,
    peer: &Peer,
    ports: &PortSet,
    prefix_lists: &dyn Fn(&str) -> Option<Vec<Ipv4Net>>,
) -> SgEvaluation {
    let mut known: Vec<(AddrSet, PortSet)> = Vec::new();
    let mut unknown: Vec<(AddrSet, PortSet)> = Vec::new();
    let mut matched = Vec::new();
    let mut unresolved = Vec::new();
    for g in groups {
        let rules = match direction {
            Direction::Ingress => &g.ingress,
            Direction::Egress => &g.egress,
        };
        for rule in rules {
            if !protocol_matches_tcp(&rule.protocol) {
                continue;
            }
            let rports = rule_ports(&rule.protocol, rule.from_port, rule.to_port);
            if rports.0.intersect(&ports.0).is_empty() {
                continue;
            }
            let (addrs, missing) = rule_addrs(rule, peer, prefix_lists);
            for pl in &missing {
                if !unresolved.contains(pl) {
                    unresolved.push(pl.clone());
                }
                unknown.push((AddrSet::any(), rports.clone()));
            }
            let overlap = addrs.0.intersect(&peer.addrs.0);
            if !overlap.is_empty() {
                matched.push(MatchedRule {
                    group: g.id.clone(),
                    protocol: rule.protocol.clone(),
                    ports: rports.to_string(),
                    from: describe_rule_peer(rule),
                });
            }
            known.push((addrs, rports));
        }
    }
    let lower = coverage_of_union(&peer.addrs, ports, &known);
    let verdict = if unknown.is_empty() || lower == Coverage::All {
        to_verdict(lower)
    } else {
        let mut all = known.clone();
        all.extend(unknown);
        let upper = coverage_of_union(&peer.addrs, ports, &all);
        if upper == Coverage::None {
            SgVerdict::None
        } else {
            SgVerdict::Unknown
        }
    };
    SgEvaluation {
        verdict,
        matched,
        unresolved_prefix_lists: unresolved,
    }
}

fn to_verdict(c: Coverage) -> SgVerdict {
    match c {
        Coverage::All => SgVerdict::All,
        Coverage::None => SgVerdict::None,
        Coverage::Partial => SgVerdict::Partial,
    }
}

/// The addresses a rule admits for this peer, and the prefix lists it names
/// that could not be resolved.
fn rule_addrs(
    rule: &SgRule,
    peer: &Peer,
    prefix_lists: &dyn Fn(&str) -> Option<Vec<Ipv4Net>>,
) -> (AddrSet, Vec<String>) {
    let mut nets: Vec<Ipv4Net> = rule
        .ipv4_ranges
        .iter()
        .filter_map(|c| parse_v4(c))
        .collect();
    let mut missing = Vec::new();
    for pl in &rule.prefix_list_ids {
        match prefix_lists(pl) {
            Some(cidrs) => nets.extend(cidrs),
            None => missing.push(pl.clone()),
        }
    }
    let mut set = AddrSet::from_nets(nets.iter());
    // An SG reference admits the peer itself, whatever its address.
    if rule.group_ids.iter().any(|g| peer.groups.contains(g)) {
        set = set.union(&peer.addrs);
    }
    (set, missing)
}

fn describe_rule_peer(rule: &SgRule) -> String {
    let mut parts: Vec<String> = rule.ipv4_ranges.clone();
    parts.extend(rule.prefix_list_ids.iter().cloned());
    parts.extend(rule.group_ids.iter().cloned());
    parts.join(", ")
}

/// A rendering of the rules of `groups` that can carry TCP, for messages
/// that must say what was found.
pub fn summarize_rules(
    groups: &[&SecurityGroup],
    direction: Direction,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for g in groups {
        let rules = match direction {
            Direction::Ingress => &g.ingress,
            Direction::Egress => &g.egress,
        };
        let list: Vec<String> = rules
            .iter()
            .filter(|r| protocol_matches_tcp(&r.protocol))
            .map(|r| {
                let ports = rule_ports(&r.protocol, r.from_port, r.to_port);
                format!("tcp {ports} from {}", describe_rule_peer(r))
            })
            .collect();
        out.insert(g.id.clone(), list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn sg(id: &str, ingress: Vec<SgRule>) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            name: None,
            vpc_id: None,
            owner_id: None,
            ingress,
            egress: vec![],
        }
    }

    fn tcp(from: i32, to: i32, cidrs: &[&str]) -> SgRule {
        SgRule {
            protocol: "tcp".into(),
            from_port: Some(from),
            to_port: Some(to),
            ipv4_ranges: cidrs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn peer(cidrs: &[&str]) -> Peer {
        let nets: Vec<Ipv4Net> = cidrs.iter().map(|c| net(c)).collect();
        Peer {
            addrs: AddrSet::from_nets(nets.iter()),
            groups: vec![],
        }
    }

    fn no_pl(_: &str) -> Option<Vec<Ipv4Net>> {
        None
    }

    fn verdict(groups: &[&SecurityGroup], p: &Peer, port: u16) -> SgVerdict {
        evaluate(
            groups,
            Direction::Ingress,
            p,
            &PortSet::single(port),
            &no_pl,
        )
        .verdict
    }

    #[test]
    fn port_range_edges_are_inclusive() {
        let g = sg("sg-1", vec![tcp(8000, 8080, &["10.0.0.0/16"])]);
        let p = peer(&["10.0.1.0/24"]);
        assert_eq!(verdict(&[&g], &p, 8000), SgVerdict::All);
        assert_eq!(verdict(&[&g], &p, 8080), SgVerdict::All);
        assert_eq!(verdict(&[&g], &p, 7999), SgVerdict::None);
        assert_eq!(verdict(&[&g], &p, 8081), SgVerdict::None);
    }

    #[test]
    fn cidr_containment_is_three_valued() {
        let g = sg("sg-1", vec![tcp(80, 80, &["10.0.1.0/25"])]);
        assert_eq!(verdict(&[&g], &peer(&["10.0.1.0/26"]), 80), SgVerdict::All);
        assert_eq!(
            verdict(&[&g], &peer(&["10.0.1.0/24"]), 80),
            SgVerdict::Partial
        );
        assert_eq!(verdict(&[&g], &peer(&["10.0.2.0/24"]), 80), SgVerdict::None);
    }

    #[test]
    fn slash_zero_and_slash_32() {
        let open = sg("sg-1", vec![tcp(443, 443, &["0.0.0.0/0"])]);
        assert_eq!(
            verdict(
                &[&open],
                &Peer {
                    addrs: AddrSet::any(),
                    groups: vec![]
                },
                443
            ),
            SgVerdict::All
        );
        let host = sg("sg-2", vec![tcp(443, 443, &["10.0.1.7/32"])]);
        assert_eq!(
            verdict(&[&host], &peer(&["10.0.1.7/32"]), 443),
            SgVerdict::All
        );
        assert_eq!(
            verdict(&[&host], &peer(&["10.0.1.6/31"]), 443),
            SgVerdict::Partial
        );
    }

    #[test]
    fn union_across_rules_and_groups_covers_split_sources() {
        let a = sg("sg-a", vec![tcp(80, 80, &["10.0.1.0/25"])]);
        let b = sg("sg-b", vec![tcp(80, 80, &["10.0.1.128/25"])]);
        assert_eq!(
            verdict(&[&a, &b], &peer(&["10.0.1.0/24"]), 80),
            SgVerdict::All
        );
    }

    #[test]
    fn all_protocols_rule_means_all_ports_and_udp_does_not_match() {
        let all = sg(
            "sg-1",
            vec![SgRule {
                protocol: "-1".into(),
                from_port: Some(0),
                to_port: Some(0),
                ipv4_ranges: vec!["10.0.0.0/8".into()],
                ..Default::default()
            }],
        );
        assert_eq!(
            verdict(&[&all], &peer(&["10.1.0.0/16"]), 31337),
            SgVerdict::All
        );
        let udp = sg(
            "sg-2",
            vec![SgRule {
                protocol: "udp".into(),
                from_port: Some(53),
                to_port: Some(53),
                ipv4_ranges: vec!["0.0.0.0/0".into()],
                ..Default::default()
            }],
        );
        assert_eq!(
            verdict(&[&udp], &peer(&["10.1.0.0/16"]), 53),
            SgVerdict::None
        );
    }

    #[test]
    fn ipv6_rules_are_ignored_for_ipv4_paths() {
        let g = sg(
            "sg-1",
            vec![SgRule {
                protocol: "tcp".into(),
                from_port: Some(80),
                to_port: Some(80),
                ipv6_ranges: vec!["::/0".into()],
                ..Default::default()
            }],
        );
        assert_eq!(verdict(&[&g], &peer(&["10.0.0.0/24"]), 80), SgVerdict::None);
    }

    #[test]
    fn sg_references_match_the_peers_groups() {
        let g = sg(
            "sg-target",
            vec![SgRule {
                protocol: "tcp".into(),
                from_port: Some(8080),
                to_port: Some(8080),
                group_ids: vec!["sg-nlb".into()],
                ..Default::default()
            }],
        );
        let mut p = peer(&["10.0.1.0/24"]);
        assert_eq!(verdict(&[&g], &p, 8080), SgVerdict::None);
        p.groups = vec!["sg-nlb".into()];
        assert_eq!(verdict(&[&g], &p, 8080), SgVerdict::All);
    }

    #[test]
    fn prefix_lists_resolve_or_make_the_answer_unknown() {
        let g = sg(
            "sg-1",
            vec![SgRule {
                protocol: "tcp".into(),
                from_port: Some(80),
                to_port: Some(80),
                prefix_list_ids: vec!["pl-1".into()],
                ..Default::default()
            }],
        );
        let p = peer(&["10.0.1.0/24"]);
        let known = |id: &str| (id == "pl-1").then(|| vec![net("10.0.0.0/16")]);
        assert_eq!(
            evaluate(&[&g], Direction::Ingress, &p, &PortSet::single(80), &known).verdict,
            SgVerdict::All
        );
        let e = evaluate(&[&g], Direction::Ingress, &p, &PortSet::single(80), &no_pl);
        assert_eq!(e.verdict, SgVerdict::Unknown);
        assert_eq!(e.unresolved_prefix_lists, vec!["pl-1".to_string()]);
        // Another rule deciding on its own makes the unreadable list irrelevant.
        let mut g2 = g.clone();
        g2.ingress.push(tcp(80, 80, &["0.0.0.0/0"]));
        assert_eq!(
            evaluate(&[&g2], Direction::Ingress, &p, &PortSet::single(80), &no_pl).verdict,
            SgVerdict::All
        );
    }

    #[test]
    fn several_ports_must_all_be_allowed() {
        let g = sg("sg-1", vec![tcp(80, 80, &["10.0.0.0/16"])]);
        let p = peer(&["10.0.1.0/24"]);
        let e = evaluate(
            &[&g],
            Direction::Ingress,
            &p,
            &PortSet::of([80, 8081]),
            &no_pl,
        );
        assert_eq!(e.verdict, SgVerdict::Partial);
    }
}
