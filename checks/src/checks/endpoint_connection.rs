//! `endpoint-connection`: (VPC link v1) the NLB's VPC endpoint service exists
//! and API Gateway's endpoint connection to it is `available`.
//!
//! API Gateway reaches a v1 link's NLB through PrivateLink: it creates an
//! endpoint service for the NLB in your account and connects an interface
//! endpoint of its own to it. A connection someone rejected, or a service
//! someone deleted, breaks every route on the link while the link itself can
//! still read AVAILABLE.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{
    EndpointConnection, EndpointConnectionState, EndpointService, EndpointServiceState,
    LoadBalancer,
};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding, private_routes};
use crate::view::StageView;
use crate::walk::privatelink_nlb;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::EndpointConnection,
        title: "PrivateLink endpoint connection to the NLB is available",
        severity: Severity::Critical,
        remediation: "Accept the pending or rejected endpoint connection on the NLB's endpoint service (aws ec2 accept-vpc-endpoint-connections); if the endpoint service was deleted, delete and recreate the VPC link so API Gateway creates it again.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for rp in routes {
        let lb = match privatelink_nlb(view, rp) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let svc = view.get::<res::EndpointService>(
            &lb.arn,
            &lb.arn,
            &format!("the endpoint service of {}", lb.arn),
        );
        let f = match svc {
            Err(b) => blocked_finding(meta, &b),
            Ok(None) => Finding::new(
                meta,
                Status::Fail,
                &lb.arn,
                format!(
                    "No VPC endpoint service fronts network load balancer {}, so API Gateway has no PrivateLink path to it; the VPC link needs one.",
                    lb.arn
                ),
            )
            .evidence(|| json!({ "load_balancer_arn": lb.arn, "endpoint_service": null })),
            Ok(Some(svc)) => judge_service(view, lb, svc),
        };
        out.add(f.routes([rp.label.clone()]));
    }
}

/// The finding on the endpoint service fronting the NLB: API Gateway's
/// endpoint connects through it, so it and a connection must be available.
fn judge_service(view: &StageView, lb: &LoadBalancer, svc: &EndpointService) -> Finding {
    let meta = &CHECK.meta;
    let svc_arn = view.ec2_arn("vpc-endpoint-service", &svc.service_id, None);
    let conns = view.get::<res::EndpointConnections>(
        &svc.service_id,
        &svc_arn,
        &format!("the endpoint connections of {}", svc.service_id),
    );
    match conns {
        Err(b) => blocked_finding(meta, &b),
        // A service AWS says has no connection list: none.
        Ok(None) => Finding::new(
            meta,
            Status::Fail,
            &svc_arn,
            format!(
                "Endpoint service {} of NLB {} has no endpoint connection, so API Gateway is not connected; it needs an available connection.",
                svc.service_id, lb.arn
            ),
        ),
        Ok(Some(conns)) => {
            let evidence = || {
                json!({
                    "load_balancer_arn": lb.arn,
                    "service_id": svc.service_id,
                    "service_name": svc.service_name,
                    "service_state": svc.state,
                    "acceptance_required": svc.acceptance_required,
                    "connections": conns,
                    "allowed_principals": view
                        .peek::<res::EndpointServicePermissions>(&svc.service_id)
                        .and_then(Result::ok),
                })
            };
            let (status, message) = connections_verdict(&view.region.region, lb, svc, conns);
            let (status, message) = principals_verdict(view, svc, status, message);
            Finding::new(meta, status, svc_arn, message).evidence(evidence)
        }
    }
}

/// The account that owns API Gateway's interface endpoints, by region: "The
/// following region-specific API Gateway account IDs are automatically added
/// to your VPC endpoint service as AllowedPrincipals when you create a
/// VpcLink" (Developer Guide, "API Gateway account IDs for VPC links",
/// and its China-regions edition). Regions the page does not list are
/// judged on every connection, with a warning naming that.
pub const API_GATEWAY_ACCOUNTS: &[(&str, &str)] = &[
    ("us-east-1", "392220576650"),
    ("us-east-2", "718770453195"),
    ("us-west-1", "968246515281"),
    ("us-west-2", "109351309407"),
    ("ca-central-1", "796887884028"),
    ("eu-west-1", "631144002099"),
    ("eu-west-2", "544388816663"),
    ("eu-west-3", "061510835048"),
    ("eu-central-1", "474240146802"),
    ("eu-central-2", "166639821150"),
    ("eu-north-1", "394634713161"),
    ("eu-south-1", "753362059629"),
    ("eu-south-2", "359345898052"),
    ("ap-northeast-1", "969236854626"),
    ("ap-northeast-2", "020402002396"),
    ("ap-northeast-3", "360671645888"),
    ("ap-southeast-1", "195145609632"),
    ("ap-southeast-2", "798376113853"),
    ("ap-southeast-3", "652364314486"),
    ("ap-southeast-4", "849137399833"),
    ("ap-south-1", "507069717855"),
    ("ap-south-2", "644042651268"),
    ("ap-east-1", "174803364771"),
    ("sa-east-1", "287228555773"),
    ("me-south-1", "855739686837"),
    ("me-central-1", "614065512851"),
    ("cn-north-1", "643738280308"),
    ("cn-northwest-1", "020741727910"),
];

/// API Gateway's account in `region`, when the Developer Guide names it.
pub fn api_gateway_account(region: &str) -> Option<&'static str> {
    API_GATEWAY_ACCOUNTS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, a)| *a)
}

/// The service's allowed principals, where they were read: API Gateway's
/// account is added to them when the VPC link is created (Developer Guide,
/// "API Gateway account IDs for VPC links"). Without it, an available
/// connection still carries traffic, but a new one (the link recreated)
/// would be refused; the guide does not say more, hence a warning. Unreadable
/// in a live run, a pass is an error (they could have made it a warning);
/// absent from an older snapshot, the connection decides alone.
fn principals_verdict(
    view: &StageView,
    svc: &EndpointService,
    status: Status,
    message: String,
) -> (Status, String) {
    let region = view.region.region.as_str();
    let Some(account) = api_gateway_account(region) else {
        return (status, message);
    };
    let principals = match view.peek::<res::EndpointServicePermissions>(&svc.service_id) {
        // Not in the snapshot (one recorded before they were read).
        None => return (status, message),
        Some(Ok(p)) => p,
        // Unreadable, they could have turned a pass into a warning.
        Some(Err(f)) if status == Status::Pass => {
            let what = format!("the allowed principals of endpoint service {}", svc.service_id);
            return (Status::Error, crate::finding::failure_sentence(&what, f));
        }
        Some(Err(_)) => return (status, message),
    };
    if principals.iter().any(|p| p == "*" || p.split(':').nth(4) == Some(account) || p == account) {
        return (status, message);
    }
    let allowed = if principals.is_empty() {
        "no principal".to_string()
    } else {
        principals.join(", ")
    };
    let add = format!("add arn:aws:iam::{account}:root to its allowed principals");
    match status {
        Status::Pass => (Status::Warn, format!(
            "API Gateway's endpoint connection to endpoint service {} is available, but the service allows {allowed} and not API Gateway's account {account} ({region}), so a new connection (the VPC link recreated) would be refused; {add}.",
            svc.service_id
        )),
        _ => (status, format!(
            "{}; the service allows {allowed} and not API Gateway's account {account} either: {add}.",
            message.trim_end_matches('.')
        )),
    }
}

fn describe(c: &EndpointConnection) -> String {
    format!(
        "{} of {} {}",
        c.vpc_endpoint_id.as_deref().unwrap_or("(unnamed endpoint)"),
        c.owner.as_deref().unwrap_or("an unknown owner"),
        c.state
            .as_ref()
            .map_or("unknown", EndpointConnectionState::as_str)
    )
}

/// The service's state, then API Gateway's own connection: found by its
/// owner, so that another consumer's available connection hides nothing.
fn connections_verdict(
    region: &str,
    lb: &LoadBalancer,
    svc: &EndpointService,
    conns: &[EndpointConnection],
) -> (Status, String) {
    let id = &svc.service_id;
    let found: Vec<String> = conns.iter().map(describe).collect();
    let found = found.join(", ");
    let svc_state = svc
        .state
        .as_ref()
        .map_or("unknown", EndpointServiceState::as_str);
    if svc.state != Some(EndpointServiceState::Available) {
        return (Status::Fail, format!(
            "Endpoint service {id} of NLB {} is {svc_state}; it needs to be Available for API Gateway to connect.",
            lb.arn
        ));
    }
    if conns.is_empty() {
        return (Status::Fail, format!(
            "Endpoint service {id} of NLB {} has no endpoint connection, so API Gateway is not connected; it needs an available connection.",
            lb.arn
        ));
    }
    let Some(account) = api_gateway_account(region) else {
        return unknown_owner(region, lb, svc, conns, &found);
    };
    let ours: Vec<&EndpointConnection> = conns
        .iter()
        .filter(|c| c.owner.as_deref() == Some(account))
        .collect();
    if let Some(c) = ours
        .iter()
        .find(|c| c.state == Some(EndpointConnectionState::Available))
    {
        return (Status::Pass, format!(
            "API Gateway's endpoint connection {} (owner {account}, API Gateway's account in {region}) to endpoint service {id} of NLB {} is available (all connections: {found}).",
            c.vpc_endpoint_id.as_deref().unwrap_or("(unnamed endpoint)"),
            lb.arn
        ));
    }
    if ours.is_empty() && conns.iter().any(|c| c.owner.is_none()) {
        return (Status::Warn, format!(
            "Endpoint service {id} of NLB {} has no connection owned by {account} (API Gateway's account in {region}), and AWS names no owner for some (found: {found}); if none of those is API Gateway's, its requests fail.",
            lb.arn
        ));
    }
    if ours.is_empty() {
        return (Status::Fail, format!(
            "Endpoint service {id} of NLB {} has no endpoint connection owned by {account}, API Gateway's account in {region} (found: {found}); API Gateway's connection needs to exist and be available: delete and recreate the VPC link.",
            lb.arn
        ));
    }
    (Status::Fail, format!(
        "API Gateway's endpoint connection to endpoint service {id} of NLB {} is not available (found: {found}); it needs to be accepted (owner {account}, API Gateway's account in {region}).",
        lb.arn
    ))
}

/// A region whose API Gateway account the Developer Guide does not name:
/// every connection must be available to be sure, so a pass is a warning.
fn unknown_owner(
    region: &str,
    lb: &LoadBalancer,
    svc: &EndpointService,
    conns: &[EndpointConnection],
    found: &str,
) -> (Status, String) {
    let id = &svc.service_id;
    let available = conns
        .iter()
        .filter(|c| c.state == Some(EndpointConnectionState::Available))
        .count();
    if available == 0 {
        return (Status::Fail, format!(
            "Endpoint service {id} of NLB {} has no available endpoint connection (found: {found}); API Gateway's connection needs to be available.",
            lb.arn
        ));
    }
    (Status::Warn, format!(
        "Endpoint service {id} of NLB {} has {available} of {} connection(s) available (found: {found}), but the API Gateway Developer Guide names no API Gateway account for {region}, so which one is API Gateway's cannot be told.",
        lb.arn,
        conns.len()
    ))
}
