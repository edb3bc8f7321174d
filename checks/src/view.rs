//! One stage of one API, as the checks see it: its routes resolved against
//! the stage (stage variables substituted, the integration URI parsed) and
//! the lookups that walk a private integration hop by hop.
//!
//! Every hop answers `Ok`, or [`Blocked`]: `Skip` when an earlier hop is
//! missing or broken (another check reports that, so this one does not
//! apply), `Error` when the data to go on could not be read. A check turns
//! `Blocked` into a finding on the deepest resource it reached, so nothing
//! downstream of an unreadable hop can come out `pass`.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use crate::model::{
    ApiRecord, Failure, FailureKind, Fetched, Integration, LoadBalancer, NetworkAcl, RegionData,
    Route, SecurityGroup, Snapshot, Stage, Subnet, TargetGroup, TargetHealth, VpcLink,
};
use crate::net::parse_v4;

/// Where a hop walk stopped, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// The deepest resource reached: the finding goes on it.
    pub resource: String,
    pub kind: BlockedKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockedKind {
    /// The check does not apply past this point; the reason says which
    /// other check reports the cause.
    Skip(String),
    /// `what` could not be read.
    Error { what: String, failure: Box<Failure> },
}

pub type Hop<T> = Result<T, Blocked>;

fn skip<T>(resource: impl Into<String>, reason: impl Into<String>) -> Hop<T> {
    Err(Blocked {
        resource: resource.into(),
        kind: BlockedKind::Skip(reason.into()),
    })
}

fn error<T>(resource: impl Into<String>, what: impl Into<String>, failure: &Failure) -> Hop<T> {
    Err(Blocked {
        resource: resource.into(),
        kind: BlockedKind::Error {
            what: what.into(),
            failure: Box::new(failure.clone()),
        },
    })
}

/// A lookup whose key the snapshot lacks: the collector never read it (a
/// truncated or hand-edited snapshot), which is an error, never "empty".
pub fn not_collected(operation: &str) -> Failure {
    Failure {
        operation: operation.to_string(),
        iam_action: None,
        kind: FailureKind::Malformed,
        code: None,
        message: "the snapshot holds no result for it".to_string(),
    }
}

/// Which generation of VPC link an integration goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkVersion {
    V1,
    V2,
}

/// An integration's connection id as written and as resolved on the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRef {
    pub version: LinkVersion,
    /// As written: an id or `${stageVariables.NAME}`.
    pub raw: String,
    /// The stage variable it names, if any.
    pub variable: Option<String>,
    /// The VPC link id, or why it could not be resolved.
    pub id: Result<String, String>,
}

/// Where the gateway connects: the integration URI after stage variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub uri: String,
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

/// A route whose integration goes through a VPC link.
#[derive(Debug, Clone)]
pub struct RoutePath<'a> {
    pub route: &'a Route,
    pub label: String,
    pub integration: &'a Integration,
    pub link: LinkRef,
    pub endpoint: Result<Endpoint, String>,
}

/// One stage of one API, with everything a check reads.
pub struct StageView<'a> {
    pub snapshot: &'a Snapshot,
    pub region: &'a RegionData,
    pub api: &'a ApiRecord,
    pub stage: &'a Stage,
    pub stage_arn: String,
    routes: Result<Vec<RoutePath<'a>>, &'a Failure>,
}

impl<'a> StageView<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        region: &'a RegionData,
        api: &'a ApiRecord,
        stage: &'a Stage,
    ) -> Self {
        let routes = match &api.routes {
            Fetched::Ok(routes) => Ok(routes
                .iter()
                .filter_map(|r| route_path(api, stage, r))
                .collect()),
            Fetched::NotFound(f) | Fetched::Error(f) => Err(f),
        };
        StageView {
            snapshot,
            region,
            api,
            stage,
            stage_arn: stage_arn(&region.region, api, &stage.name),
            routes,
        }
    }

    /// The routes whose integrations go through a VPC link, or the failure
    /// that kept the API's routes from being read.
    pub fn private_routes(&self) -> Result<&[RoutePath<'a>], &'a Failure> {
        match &self.routes {
            Ok(r) => Ok(r.as_slice()),
            Err(f) => Err(f),
        }
    }

    pub fn partition(&self) -> &'static str {
        partition(&self.region.region)
    }

    pub fn vpc_link_arn(&self, id: &str) -> String {
        format!(
            "arn:{}:apigateway:{}::/vpclinks/{id}",
            self.partition(),
            self.region.region
        )
    }

    pub fn ec2_arn(&self, kind: &str, id: &str, owner: Option<&str>) -> String {
        let account = owner.or(self.snapshot.account.as_deref()).unwrap_or("");
        format!(
            "arn:{}:ec2:{}:{account}:{kind}/{id}",
            self.partition(),
            self.region.region
        )
    }

    pub fn sg_arn(&self, sg: &SecurityGroup) -> String {
        self.ec2_arn("security-group", &sg.id, sg.owner_id.as_deref())
    }

    pub fn nacl_arn(&self, acl: &NetworkAcl) -> String {
        self.ec2_arn("network-acl", &acl.id, acl.owner_id.as_deref())
    }

    // ---- hop lookups -------------------------------------------------

    fn lookup<'m, T>(
        map: &'m BTreeMap<String, Fetched<T>>,
        key: &str,
        resource: &str,
        what: &str,
        operation: &str,
    ) -> Hop<Option<&'m T>> {
        match map.get(key) {
            Some(Fetched::Ok(v)) => Ok(Some(v)),
            Some(Fetched::NotFound(_)) => Ok(None),
            Some(Fetched::Error(f)) => error(resource, what, f),
            None => error(resource, what, &not_collected(operation)),
        }
    }

    /// The VPC link (v1) a route goes through.
    pub fn link_v1(&self, rp: &RoutePath) -> Hop<&'a VpcLink> {
        let id = match &rp.link.id {
            Ok(id) => id,
            Err(why) => return skip(&self.stage_arn, format!("{why} (see vpc-link-reference)")),
        };
        let arn = self.vpc_link_arn(id);
        match Self::lookup(
            &self.region.vpc_links,
            id,
            &arn,
            &format!("VPC link {id}"),
            "apigateway:GetVpcLinks",
        )? {
            Some(link) => Ok(link),
            None => skip(
                arn,
                format!("VPC link {id} does not exist (see vpc-link-reference)"),
            ),
        }
    }

    /// The NLB a VPC link (v1) targets.
    pub fn link_v1_load_balancer(&self, rp: &RoutePath) -> Hop<&'a LoadBalancer> {
        let link = self.link_v1(rp)?;
        let Some(arn) = link.target_arns.first() else {
            return skip(
                self.vpc_link_arn(&link.id),
                format!(
                    "VPC link {} targets no load balancer (see load-balancer-exists)",
                    link.id
                ),
            );
        };
        self.load_balancer(arn)
    }

    pub fn load_balancer(&self, arn: &str) -> Hop<&'a LoadBalancer> {
        match Self::lookup(
            &self.region.load_balancers,
            arn,
            arn,
            &format!("load balancer {arn}"),
            "elasticloadbalancing:DescribeLoadBalancers",
        )? {
            Some(lb) => Ok(lb),
            None => skip(
                arn,
                format!("load balancer {arn} does not exist (see load-balancer-exists)"),
            ),
        }
    }

    pub fn listeners(&self, lb: &LoadBalancer) -> Hop<&'a [Listener]> {
        match Self::lookup(
            &self.region.listeners,
            &lb.arn,
            &lb.arn,
            &format!("the listeners of {}", lb.arn),
            "elasticloadbalancing:DescribeListeners",
        )? {
            Some(l) => Ok(l.as_slice()),
            None => Ok(&[]),
        }
    }

    /// The listener serving `port`.
    pub fn listener_on(&self, lb: &LoadBalancer, port: u16) -> Hop<&'a Listener> {
        match self.listeners(lb)?.iter().find(|l| l.port == Some(port)) {
            Some(l) => Ok(l),
            None => skip(
                &lb.arn,
                format!(
                    "{} has no listener on port {port} (see listener-port)",
                    lb.arn
                ),
            ),
        }
    }

    /// The listener a v1 route reaches: link, NLB, listener on the URI port.
    pub fn v1_listener(&self, rp: &RoutePath) -> Hop<(&'a LoadBalancer, &'a Listener)> {
        let lb = self.link_v1_load_balancer(rp)?;
        let port = match &rp.endpoint {
            Ok(e) => e.port,
            Err(why) => return skip(&lb.arn, format!("{why} (see vpc-link-reference)")),
        };
        let listener = self.listener_on(lb, port)?;
        Ok((lb, listener))
    }

    pub fn target_group(&self, arn: &str) -> Hop<&'a TargetGroup> {
        match Self::lookup(
            &self.region.target_groups,
            arn,
            arn,
            &format!("target group {arn}"),
            "elasticloadbalancing:DescribeTargetGroups",
        )? {
            Some(tg) => Ok(tg),
            None => skip(arn, format!("target group {arn} does not exist")),
        }
    }

    pub fn target_health(&self, tg: &TargetGroup) -> Hop<&'a [TargetHealth]> {
        match Self::lookup(
            &self.region.target_health,
            &tg.arn,
            &tg.arn,
            &format!("the target health of {}", tg.arn),
            "elasticloadbalancing:DescribeTargetHealth",
        )? {
            Some(t) => Ok(t.as_slice()),
            None => skip(&tg.arn, format!("target group {} does not exist", tg.arn)),
        }
    }

    pub fn subnet(&self, id: &str, resource: &str) -> Hop<&'a Subnet> {
        match Self::lookup(
            &self.region.subnets,
            id,
            resource,
            &format!("subnet {id}"),
            "ec2:DescribeSubnets",
        )? {
            Some(s) => Ok(s),
            None => skip(resource, format!("subnet {id} does not exist")),
        }
    }

    /// A subnet's IPv4 CIDR; a subnet without one cannot carry the path.
    pub fn subnet_cidr(&self, id: &str, resource: &str) -> Hop<Ipv4Net> {
        let s = self.subnet(id, resource)?;
        match s.cidr_block.as_deref().and_then(parse_v4) {
            Some(n) => Ok(n),
            None => skip(resource, format!("subnet {id} has no IPv4 CIDR block")),
        }
    }

    pub fn security_group(&self, id: &str, resource: &str) -> Hop<&'a SecurityGroup> {
        match Self::lookup(
            &self.region.security_groups,
            id,
            resource,
            &format!("security group {id}"),
            "ec2:DescribeSecurityGroups",
        )? {
            Some(s) => Ok(s),
            None => skip(resource, format!("security group {id} does not exist")),
        }
    }

    pub fn security_groups(&self, ids: &[String], resource: &str) -> Hop<Vec<&'a SecurityGroup>> {
        ids.iter()
            .map(|id| self.security_group(id, resource))
            .collect()
    }

    pub fn network_acl(&self, subnet_id: &str, resource: &str) -> Hop<&'a NetworkAcl> {
        match Self::lookup(
            &self.region.network_acls,
            subnet_id,
            resource,
            &format!("the network ACL of subnet {subnet_id}"),
            "ec2:DescribeNetworkAcls",
        )? {
            Some(a) => Ok(a),
            None => skip(resource, format!("subnet {subnet_id} has no network ACL")),
        }
    }

    /// A prefix list's IPv4 CIDRs, or `None` when it could not be read.
    pub fn prefix_list_cidrs(&self, id: &str) -> Option<Vec<Ipv4Net>> {
        match self.region.prefix_lists.get(id) {
            Some(Fetched::Ok(pl)) => Some(pl.cidrs.iter().filter_map(|c| parse_v4(c)).collect()),
            _ => None,
        }
    }

    /// The target groups a listener's default action forwards to, in order,
    /// without repeats.
    pub fn forward_target_groups(listener: &Listener) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in listener
            .default_actions
            .iter()
            .filter(|a| a.action_type == "forward")
        {
            for tg in &a.target_groups {
                if !out.contains(&tg.arn.as_str()) {
                    out.push(&tg.arn);
                }
            }
        }
        out
    }

    /// Where a registered target sits on the network.
    pub fn target_location(&self, tg: &TargetGroup, target: &TargetHealth) -> Hop<TargetLocation> {
        let kind = tg.target_type.as_deref().unwrap_or("instance");
        let resource = tg.arn.as_str();
        match kind {
            "instance" => {
                let id = &target.target_id;
                let inst = match Self::lookup(
                    &self.region.instances,
                    id,
                    resource,
                    &format!("instance {id}"),
                    "ec2:DescribeInstances",
                )? {
                    Some(i) => i,
                    None => return skip(resource, format!("instance {id} does not exist")),
                };
                let (Some(subnet), Some(ip)) = (
                    &inst.subnet_id,
                    inst.private_ip.as_deref().and_then(parse_ip),
                ) else {
                    return skip(
                        resource,
                        format!("instance {id} has no subnet or private IPv4 address"),
                    );
                };
                Ok(TargetLocation {
                    target: id.clone(),
                    ip,
                    subnet_id: subnet.clone(),
                    security_groups: inst.security_groups.clone(),
                })
            }
            "ip" => {
                let Some(ip) = parse_ip(&target.target_id) else {
                    return skip(
                        resource,
                        format!("target {} is not an IPv4 address", target.target_id),
                    );
                };
                let enis = match Self::lookup(
                    &self.region.network_interfaces,
                    &target.target_id,
                    resource,
                    &format!("the network interface holding {}", target.target_id),
                    "ec2:DescribeNetworkInterfaces",
                )? {
                    Some(e) => e,
                    None => {
                        return skip(
                            resource,
                            format!("no network interface holds {}", target.target_id),
                        );
                    }
                };
                match enis.iter().find(|e| e.subnet_id.is_some()) {
                    Some(eni) => Ok(TargetLocation {
                        target: target.target_id.clone(),
                        ip,
                        subnet_id: eni.subnet_id.clone().unwrap_or_default(),
                        security_groups: eni.security_groups.clone(),
                    }),
                    None => skip(
                        resource,
                        format!(
                            "IP target {} is not on a network interface in this account (outside the VPC or on premises), so its security groups and subnet are not visible",
                            target.target_id
                        ),
                    ),
                }
            }
            other => skip(
                resource,
                format!(
                    "targets of type {other} are not reached through security groups and subnets this check can read"
                ),
            ),
        }
    }
}

pub use crate::model::Listener;

/// A target's address, subnet and security groups.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetLocation {
    pub target: String,
    pub ip: std::net::Ipv4Addr,
    pub subnet_id: String,
    pub security_groups: Vec<String>,
}

fn parse_ip(s: &str) -> Option<std::net::Ipv4Addr> {
    s.trim().parse().ok()
}

/// The AWS partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

pub fn api_arn(region: &str, api: &ApiRecord) -> String {
    let coll = match api.kind {
        crate::model::ApiKind::Rest => "restapis",
        crate::model::ApiKind::Http => "apis",
    };
    format!(
        "arn:{}:apigateway:{region}::/{coll}/{}",
        partition(region),
        api.id
    )
}

pub fn stage_arn(region: &str, api: &ApiRecord, stage: &str) -> String {
    format!("{}/stages/{stage}", api_arn(region, api))
}

/// Resolves `${stageVariables.NAME}` references in `text`.
pub fn substitute_stage_variables(text: &str, stage: &Stage) -> Result<String, String> {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "`{text}` has an unterminated stage variable reference"
            ));
        };
        let name = &after[..end];
        match stage.variables.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(format!(
                    "stage variable `{name}` used by `{text}` is not defined on stage {}",
                    stage.name
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The stage variable an expression consists of, if it is exactly one.
fn sole_variable(raw: &str) -> Option<String> {
    raw.trim()
        .strip_prefix("${stageVariables.")
        .and_then(|s| s.strip_suffix('}'))
        .map(str::to_string)
}

/// The VPC-link routes of `api` as `stage` resolves them. The collector
/// uses this to decide what to read, so it reads exactly what checks walk.
pub fn route_paths<'a>(api: &'a ApiRecord, stage: &Stage) -> Vec<RoutePath<'a>> {
    match &api.routes {
        Fetched::Ok(routes) => routes
            .iter()
            .filter_map(|r| route_path(api, stage, r))
            .collect(),
        _ => Vec::new(),
    }
}

fn route_path<'a>(api: &ApiRecord, stage: &Stage, route: &'a Route) -> Option<RoutePath<'a>> {
    let integration = route.integration.as_ref()?;
    if !integration
        .connection_type
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("VPC_LINK"))
    {
        return None;
    }
    let version = match api.kind {
        crate::model::ApiKind::Http => LinkVersion::V2,
        crate::model::ApiKind::Rest if integration.integration_target.is_some() => LinkVersion::V2,
        crate::model::ApiKind::Rest => LinkVersion::V1,
    };
    let raw = integration.connection_id.clone().unwrap_or_default();
    let link = LinkRef {
        version,
        variable: sole_variable(&raw),
        id: if raw.trim().is_empty() {
            Err(format!(
                "the integration of {} has no connection id",
                route.label()
            ))
        } else {
            substitute_stage_variables(&raw, stage).and_then(|id| {
                if id.trim().is_empty() {
                    Err(format!(
                        "connection id `{raw}` resolves to an empty string on stage {}",
                        stage.name
                    ))
                } else {
                    Ok(id.trim().to_string())
                }
            })
        },
        raw,
    };
    let endpoint = match integration.uri.as_deref() {
        None | Some("") => Err(format!("the integration of {} has no URI", route.label())),
        Some(uri) => substitute_stage_variables(uri, stage).and_then(|u| parse_endpoint(&u)),
    };
    Some(RoutePath {
        route,
        label: route.label(),
        integration,
        link,
        endpoint,
    })
}

/// Parses an integration URI into scheme, host and the port the gateway
/// connects to (the explicit port, else 80 for http and 443 for https).
pub fn parse_endpoint(uri: &str) -> Result<Endpoint, String> {
    let parsed = url::Url::parse(uri)
        .map_err(|e| format!("integration URI `{uri}` is not a valid URL ({e})"))?;
    let scheme = parsed.scheme().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "integration URI `{uri}` uses scheme {scheme}, not http or https"
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("integration URI `{uri}` has no host"))?
        .to_ascii_lowercase();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| format!("integration URI `{uri}` has no port"))?;
    Ok(Endpoint {
        uri: uri.to_string(),
        scheme,
        host,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(vars: &[(&str, &str)]) -> Stage {
        Stage {
            name: "prod".into(),
            deployment_id: None,
            variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            method_settings: Default::default(),
            access_log: None,
            auto_deploy: None,
        }
    }

    #[test]
    fn endpoint_ports_follow_the_scheme_unless_explicit() {
        assert_eq!(
            parse_endpoint("http://nlb.example:8080/x/{id}")
                .unwrap()
                .port,
            8080
        );
        assert_eq!(parse_endpoint("http://nlb.example/x").unwrap().port, 80);
        let e = parse_endpoint("HTTPS://API.Internal.Example/x").unwrap();
        assert_eq!(
            (e.scheme.as_str(), e.host.as_str(), e.port),
            ("https", "api.internal.example", 443)
        );
        assert!(parse_endpoint("ftp://x/").is_err());
        assert!(parse_endpoint("not a url").is_err());
    }

    #[test]
    fn stage_variables_substitute_or_name_the_missing_one() {
        let s = stage(&[("host", "nlb.example"), ("link", "abc123")]);
        assert_eq!(
            substitute_stage_variables("http://${stageVariables.host}:81/", &s).unwrap(),
            "http://nlb.example:81/"
        );
        let err = substitute_stage_variables("${stageVariables.vpcLinkId}", &s).unwrap_err();
        assert!(
            err.contains("`vpcLinkId`") && err.contains("stage prod"),
            "{err}"
        );
        assert!(substitute_stage_variables("${stageVariables.x", &s).is_err());
        assert_eq!(
            sole_variable("${stageVariables.link}").as_deref(),
            Some("link")
        );
        assert_eq!(sole_variable("abc"), None);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
