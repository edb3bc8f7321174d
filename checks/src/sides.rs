//! The two ends of a network hop (a load balancer, a VPC link, a target)
//! as the subnets and security groups they sit in, for the checks that
//! judge what the network lets through between them.

use ipnet::Ipv4Net;

use crate::model::{LbType, LoadBalancer, SecurityGroup, TargetGroup, TargetHealth, VpcLinkV2};
use crate::net::AddrSet;
use crate::view::{Hop, StageView, TargetLocation};

/// The port a target receives traffic on, and the port its health checks
/// probe (`traffic-port` means the same one).
pub fn target_ports(tg: &TargetGroup, target: &TargetHealth) -> Option<(u16, u16)> {
    let traffic = target.port.or(tg.port)?;
    let health = match tg.health_check.port.as_deref() {
        None | Some("traffic-port") => traffic,
        Some(p) => p.trim().parse().ok()?,
    };
    Some((traffic, health))
}

/// One subnet of a side of a hop, and the addresses it may use there.
#[derive(Debug, Clone)]
pub struct Zone {
    pub subnet_id: String,
    pub cidr: Option<Ipv4Net>,
    pub addrs: AddrSet,
    /// Whether `addrs` is exact (a node's or host's own address).
    pub exact: bool,
}

/// One end of a hop: where it sits and which security groups it carries.
pub struct Side<'a> {
    /// How messages name it: "NLB orders-nlb", "VPC link abc", "target i-1 (10.0.1.5)".
    pub label: String,
    pub zones: Vec<Zone>,
    pub group_ids: Vec<String>,
    pub groups: Vec<&'a SecurityGroup>,
}

impl Side<'_> {
    pub fn addrs(&self) -> AddrSet {
        self.zones
            .iter()
            .fold(AddrSet::empty(), |acc, z| acc.union(&z.addrs))
    }

    pub fn exact(&self) -> bool {
        !self.zones.is_empty() && self.zones.iter().all(|z| z.exact)
    }

    /// The label with the addresses, unless the label already names them.
    pub fn described(&self) -> String {
        let addrs = self.addrs().to_string();
        let bare = addrs.trim_end_matches("/32");
        if self.exact() && !addrs.contains(',') && self.label.contains(bare) {
            self.label.clone()
        } else {
            format!("{} ({addrs})", self.label)
        }
    }
}

fn lb_label(lb: &LoadBalancer) -> String {
    let kind = match lb.lb_type {
        Some(LbType::Network) => "NLB",
        Some(LbType::Application) => "ALB",
        _ => "load balancer",
    };
    format!("{kind} {}", lb.name.as_deref().unwrap_or(&lb.arn))
}

/// A load balancer as one end of a hop: one zone per subnet, at the node's
/// own address when AWS reports it, else the whole subnet.
pub fn lb_side<'a>(view: &StageView<'a>, lb: &LoadBalancer, resource: &str) -> Hop<Side<'a>> {
    // Every part is looked up before any failure returns, so a planning
    // run asks for all of them in one level.
    let cidrs: Vec<Hop<Ipv4Net>> = lb
        .zones
        .iter()
        .filter_map(|z| z.subnet_id.as_deref())
        .map(|sid| view.subnet_cidr(sid, resource))
        .collect();
    let groups = view.security_groups(&lb.security_groups, resource);
    let mut zones = Vec::new();
    for (z, cidr) in lb.zones.iter().filter(|z| z.subnet_id.is_some()).zip(cidrs) {
        let sid = z.subnet_id.as_deref().unwrap_or_default();
        let cidr = cidr?;
        let nodes: Vec<Ipv4Net> = z
            .private_ipv4_addresses
            .iter()
            .filter_map(|a| a.parse::<std::net::Ipv4Addr>().ok())
            .map(Ipv4Net::from)
            .collect();
        let exact = !nodes.is_empty();
        zones.push(Zone {
            subnet_id: sid.to_string(),
            cidr: Some(cidr),
            addrs: if exact {
                AddrSet::from_nets(nodes.iter())
            } else {
                AddrSet::from_net(&cidr)
            },
            exact,
        });
    }
    Ok(Side {
        label: lb_label(lb),
        zones,
        group_ids: lb.security_groups.clone(),
        groups: groups?,
    })
}

/// A VPC link v2 as one end of a hop: its interfaces sit in its subnets
/// (at addresses configuration does not show) with its security groups.
pub fn link_side<'a>(view: &StageView<'a>, link: &VpcLinkV2, resource: &str) -> Hop<Side<'a>> {
    let cidrs: Vec<Hop<Ipv4Net>> = link
        .subnet_ids
        .iter()
        .map(|sid| view.subnet_cidr(sid, resource))
        .collect();
    let groups = view.security_groups(&link.security_group_ids, resource);
    let mut zones = Vec::new();
    for (sid, cidr) in link.subnet_ids.iter().zip(cidrs) {
        let cidr = cidr?;
        zones.push(Zone {
            subnet_id: sid.clone(),
            cidr: Some(cidr),
            addrs: AddrSet::from_net(&cidr),
            exact: false,
        });
    }
    Ok(Side {
        label: format!("VPC link {}", link.id),
        zones,
        group_ids: link.security_group_ids.clone(),
        groups: groups?,
    })
}

/// A target (or ALB zone, or Cloud Map instance) as one end of a hop.
pub fn location_side<'a>(
    view: &StageView<'a>,
    loc: &TargetLocation,
    resource: &str,
) -> Hop<Side<'a>> {
    let mut side = location_place(loc);
    side.groups = view.security_groups(&loc.security_groups, resource)?;
    Ok(side)
}

/// Where a target sits, without reading its security groups: enough for
/// the network-ACL check, which an unreadable group must not stop.
pub fn location_place<'a>(loc: &TargetLocation) -> Side<'a> {
    Side {
        label: loc.target.clone(),
        zones: vec![Zone {
            subnet_id: loc.subnet_id.clone(),
            cidr: None,
            addrs: loc.addrs.clone(),
            exact: loc.exact,
        }],
        group_ids: loc.security_groups.clone(),
        groups: Vec::new(),
    }
}
