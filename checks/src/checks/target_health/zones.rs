//! Zones without a healthy target behind an NLB whose cross-zone load
//! balancing is off.
//!
//! NLB guide, "Cross-zone load balancing": an NLB has it off by default
//! (load-balancer attribute `load_balancing.cross_zone.enabled`), and a
//! target group overrides it with the same key (`true`, `false`, or
//! `use_load_balancer_configuration`). With it off each node sends only to
//! the targets in its own zone. Knowledge center
//! "elb-dns-cross-zone-balance-configuration": a zone with no healthy
//! target leaves the load balancer's DNS, but a PrivateLink endpoint in that
//! zone (a VPC link v1) still reaches that zone's node, and when every zone
//! is unhealthy the NLB fails open. An enabled zone without a healthy target
//! is therefore a `warn` (intermittent 5xx, "Network error communicating
//! with endpoint"), naming the zone and the setting.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::{Finding, Status};
use crate::model::{LbType, TargetHealth, TargetHealthState, TargetType};
use crate::resources as res;
use crate::toolkit::blocked_finding;
use crate::view::{Hop, StageView};
use crate::walk::TargetGroupHop;

use super::CHECK;

/// `f`, the verdict on a target group's health, with what cross-zone load
/// balancing makes of it: unchanged when the load balancer is not an NLB,
/// when no target is healthy (the verdict is already a failure) or when
/// cross-zone is on; else a warning for each enabled zone left without a
/// healthy target.
pub fn judge(view: &StageView, hop: &TargetGroupHop, targets: &[TargetHealth], f: Finding) -> Finding {
    let nlb = hop.lb.lb_type == Some(LbType::Network);
    let ours = matches!(hop.tg.target_type, Some(TargetType::Instance | TargetType::Ip) | None);
    if !nlb || !ours || !matches!(f.status, Status::Pass | Status::Warn) {
        return f;
    }
    let (on, setting) = match cross_zone(view, hop) {
        Ok(v) => v,
        Err(b) => return blocked_finding(&CHECK.meta, &b),
    };
    if on {
        return f;
    }
    let coverage = match healthy_zones(view, hop, targets) {
        Ok(c) => c,
        Err(b) => return blocked_finding(&CHECK.meta, &b),
    };
    verdict(hop, f, &setting, &coverage)
}

/// Looks both cross-zone settings up before the targets' health is known,
/// so a planning run reads them beside it instead of two levels later. The
/// load balancer's is read even when the group overrides it (rare: groups
/// defer by default), which costs a call and saves a level.
pub fn ask_ahead(view: &StageView, hop: &TargetGroupHop) {
    if hop.lb.lb_type == Some(LbType::Network) {
        let _ = view.peek::<res::TargetGroupAttributes>(&hop.tg.arn);
        let _ = view.peek::<res::LoadBalancerAttributes>(&hop.lb.arn);
    }
}

/// Whether cross-zone load balancing is on for this group, and what says
/// so ([`crate::sides::cross_zone`]): the group's own setting is read
/// first, the load balancer's only when the group defers to it.
fn cross_zone(view: &StageView, hop: &TargetGroupHop) -> Hop<(bool, String)> {
    let (tg, lb) = (hop.tg, hop.lb);
    let what = format!("the attributes of target group {}", tg.arn);
    let group = view.get::<res::TargetGroupAttributes>(&tg.arn, &tg.arn, &what);
    let nlb = || {
        let what = format!("the attributes of {}", lb.arn);
        view.get::<res::LoadBalancerAttributes>(&lb.arn, &tg.arn, &what)
    };
    crate::sides::cross_zone(hop, group, nlb)
}

/// Which zones have a healthy target, and the healthy targets whose zone
/// is not known. A target in zone `all` (an IP address outside the VPC)
/// receives from every zone.
struct Coverage {
    healthy_in: BTreeMap<String, usize>,
    everywhere: usize,
    unknown: Vec<String>,
}

fn healthy_zones(view: &StageView, hop: &TargetGroupHop, targets: &[TargetHealth]) -> Hop<Coverage> {
    let mut c = Coverage {
        healthy_in: BTreeMap::new(),
        everywhere: 0,
        unknown: Vec::new(),
    };
    for t in targets.iter().filter(|t| t.state == Some(TargetHealthState::Healthy)) {
        match t.availability_zone.as_deref() {
            Some("all") => c.everywhere += 1,
            Some(z) => *c.healthy_in.entry(z.to_string()).or_default() += 1,
            None => match zone_of(view, hop, t)? {
                Some(z) => *c.healthy_in.entry(z).or_default() += 1,
                None => c.unknown.push(t.target_id.clone()),
            },
        }
    }
    Ok(c)
}

/// A target's zone when DescribeTargetHealth does not say (AWS reports it
/// for IP targets, not for instances): an instance's own placement, which
/// the network checks read already, else the zone of the subnet it sits in.
fn zone_of(view: &StageView, hop: &TargetGroupHop, t: &TargetHealth) -> Hop<Option<String>> {
    let tg = hop.tg;
    if matches!(tg.target_type, Some(TargetType::Instance) | None) {
        let id = &t.target_id;
        let inst = view.get::<res::Instance>(id, &tg.arn, &format!("instance {id}"))?;
        if let Some(z) = inst.and_then(|i| i.availability_zone.clone()) {
            return Ok(Some(z));
        }
    }
    let mut zone = None;
    for loc in view.target_locations(tg, t)? {
        zone = view.subnet(&loc.subnet_id, &tg.arn)?.availability_zone.clone();
    }
    Ok(zone)
}

fn verdict(hop: &TargetGroupHop, mut f: Finding, setting: &str, c: &Coverage) -> Finding {
    let name = hop.tg.name.as_deref().unwrap_or(&hop.tg.arn);
    let enabled: BTreeSet<&str> = hop.lb.zones.iter().filter_map(|z| z.zone_name.as_deref()).collect();
    let empty: Vec<&str> = if c.everywhere > 0 {
        Vec::new()
    } else {
        enabled.iter().copied().filter(|z| !c.healthy_in.contains_key(*z)).collect()
    };
    let zones: Vec<&str> = enabled.iter().copied().collect();
    let sentence = if !empty.is_empty() {
        format!(
            "Cross-zone load balancing is off ({setting}) and enabled zone(s) {} of NLB {} have no healthy target of target group {name}, so requests the node there receives fail intermittently (\"Network error communicating with endpoint\"); register a healthy target in each enabled zone or turn cross-zone load balancing on.",
            empty.join(", "),
            hop.lb.arn
        )
    } else if !c.unknown.is_empty() {
        format!(
            "Cross-zone load balancing is off ({setting}) and AWS reports no zone for healthy target(s) {}, so whether each enabled zone ({}) has a healthy target cannot be verified.",
            c.unknown.join(", "),
            zones.join(", ")
        )
    } else {
        let covered = format!(
            " Cross-zone load balancing is off ({setting}), and every enabled zone ({}) has a healthy target.",
            zones.join(", ")
        );
        f.message.push_str(&covered);
        return f;
    };
    if f.status == Status::Pass {
        f.status = Status::Warn;
        f.message = sentence;
    } else {
        f.message = format!("{} {sentence}", f.message);
    }
    f
}
