//! Property tests: the security-group and network-ACL evaluators, and
//! host-name matching, against deliberately naive reference models that
//! enumerate every point of a small flow space (64 addresses x 32 ports) and
//! apply the rules the way AWS documents them, one at a time.

use apigw_audit_checks::model::{NaclEntry, NetworkAcl, SecurityGroup, SgRule};
use apigw_audit_checks::net::sg::{Direction, Peer, SgVerdict};
use apigw_audit_checks::net::{AddrSet, Coverage, PortSet, nacl, sg};
use apigw_audit_checks::tls::name_matches;
use ipnet::Ipv4Net;
use proptest::prelude::*;

/// The address universe: 10.0.0.0/26.
const BASE: u32 = 0x0a00_0000;
const ADDRS: u32 = 64;
/// The port universe the flows are drawn from.
const PORT_LO: u16 = 1000;
const PORTS: u16 = 32;

fn addr(i: u32) -> u32 {
    BASE + i
}

fn cidr_contains(cidr: &str, a: u32) -> bool {
    match cidr.parse::<Ipv4Net>() {
        Ok(n) => {
            let n = n.trunc();
            let net = u32::from(n.network());
            let mask = if n.prefix_len() == 0 {
                0
            } else {
                u32::MAX << (32 - n.prefix_len())
            };
            a & mask == net
        }
        Err(_) => false,
    }
}

fn is_tcp(protocol: &str) -> bool {
    matches!(protocol, "-1" | "6" | "tcp")
}

fn ports_contain(protocol: &str, from: Option<i32>, to: Option<i32>, p: u16) -> bool {
    if protocol == "-1" {
        return true;
    }
    match (from, to) {
        (Some(f), Some(t)) => f <= i32::from(p) && i32::from(p) <= t,
        _ => true,
    }
}

/// A CIDR inside, around or outside the universe.
fn cidr() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..ADDRS, 26u8..=32).prop_map(|(i, len)| {
            let n = Ipv4Net::new(std::net::Ipv4Addr::from(addr(i)), len).expect("prefix");
            n.trunc().to_string()
        }),
        Just("0.0.0.0/0".to_string()),
        Just("10.0.0.0/8".to_string()),
        Just("192.168.0.0/24".to_string()),
    ]
}

/// A port range around the flow's ports (sometimes reversed, which
/// matches nothing).
fn port_range() -> impl Strategy<Value = (Option<i32>, Option<i32>)> {
    prop_oneof![
        (990i32..1040, 0i32..20).prop_map(|(f, w)| (Some(f), Some(f + w))),
        (990i32..1040, 1i32..5).prop_map(|(f, w)| (Some(f), Some(f - w))),
        // One port, and the whole range, as consoles write them.
        (990i32..1040).prop_map(|p| (Some(p), Some(p))),
        Just((Some(0), Some(65535))),
        // A range far from every flow's ports.
        (2000i32..65000).prop_map(|f| (Some(f), Some(f + 10))),
    ]
}

fn nacl_entry() -> impl Strategy<Value = NaclEntry> {
    (
        1i32..200,
        any::<bool>(),
        prop_oneof![Just("6"), Just("-1"), Just("17")],
        prop_oneof![Just("allow"), Just("deny")],
        cidr(),
        port_range(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(n, egress, proto, action, cidr, (from, to), v6)| NaclEntry {
                rule_number: n,
                egress,
                protocol: proto.to_string(),
                action: action.to_string(),
                cidr_block: (!v6).then_some(cidr),
                ipv6_cidr_block: v6.then(|| "::/0".to_string()),
                from_port: from,
                to_port: to,
            },
        )
}

fn sg_rule() -> impl Strategy<Value = SgRule> {
    (
        prop_oneof![Just("tcp"), Just("6"), Just("-1"), Just("udp")],
        port_range(),
        prop::collection::vec(cidr(), 0..3),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(proto, (from, to), cidrs, by_group, v6)| SgRule {
            protocol: proto.to_string(),
            from_port: from,
            to_port: to,
            ipv4_ranges: cidrs,
            ipv6_ranges: if v6 { vec!["::/0".to_string()] } else { vec![] },
            prefix_list_ids: vec![],
            group_ids: if by_group {
                vec!["sg-peer".to_string()]
            } else {
                vec![]
            },
        })
}

/// A peer: a CIDR block inside the universe.
fn peer_block() -> impl Strategy<Value = (u32, u32)> {
    (0u32..ADDRS, 0u32..16).prop_map(|(lo, w)| (lo, (lo + w).min(ADDRS - 1)))
}

fn flow_ports() -> impl Strategy<Value = (u16, u16)> {
    prop_oneof![
        4 => (0u16..PORTS, 0u16..8).prop_map(|(lo, w)| (PORT_LO + lo, PORT_LO + (lo + w).min(PORTS - 1))),
        // Single ports at the edges of the port space.
        1 => prop_oneof![Just(0u16), Just(1u16), Just(65535u16), 2000u16..65000].prop_map(|p| (p, p)),
    ]
}

fn classify(points: impl Iterator<Item = bool>) -> Coverage {
    let (mut any_yes, mut any_no) = (false, false);
    for p in points {
        if p {
            any_yes = true;
        } else {
            any_no = true;
        }
    }
    match (any_yes, any_no) {
        (true, false) => Coverage::All,
        (false, _) => Coverage::None,
        (true, true) => Coverage::Partial,
    }
}

fn addr_set(lo: u32, hi: u32) -> AddrSet {
    AddrSet(apigw_audit_checks::net::IntervalSet::range(
        u64::from(addr(lo)),
        u64::from(addr(hi)),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// First match by rule number, in the flow's direction, TCP or all
    /// protocols, IPv4 only; nothing matching is a deny.
    #[test]
    fn nacl_evaluation_matches_the_naive_model(
        entries in prop::collection::vec(nacl_entry(), 0..8),
        egress in any::<bool>(),
        (lo, hi) in peer_block(),
        (plo, phi) in flow_ports(),
    ) {
        // Rule numbers are unique in an ACL.
        let mut seen = std::collections::BTreeSet::new();
        let entries: Vec<NaclEntry> =
            entries.into_iter().filter(|e| seen.insert((e.egress, e.rule_number))).collect();
        let acl = NetworkAcl { id: "acl-1".into(), vpc_id: None, owner_id: None, is_default: None, entries };
        let mut ordered: Vec<&NaclEntry> = acl.entries.iter().filter(|e| e.egress == egress).collect();
        ordered.sort_by_key(|e| e.rule_number);
        let naive = classify((lo..=hi).flat_map(|a| (plo..=phi).map(move |p| (a, p))).map(|(a, p)| {
            ordered
                .iter()
                .find(|e| {
                    is_tcp(&e.protocol)
                        && e.cidr_block.as_deref().is_some_and(|c| cidr_contains(c, addr(a)))
                        && ports_contain(&e.protocol, e.from_port, e.to_port, p)
                })
                .is_some_and(|e| e.action == "allow")
        }));
        let got = nacl::evaluate(&acl, egress, &addr_set(lo, hi), &PortSet::range(plo, phi));
        prop_assert_eq!(got.coverage, naive, "{:?}", acl.entries);
        // The gap: the ports denied whatever the address, named only when
        // the flow is partly allowed (a return-path gap fails).
        let allowed = |a: u32, p: u16| {
            ordered
                .iter()
                .find(|e| {
                    is_tcp(&e.protocol)
                        && e.cidr_block.as_deref().is_some_and(|c| cidr_contains(c, addr(a)))
                        && ports_contain(&e.protocol, e.from_port, e.to_port, p)
                })
                .is_some_and(|e| e.action == "allow")
        };
        let gap: Vec<u16> = (plo..=phi).filter(|&p| (lo..=hi).all(|a| !allowed(a, p))).collect();
        let want = (naive == Coverage::Partial && !gap.is_empty())
            .then(|| PortSet::of(gap.iter().copied()).to_string());
        prop_assert_eq!(got.denied_for_every_address, want, "{:?}", acl.entries);
    }

    /// The source-address models: a peer known only by its subnet (an NLB
    /// node without a readable interface, a VPC link's interfaces) never
    /// gets a verdict its exact address would contradict. A whole-subnet
    /// pass holds for every address in it, a whole-subnet fail for every
    /// address; only a partial verdict depends on which address it is.
    #[test]
    fn a_subnet_verdict_never_contradicts_an_address_in_it(
        entries in prop::collection::vec(nacl_entry(), 0..8),
        egress in any::<bool>(),
        (lo, hi) in peer_block(),
        pick in 0u32..16,
        (plo, phi) in flow_ports(),
    ) {
        let mut seen = std::collections::BTreeSet::new();
        let entries: Vec<NaclEntry> =
            entries.into_iter().filter(|e| seen.insert((e.egress, e.rule_number))).collect();
        let acl = NetworkAcl { id: "acl-1".into(), vpc_id: None, owner_id: None, is_default: None, entries };
        let ports = PortSet::range(plo, phi);
        let subnet = nacl::evaluate(&acl, egress, &addr_set(lo, hi), &ports).coverage;
        let node = lo + pick % (hi - lo + 1);
        let exact = nacl::evaluate(&acl, egress, &addr_set(node, node), &ports).coverage;
        match subnet {
            Coverage::All => prop_assert_eq!(exact, Coverage::All),
            Coverage::None => prop_assert_eq!(exact, Coverage::None),
            Coverage::Partial => {}
        }
    }

    /// The union of every TCP-carrying rule of every group, in the flow's
    /// direction; a rule naming a group the peer has admits the peer.
    #[test]
    fn security_group_evaluation_matches_the_naive_model(
        ingress in prop::collection::vec(sg_rule(), 0..5),
        egress_rules in prop::collection::vec(sg_rule(), 0..5),
        second in prop::collection::vec(sg_rule(), 0..3),
        ingress_dir in any::<bool>(),
        peer_in_group in any::<bool>(),
        (lo, hi) in peer_block(),
        (plo, phi) in flow_ports(),
    ) {
        let g1 = SecurityGroup { id: "sg-1".into(), name: None, vpc_id: None, owner_id: None, ingress, egress: egress_rules };
        let g2 = SecurityGroup { id: "sg-2".into(), name: None, vpc_id: None, owner_id: None, ingress: second.clone(), egress: second };
        let groups = [&g1, &g2];
        let direction = if ingress_dir { Direction::Ingress } else { Direction::Egress };
        let peer_groups = if peer_in_group { vec!["sg-peer".to_string()] } else { vec![] };
        let rules: Vec<&SgRule> = groups
            .iter()
            .flat_map(|g| if ingress_dir { g.ingress.iter() } else { g.egress.iter() })
            .collect();
        let naive = classify((lo..=hi).flat_map(|a| (plo..=phi).map(move |p| (a, p))).map(|(a, p)| {
            rules.iter().any(|r| {
                is_tcp(&r.protocol)
                    && ports_contain(&r.protocol, r.from_port, r.to_port, p)
                    && (r.ipv4_ranges.iter().any(|c| cidr_contains(c, addr(a)))
                        || r.group_ids.iter().any(|g| peer_groups.contains(g)))
            })
        }));
        let peer = Peer { addrs: addr_set(lo, hi), groups: peer_groups.clone() };
        let got = sg::evaluate(&groups, direction, &peer, &PortSet::range(plo, phi), &|_| None);
        let want = match naive {
            Coverage::All => SgVerdict::All,
            Coverage::None => SgVerdict::None,
            Coverage::Partial => SgVerdict::Partial,
        };
        prop_assert_eq!(got.verdict, want);
    }

    /// With prefix lists in the rules, some unreadable: the verdict is the
    /// naive one when every list resolves; otherwise it is `All` only when
    /// the readable rules alone admit everything, `None` only when even
    /// lists admitting everything would not, and `Unknown` between. An
    /// unreadable list never yields a pass it did not prove.
    #[test]
    fn unreadable_prefix_lists_never_prove_a_pass(
        rules in prop::collection::vec((sg_rule(), prop::bool::weighted(0.4)), 1..5),
        list in prop::collection::vec(cidr(), 0..3),
        readable in any::<bool>(),
        (lo, hi) in peer_block(),
        (plo, phi) in flow_ports(),
    ) {
        let ingress: Vec<SgRule> = rules
            .into_iter()
            .map(|(mut r, with_list)| {
                if with_list {
                    r.prefix_list_ids = vec!["pl-1".to_string()];
                }
                r
            })
            .collect();
        let g = SecurityGroup { id: "sg-1".into(), name: None, vpc_id: None, owner_id: None, ingress: ingress.clone(), egress: vec![] };
        let peer = Peer { addrs: addr_set(lo, hi), groups: vec![] };
        let nets: Vec<Ipv4Net> = list.iter().filter_map(|c| c.parse().ok()).collect();
        let resolve = |_: &str| readable.then(|| nets.clone());
        let got = sg::evaluate(&[&g], Direction::Ingress, &peer, &PortSet::range(plo, phi), &resolve).verdict;
        // The naive model with the list standing for `cidrs`.
        let naive_with = |cidrs: &[String]| classify((lo..=hi).flat_map(|a| (plo..=phi).map(move |p| (a, p))).map(|(a, p)| {
            ingress.iter().any(|r| {
                is_tcp(&r.protocol)
                    && ports_contain(&r.protocol, r.from_port, r.to_port, p)
                    && (r.ipv4_ranges.iter().any(|c| cidr_contains(c, addr(a)))
                        || (!r.prefix_list_ids.is_empty() && cidrs.iter().any(|c| cidr_contains(c, addr(a)))))
            })
        }));
        // A list matters only on a TCP rule whose ports meet the flow's.
        let uses_list = ingress.iter().any(|r| {
            !r.prefix_list_ids.is_empty()
                && is_tcp(&r.protocol)
                && (plo..=phi).any(|p| ports_contain(&r.protocol, r.from_port, r.to_port, p))
        });
        let want = if readable || !uses_list {
            match naive_with(&list) {
                Coverage::All => SgVerdict::All,
                Coverage::None => SgVerdict::None,
                Coverage::Partial => SgVerdict::Partial,
            }
        } else {
            let lower = naive_with(&[]);
            let upper = naive_with(&["0.0.0.0/0".to_string()]);
            match (lower, upper) {
                (Coverage::All, _) => SgVerdict::All,
                (_, Coverage::None) => SgVerdict::None,
                _ => SgVerdict::Unknown,
            }
        };
        prop_assert_eq!(got, want, "{:?}", ingress);
    }

    /// A certificate name covers a host when equal (ignoring case and a
    /// trailing dot), or when it is `*.` and a domain of at least two labels
    /// and the host is one non-empty label under that domain.
    #[test]
    fn host_name_matching_matches_the_naive_model(
        pattern_labels in prop::collection::vec("[a-c]{1,2}", 1..4),
        host_labels in prop::collection::vec("[a-cA-C]{1,2}", 1..5),
        under_pattern in any::<bool>(),
        wildcard in any::<bool>(),
        trailing_dot in any::<bool>(),
    ) {
        let base = pattern_labels.join(".");
        let pattern = if wildcard { format!("*.{base}") } else { base.clone() };
        // Half the hosts are built under the pattern's domain, where the
        // interesting cases are.
        let mut host = if under_pattern {
            format!("{}.{}", host_labels[..host_labels.len().min(2)].join("."), base.to_ascii_uppercase())
        } else {
            host_labels.join(".")
        };
        if trailing_dot {
            host.push('.');
        }
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        let naive = if wildcard {
            pattern_labels.len() >= 2
                && h.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == base)
        } else {
            h == base
        };
        prop_assert_eq!(name_matches(&pattern, &host), naive, "{} vs {}", pattern, host);
    }
}
