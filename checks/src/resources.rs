//! One table of the AWS resource kinds the checks read.
//!
//! Each kind is declared once, in [`kinds!`] below: the [`Want`] a check
//! records when it looks one up and the snapshot lacks it, the
//! [`RegionData`] field its answers land in, the AWS operation and IAM
//! actions that read it, how many keys one call takes, and whether its
//! reads wait for the rest of a wave. The check-side lookups
//! ([`crate::view::StageView::get`]), the collector's wave planner and the
//! merge of its answers are loops over this table, so a new read is one
//! line here plus the collector function that performs it.
//!
//! Nothing here knows the AWS SDK: the collector registers one `async fn`
//! per [`Kind`] beside its service code, and an exhaustive `match` there
//! makes a kind without a reader a compile error.

use std::collections::BTreeMap;

use crate::model::{self as m, Fetched, RegionData};

/// How a kind's keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// One call per key.
    One,
    /// Up to this many keys per describe call.
    Many(usize),
    /// One listing answers every key; the collector reads it once and
    /// resolves each key from it.
    Listing,
}

/// Whether a kind's reads wait for the rest of the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Read as soon as wanted: later reads depend on it.
    No,
    /// Read only when nothing else is in flight or wanted: nothing is read
    /// because of it, and the last structural wave wants most of them, so
    /// waiting batches them without adding a level.
    Leaf,
    /// Read only when no other wave is in flight: one describe serves every
    /// key, and something else is still read because of it.
    Quiet,
}

/// What one wave of reads brings back, before it is merged into the
/// region ([`land`]).
#[derive(Debug, Default)]
pub struct Answer {
    /// Results read by key: they replace what the region holds.
    pub data: RegionData,
    /// Results met on the way (the target groups of a load balancer): they
    /// never replace a result read, or failed, by key.
    pub seen: RegionData,
    /// What each stage's deployment serves: (API id, stage, routes).
    pub exports: Vec<(String, String, Fetched<Vec<m::Route>>)>,
    /// The authorizers of each API, by API id.
    pub authorizers: Vec<(String, Fetched<Vec<m::Authorizer>>)>,
}

/// A resource kind: how the checks name it and how AWS reads it.
#[derive(Debug)]
pub struct KindDef {
    pub kind: Kind,
    /// The AWS operation that answers it, as failures name it.
    pub operation: &'static str,
    /// The IAM actions a policy must allow to read it.
    pub iam_actions: &'static [&'static str],
    pub batch: Batch,
    pub wait: Wait,
    /// Merges this kind's part of an answer into the region.
    pub land: fn(&mut RegionData, &mut Answer),
}

/// A kind whose answers the region keeps in a map by key: what a
/// [`crate::view::StageView::get`] looks up.
pub trait Keyed {
    const KIND: Kind;
    type Value;
    fn map(region: &RegionData) -> &BTreeMap<String, Fetched<Self::Value>>;
}

/// Something a check looked up that the snapshot does not hold yet: the
/// collector reads it next.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Want {
    pub kind: Kind,
    /// The id or ARN; the API id for deployments and authorizers; empty for
    /// account-wide listings.
    pub key: String,
    /// What narrows the read: the VPC a private address is looked up in,
    /// the stage of a deployment.
    pub scope: Option<String>,
}

impl Want {
    pub fn new(kind: Kind, key: impl Into<String>) -> Want {
        Want {
            kind,
            key: key.into(),
            scope: None,
        }
    }

    pub fn scoped(kind: Kind, key: impl Into<String>, scope: Option<String>) -> Want {
        Want {
            kind,
            key: key.into(),
            scope,
        }
    }

    pub fn def(&self) -> &'static KindDef {
        self.kind.def()
    }

    /// The AWS operation that answers it.
    pub fn operation(&self) -> &'static str {
        self.def().operation
    }
}

/// Declares every kind: the [`Kind`] variant, for map-shaped kinds a
/// [`Keyed`] marker type of the same name, and its [`KindDef`] row. The
/// order is the order of a wave's reads: what later waves depend on first,
/// what nothing waits for last.
macro_rules! kinds {
    ( $( $(#[$m:meta])* $kind:ident: $how:ident $args:tt, $op:literal,
         [$($iam:literal),+], $batch:expr, $wait:expr; )+ ) => {
        /// A kind of AWS resource the checks read.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $( $(#[$m])* $kind, )+
        }

        $( kinds!(@marker $kind $how $args); )+

        /// Every kind, in the order a wave reads them.
        pub static KINDS: &[KindDef] = &[
            $( KindDef {
                kind: Kind::$kind,
                operation: $op,
                iam_actions: &[$($iam),+],
                batch: $batch,
                wait: $wait,
                land: kinds!(@land $how $args),
            }, )+
        ];
    };
    (@marker $kind:ident map ($field:ident => $value:ty)) => {
        #[doc = concat!("Looks up `RegionData::", stringify!($field), "`.")]
        pub struct $kind;
        impl Keyed for $kind {
            const KIND: Kind = Kind::$kind;
            type Value = $value;
            fn map(region: &RegionData) -> &BTreeMap<String, Fetched<$value>> {
                &region.$field
            }
        }
    };
    (@marker $kind:ident custom ($land:expr)) => {};
    (@land map ($field:ident => $value:ty)) => {
        |rd, a| {
            rd.$field.extend(std::mem::take(&mut a.data.$field));
            for (k, v) in std::mem::take(&mut a.seen.$field) {
                rd.$field.entry(k).or_insert(v);
            }
        }
    };
    (@land custom ($land:expr)) => {
        $land
    };
}

const ELB_ARNS: Batch = Batch::Many(20);
/// EC2 describes take at most 200 values per filter.
const EC2_FILTER: Batch = Batch::Many(200);

kinds! {
    /// Every VPC link (v1) of the region, from one listing.
    VpcLink: map(vpc_links => m::VpcLink),
        "apigateway:GetVpcLinks", ["apigateway:GET"], Batch::Listing, Wait::No;
    /// Every VPC link (v2) of the region, from one listing.
    VpcLinkV2: map(vpc_links_v2 => m::VpcLinkV2),
        "apigateway:GetVpcLinks (v2)", ["apigateway:GET"], Batch::Listing, Wait::No;
    /// A load balancer; its target groups are read with it.
    LoadBalancer: map(load_balancers => m::LoadBalancer),
        "elasticloadbalancing:DescribeLoadBalancers",
        ["elasticloadbalancing:DescribeLoadBalancers",
         "elasticloadbalancing:DescribeTargetGroups"], ELB_ARNS, Wait::No;
    /// Every listener of a load balancer.
    Listeners: map(listeners => Vec<m::Listener>),
        "elasticloadbalancing:DescribeListeners",
        ["elasticloadbalancing:DescribeListeners"], Batch::One, Wait::No;
    /// Every rule of a listener.
    ListenerRules: map(listener_rules => Vec<m::ListenerRule>),
        "elasticloadbalancing:DescribeRules",
        ["elasticloadbalancing:DescribeRules"], Batch::One, Wait::No;
    TargetGroup: map(target_groups => m::TargetGroup),
        "elasticloadbalancing:DescribeTargetGroups",
        ["elasticloadbalancing:DescribeTargetGroups"], ELB_ARNS, Wait::No;
    TargetHealth: map(target_health => Vec<m::TargetHealth>),
        "elasticloadbalancing:DescribeTargetHealth",
        ["elasticloadbalancing:DescribeTargetHealth"], Batch::One, Wait::No;
    Instance: map(instances => m::Instance),
        "ec2:DescribeInstances", ["ec2:DescribeInstances"], EC2_FILTER, Wait::Quiet;
    /// The interfaces holding a private address, within a VPC if known.
    NetworkInterface: map(network_interfaces => Vec<m::NetworkInterface>),
        "ec2:DescribeNetworkInterfaces", ["ec2:DescribeNetworkInterfaces"],
        EC2_FILTER, Wait::No;
    /// The route table a subnet uses, by subnet id (scope: its VPC, when
    /// known, for the main table).
    RouteTable: map(route_tables => m::RouteTable),
        "ec2:DescribeRouteTables", ["ec2:DescribeRouteTables"], EC2_FILTER, Wait::Leaf;
    /// A load balancer's node interfaces, by load balancer ARN.
    LbInterfaces: map(lb_interfaces => Vec<m::NetworkInterface>),
        "ec2:DescribeNetworkInterfaces", ["ec2:DescribeNetworkInterfaces"],
        EC2_FILTER, Wait::Leaf;
    Subnet: map(subnets => m::Subnet),
        "ec2:DescribeSubnets", ["ec2:DescribeSubnets"], EC2_FILTER, Wait::Leaf;
    SecurityGroup: map(security_groups => m::SecurityGroup),
        "ec2:DescribeSecurityGroups", ["ec2:DescribeSecurityGroups"], EC2_FILTER, Wait::Leaf;
    /// The network ACL of a subnet, by subnet id.
    NetworkAcl: map(network_acls => m::NetworkAcl),
        "ec2:DescribeNetworkAcls", ["ec2:DescribeNetworkAcls"], EC2_FILTER, Wait::Leaf;
    PrefixList: map(prefix_lists => m::PrefixList),
        "ec2:GetManagedPrefixListEntries", ["ec2:GetManagedPrefixListEntries"],
        Batch::One, Wait::Leaf;
    /// The endpoint service fronting an NLB, by NLB ARN.
    EndpointService: map(endpoint_services => m::EndpointService),
        "ec2:DescribeVpcEndpointServiceConfigurations",
        ["ec2:DescribeVpcEndpointServiceConfigurations"], Batch::Listing, Wait::No;
    /// The endpoint connections of an endpoint service, by service id.
    EndpointConnections: map(endpoint_connections => Vec<m::EndpointConnection>),
        "ec2:DescribeVpcEndpointConnections", ["ec2:DescribeVpcEndpointConnections"],
        EC2_FILTER, Wait::No;
    /// The principals an endpoint service allows to connect, by service id.
    EndpointServicePermissions: map(endpoint_service_permissions => Vec<String>),
        "ec2:DescribeVpcEndpointServicePermissions",
        ["ec2:DescribeVpcEndpointServicePermissions"], Batch::One, Wait::No;
    /// A Cloud Map service with its instances and their health.
    CloudMapService: map(cloud_map_services => m::CloudMapService),
        "servicediscovery:ListInstances",
        ["servicediscovery:GetService", "servicediscovery:ListInstances",
         "servicediscovery:GetInstancesHealthStatus"], Batch::One, Wait::No;
    /// The API's authorizers; the key is the API id.
    Authorizers: custom(land_authorizers),
        "apigateway:GetAuthorizers", ["apigateway:GET"], Batch::One, Wait::No;
    LambdaFunction: map(lambda_functions => m::LambdaFunction),
        "lambda:GetPolicy",
        ["lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:GetFunctionConcurrency"],
        Batch::One, Wait::No;
    /// The custom domain names of the region, with their API mappings.
    DomainNames: custom(land_domain_names),
        "apigateway:GetDomainNames", ["apigateway:GET"], Batch::Listing, Wait::No;
    /// The account's CloudFront distributions.
    Distributions: custom(land_distributions),
        "cloudfront:ListDistributions", ["cloudfront:ListDistributions"],
        Batch::Listing, Wait::No;
    /// The usage plans serving the region's REST APIs, with their keys.
    UsagePlans: custom(land_usage_plans),
        "apigateway:GetUsagePlans", ["apigateway:GET"], Batch::Listing, Wait::No;
    /// What a stage's deployment serves (its export); the key is the API
    /// id, the scope the stage.
    Deployment: custom(land_exports),
        "apigateway:GetExport", ["apigateway:GET"], Batch::One, Wait::No;
    /// Every certificate of a listener (default and SNI).
    ListenerCertificates: map(listener_certificates => Vec<m::ListenerCertificate>),
        "elasticloadbalancing:DescribeListenerCertificates",
        ["elasticloadbalancing:DescribeListenerCertificates"], Batch::One, Wait::No;
    /// An ACM certificate, or an IAM server certificate (by its ARN).
    Certificate: map(certificates => m::Certificate),
        "acm:DescribeCertificate",
        ["acm:DescribeCertificate", "acm:GetCertificate", "iam:GetServerCertificate"],
        Batch::One, Wait::No;
    ListenerAttributes: map(listener_attributes => BTreeMap<String, String>),
        "elasticloadbalancing:DescribeListenerAttributes",
        ["elasticloadbalancing:DescribeListenerAttributes"], Batch::One, Wait::No;
    LoadBalancerAttributes: map(load_balancer_attributes => BTreeMap<String, String>),
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        ["elasticloadbalancing:DescribeLoadBalancerAttributes"], Batch::One, Wait::No;
    TargetGroupAttributes: map(target_group_attributes => BTreeMap<String, String>),
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        ["elasticloadbalancing:DescribeTargetGroupAttributes"], Batch::One, Wait::No;
}

fn land_domain_names(rd: &mut RegionData, a: &mut Answer) {
    if a.data.domain_names.is_some() {
        rd.domain_names = a.data.domain_names.take();
    }
}

fn land_distributions(rd: &mut RegionData, a: &mut Answer) {
    if a.data.distributions.is_some() {
        rd.distributions = a.data.distributions.take();
    }
}

fn land_usage_plans(rd: &mut RegionData, a: &mut Answer) {
    if a.data.usage_plans.is_some() {
        rd.usage_plans = a.data.usage_plans.take();
    }
}

fn land_authorizers(rd: &mut RegionData, a: &mut Answer) {
    for (api, v) in std::mem::take(&mut a.authorizers) {
        if let Some(rec) = rd.apis.iter_mut().find(|x| x.id == api) {
            rec.authorizers = Some(v);
        }
    }
}

fn land_exports(rd: &mut RegionData, a: &mut Answer) {
    for (api, stage, routes) in std::mem::take(&mut a.exports) {
        if let Some(rec) = rd.apis.iter_mut().find(|x| x.id == api) {
            rec.deployed_routes.insert(stage, routes);
        }
    }
}

impl Kind {
    /// This kind's row of [`KINDS`].
    pub fn def(self) -> &'static KindDef {
        // Rows are declared in the same order as the variants.
        &KINDS[self as usize]
    }
}

/// Merges a wave's answer into the region, kind by kind.
pub fn land(region: &mut RegionData, mut answer: Answer) {
    for def in KINDS {
        (def.land)(region, &mut answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fetched, Subnet};

    #[test]
    fn every_row_describes_its_own_kind() {
        for (i, def) in KINDS.iter().enumerate() {
            assert_eq!(def.kind as usize, i, "{:?} is out of place", def.kind);
            assert!(def.operation.contains(':'), "{:?}", def.kind);
            assert!(!def.iam_actions.is_empty(), "{:?}", def.kind);
        }
    }

    fn subnet(id: &str, cidr: &str) -> Fetched<Subnet> {
        Fetched::Ok(Subnet {
            id: id.into(),
            arn: None,
            vpc_id: None,
            availability_zone: None,
            cidr_block: Some(cidr.into()),
            ipv6_cidr_blocks: Vec::new(),
        })
    }

    #[test]
    fn answers_read_by_key_replace_and_answers_met_on_the_way_do_not() {
        let mut rd = RegionData::default();
        rd.subnets
            .insert("subnet-1".into(), subnet("subnet-1", "10.0.1.0/24"));
        let mut a = Answer::default();
        a.seen
            .subnets
            .insert("subnet-1".into(), subnet("subnet-1", "10.9.9.0/24"));
        a.seen
            .subnets
            .insert("subnet-2".into(), subnet("subnet-2", "10.0.2.0/24"));
        a.data
            .subnets
            .insert("subnet-3".into(), subnet("subnet-3", "10.0.3.0/24"));
        land(&mut rd, a);
        let cidr = |id: &str| rd.subnets[id].ok().and_then(|s| s.cidr_block.clone());
        assert_eq!(cidr("subnet-1").as_deref(), Some("10.0.1.0/24"));
        assert_eq!(cidr("subnet-2").as_deref(), Some("10.0.2.0/24"));
        assert_eq!(cidr("subnet-3").as_deref(), Some("10.0.3.0/24"));
    }
}
