//! The two ends of a network hop (a load balancer, a VPC link, a target)
//! as the subnets and security groups they sit in, for the checks that
//! judge what the network lets through between them.

use ipnet::Ipv4Net;

use crate::model::{
    Failure, LbType, LoadBalancer, Protocol, SecurityGroup, TargetGroup, TargetHealth, TargetType,
    VpcLinkV2,
};
use crate::net::AddrSet;
use crate::resources as res;
use crate::view::{Front, Hop, StageView, TargetLocation};
use crate::walk::TargetGroupHop;

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
    /// The Availability Zone, where the record says.
    pub az: Option<String>,
}

/// One end of a hop: where it sits and which security groups it carries.
#[derive(Clone)]
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
    // Both parts are looked up before either failure returns, so a planning
    // run asks for all of them in one level.
    let groups = view.security_groups(&lb.security_groups, resource);
    let mut side = lb_place(view, lb, resource)?;
    side.groups = groups?;
    Ok(side)
}

/// Where a load balancer sits, without reading its security groups: enough
/// for the network-ACL check, which an unreadable group must not stop.
pub fn lb_place<'a>(view: &StageView<'a>, lb: &LoadBalancer, resource: &str) -> Hop<Side<'a>> {
    let cidrs: Vec<Hop<Ipv4Net>> = lb
        .zones
        .iter()
        .filter_map(|z| z.subnet_id.as_deref())
        .map(|sid| view.subnet_cidr(sid, resource))
        .collect();
    let interfaces = node_interfaces(view, lb);
    let mut zones = Vec::new();
    for (z, cidr) in lb.zones.iter().filter(|z| z.subnet_id.is_some()).zip(cidrs) {
        let sid = z.subnet_id.as_deref().unwrap_or_default();
        let cidr = cidr?;
        // The addresses AWS reports on the load balancer, else those of the
        // node's interface in this subnet.
        let addresses: Vec<&String> = if z.private_ipv4_addresses.is_empty() {
            interfaces
                .iter()
                .filter(|e| e.subnet_id.as_deref() == Some(sid))
                .flat_map(|e| e.private_ips.iter())
                .collect()
        } else {
            z.private_ipv4_addresses.iter().collect()
        };
        let nodes: Vec<Ipv4Net> = addresses
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
            az: z.zone_name.clone(),
        });
    }
    Ok(Side {
        label: lb_label(lb),
        zones,
        group_ids: lb.security_groups.clone(),
        groups: Vec::new(),
    })
}

/// An NLB's node interfaces, when AWS does not put the node addresses on
/// the load balancer (it does for addresses chosen at creation). Knowledge
/// center "elb-find-load-balancer-ip": the nodes send from the private
/// addresses of their interfaces, described `ELB net/NAME/ID`, and the
/// addresses of Application (and Classic) Load Balancers change over time;
/// so only an NLB's are taken as exact, and an ALB is judged on its
/// subnets. A failed or empty read leaves the subnets too: a rule that
/// admits a whole subnet still passes, one that admits part of it warns.
fn node_interfaces<'a>(
    view: &StageView<'a>,
    lb: &LoadBalancer,
) -> &'a [crate::model::NetworkInterface] {
    let unreported = lb.zones.iter().any(|z| z.private_ipv4_addresses.is_empty());
    if lb.lb_type != Some(LbType::Network) || !unreported {
        return &[];
    }
    match view.peek::<res::LbInterfaces>(&lb.arn) {
        Some(Ok(enis)) => enis,
        _ => &[],
    }
}

/// A VPC link v2 as one end of a hop: its interfaces sit in its subnets
/// (at addresses configuration does not show) with its security groups.
pub fn link_side<'a>(view: &StageView<'a>, link: &VpcLinkV2, resource: &str) -> Hop<Side<'a>> {
    let groups = view.security_groups(&link.security_group_ids, resource);
    let mut side = link_place(view, link, resource)?;
    side.groups = groups?;
    Ok(side)
}

/// Where a VPC link's interfaces sit, without reading its security groups.
pub fn link_place<'a>(view: &StageView<'a>, link: &VpcLinkV2, resource: &str) -> Hop<Side<'a>> {
    let cidrs: Vec<Hop<Ipv4Net>> = link
        .subnet_ids
        .iter()
        .map(|sid| view.subnet_cidr(sid, resource))
        .collect();
    let mut zones = Vec::new();
    for (sid, cidr) in link.subnet_ids.iter().zip(cidrs) {
        let cidr = cidr?;
        zones.push(Zone {
            subnet_id: sid.clone(),
            cidr: Some(cidr),
            addrs: AddrSet::from_net(&cidr),
            exact: false,
            az: None,
        });
    }
    Ok(Side {
        label: format!("VPC link {}", link.id),
        zones,
        group_ids: link.security_group_ids.clone(),
        groups: Vec::new(),
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
            az: loc.az.clone(),
        }],
        group_ids: loc.security_groups.clone(),
        groups: Vec::new(),
    }
}

/// Whether an NLB target group's targets see the sender's own address
/// (client IP preservation), and what says so. ELB guide, "Edit target
/// group attributes for your Network Load Balancer", "Client IP
/// preservation": on, and fixed on, for UDP, TCP_UDP, QUIC and TCP_QUIC
/// groups; for TCP and TLS groups `preserve_client_ip.enabled` decides, by
/// default on for instance targets and off for IP targets.
pub fn client_ip_preserved(
    view: &StageView,
    tg: &TargetGroup,
    resource: &str,
) -> Hop<(bool, String)> {
    let fixed_on = match &tg.protocol {
        Some(Protocol::Udp | Protocol::TcpUdp) => true,
        Some(Protocol::Other(p)) => p == "QUIC" || p == "TCP_QUIC",
        _ => false,
    };
    let name = tg.name.as_deref().unwrap_or(&tg.arn);
    if fixed_on {
        return Ok((
            true,
            format!(
                "always on for a {} target group",
                tg.protocol.as_ref().map_or("", |p| p.as_str())
            ),
        ));
    }
    let what = format!("the attributes of target group {}", tg.arn);
    let attrs = view.get::<res::TargetGroupAttributes>(&tg.arn, resource, &what)?;
    let set = attrs
        .and_then(|a| a.get("preserve_client_ip.enabled"))
        .map(|v| v.trim().eq_ignore_ascii_case("true"));
    Ok(match set {
        Some(on) => (
            on,
            format!("preserve_client_ip.enabled = {on} on target group {name}"),
        ),
        None => {
            let on = tg.target_type == Some(TargetType::Instance);
            let kind = tg
                .target_type
                .as_ref()
                .map_or("unknown-type", |t| t.as_str());
            (
                on,
                format!(
                    "the default for {kind} targets of target group {name}, which reports no preserve_client_ip.enabled"
                ),
            )
        }
    })
}

/// How one end of a hop is built from its AWS resource.
type SideOf<T> = for<'a> fn(&StageView<'a>, &T, &str) -> Hop<Side<'a>>;

/// Where a target group's targets receive traffic from: the sources of the
/// requests (one per way in) and of the health checks.
pub struct TargetSources<'a> {
    /// Each distinct source of requests, with why it is that one.
    pub requests: Vec<(Side<'a>, String)>,
    /// The load balancer itself: health checks always come from its own
    /// addresses (same guide).
    pub health: Side<'a>,
    /// Whether each node sends only to targets in its own zone (an NLB
    /// whose cross-zone load balancing is known to be off).
    pub same_zone: bool,
}

/// What one flow into a target carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    Requests,
    HealthChecks,
    /// The requests and the health checks: one source, one port.
    Both,
}

/// One flow into a target: from where, on which port, carrying what, and,
/// when the source is not the load balancer itself, why it is that one.
pub struct TargetFlow<'a, 's> {
    pub src: Side<'a>,
    pub port: u16,
    pub carries: Carries,
    pub preserved: Option<&'s str>,
}

impl<'a> TargetSources<'a> {
    /// The flows into `dst`: the requests on the traffic port from each
    /// source they come from, and the health checks from the load balancer
    /// on theirs, as separate flows (a port admitted does not admit the
    /// other), or one flow when source and port coincide. Each source is
    /// as `dst` sees it ([`Self::toward`]).
    pub fn flows_to(&self, dst: &Side, traffic: u16, health: u16) -> Vec<TargetFlow<'a, '_>> {
        let mut flows = Vec::new();
        let mut health_judged = false;
        for (src, why) in &self.requests {
            let own = src.label == self.health.label;
            let carries = if own && traffic == health {
                health_judged = true;
                Carries::Both
            } else {
                Carries::Requests
            };
            let preserved = (!own).then_some(why.as_str());
            flows.push(TargetFlow {
                src: self.toward(src, dst),
                port: traffic,
                carries,
                preserved,
            });
        }
        if !health_judged {
            let src = self.toward(&self.health, dst);
            flows.push(TargetFlow {
                src,
                port: health,
                carries: Carries::HealthChecks,
                preserved: None,
            });
        }
        flows
    }

    /// `src` as the target `dst` sees it: with cross-zone load balancing
    /// off, only the nodes in the target's zone send to it (NLB guide,
    /// "Cross-zone load balancing"), so only their subnets and addresses
    /// are judged. When the zone of either end is not known, or no node
    /// shares it, every node is kept, as with cross-zone on.
    pub fn toward(&self, src: &Side<'a>, dst: &Side) -> Side<'a> {
        let Some(zone) = dst.zones.first().and_then(|z| z.az.as_deref()) else {
            return src.clone();
        };
        let same: Vec<Zone> = src
            .zones
            .iter()
            .filter(|z| z.az.as_deref() == Some(zone))
            .cloned()
            .collect();
        if !self.same_zone || same.is_empty() {
            return src.clone();
        }
        Side {
            zones: same,
            ..src.clone()
        }
    }
}

/// The attribute a target group and its NLB both carry.
const CROSS_ZONE: &str = "load_balancing.cross_zone.enabled";

type Attrs = std::collections::BTreeMap<String, String>;

/// Whether cross-zone load balancing is on for `hop`'s target group, and
/// what says so (NLB guide, "Cross-zone load balancing"): the group's
/// `load_balancing.cross_zone.enabled` (`true`, `false`), else, when it
/// defers (`use_load_balancer_configuration`) or is silent, the NLB's,
/// which is off unless it says `true`. `nlb` is read only when needed.
pub fn cross_zone<'m, E>(
    hop: &TargetGroupHop,
    group: Result<Option<&'m Attrs>, E>,
    nlb: impl FnOnce() -> Result<Option<&'m Attrs>, E>,
) -> Result<(bool, String), E> {
    let name = hop.tg.name.as_deref().unwrap_or(&hop.tg.arn);
    match group?.and_then(|a| a.get(CROSS_ZONE)).map(|v| v.trim()) {
        Some("true") => {
            return Ok((
                true,
                format!("target group {name} sets {CROSS_ZONE} = true"),
            ));
        }
        Some("false") => {
            return Ok((
                false,
                format!("target group {name} sets {CROSS_ZONE} = false"),
            ));
        }
        _ => {}
    }
    let lb = &hop.lb.arn;
    Ok(
        match nlb()?.and_then(|a| a.get(CROSS_ZONE)).map(|v| v.trim()) {
            Some("true") => (true, format!("NLB {lb} sets {CROSS_ZONE} = true")),
            Some(v) => (false, format!("NLB {lb} sets {CROSS_ZONE} = {v}")),
            None => (
                false,
                format!("NLB {lb} reports no {CROSS_ZONE}, and an NLB's default is off"),
            ),
        },
    )
}

/// Whether cross-zone load balancing is known to be off ([`cross_zone`]
/// on what has been read). An unread setting counts as on, which judges
/// every node -> target pair: the zone verdict itself is `target-health`'s,
/// which reports the failed read.
fn cross_zone_off(view: &StageView, hop: &TargetGroupHop) -> bool {
    fn read<'m>(got: Option<Result<&'m Attrs, &Failure>>) -> Result<Option<&'m Attrs>, ()> {
        got.map_or(Err(()), |r| r.map(Some).map_err(|_| ()))
    }
    let group = read(view.peek::<res::TargetGroupAttributes>(&hop.tg.arn));
    let nlb = || read(view.peek::<res::LoadBalancerAttributes>(&hop.lb.arn));
    matches!(cross_zone(hop, group, nlb), Ok((false, _)))
}

/// The sources a target group's targets see. An ALB proxies, so its own
/// addresses; an NLB's too through a VPC link v1, since client IP
/// preservation has no effect on PrivateLink traffic (same guide); through
/// a VPC link v2 with preservation on, the link's interfaces, though a rule
/// naming the NLB's security group still admits them (ELB guide, "Update
/// the security groups for your Network Load Balancer"), so the side keeps
/// the NLB's groups.
/// With `groups` false, the sides carry no security groups, which are then
/// not read (the network-ACL check needs only where the ends sit).
pub fn target_sources<'a>(
    view: &StageView<'a>,
    hop: &TargetGroupHop<'a>,
    resource: &str,
    groups: bool,
) -> Hop<TargetSources<'a>> {
    // Every part is looked up before any failure returns, so a planning
    // run asks for all of them in one level.
    let (lb, link_end) = if groups {
        (
            lb_side as SideOf<LoadBalancer>,
            link_side as SideOf<VpcLinkV2>,
        )
    } else {
        (
            lb_place as SideOf<LoadBalancer>,
            link_place as SideOf<VpcLinkV2>,
        )
    };
    let health = lb(view, hop.lb, resource);
    let nlb_ip_targets = hop.lb.lb_type == Some(LbType::Network)
        && matches!(
            hop.tg.target_type,
            Some(TargetType::Instance | TargetType::Ip)
        );
    let mut through_links = Vec::new();
    for front in &hop.fronts {
        if let (Front::Link(link), true) = (front, nlb_ip_targets) {
            let preserved = client_ip_preserved(view, hop.tg, resource);
            through_links.push((preserved, link_end(view, link, resource)));
        }
    }
    let health = health?;
    let mut requests: Vec<(Side<'a>, String)> = Vec::new();
    let own = |why: String, requests: &mut Vec<(Side<'a>, String)>| {
        if !requests.iter().any(|(s, _)| s.label == health.label) {
            requests.push((health.clone(), why));
        }
    };
    for front in &hop.fronts {
        match front {
            Front::PrivateLink if nlb_ip_targets => own(
                "client IP preservation has no effect on PrivateLink traffic".to_string(),
                &mut requests,
            ),
            Front::Link(_) if nlb_ip_targets => {}
            _ => own(
                "the load balancer's own addresses".to_string(),
                &mut requests,
            ),
        }
    }
    for (preserved, link) in through_links {
        let (on, why) = preserved?;
        if !on {
            own(
                format!("client IP preservation is off ({why})"),
                &mut requests,
            );
            continue;
        }
        requests.push((
            preserved_side(&health, &link?),
            format!("client IP preservation is on ({why})"),
        ));
    }
    let same_zone = hop.lb.lb_type == Some(LbType::Network) && cross_zone_off(view, hop);
    Ok(TargetSources {
        requests,
        health,
        same_zone,
    })
}

/// The NLB's subnets and security groups, carrying the addresses of the
/// link's interfaces, which the NLB preserves as the source.
fn preserved_side<'a>(nlb: &Side<'a>, link: &Side<'a>) -> Side<'a> {
    let addrs = link.addrs();
    Side {
        label: format!("{}'s interfaces through {}", link.label, nlb.label),
        zones: nlb
            .zones
            .iter()
            .map(|z| Zone {
                subnet_id: z.subnet_id.clone(),
                cidr: z.cidr,
                addrs: addrs.clone(),
                exact: false,
                az: z.az.clone(),
            })
            .collect(),
        group_ids: nlb.group_ids.clone(),
        groups: nlb.groups.clone(),
    }
}
