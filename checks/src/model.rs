//! The snapshot: everything apigw-audit read from AWS, as plain data.
//!
//! The collector converts every SDK response into these types at the
//! boundary, so the checks never see an SDK type and a snapshot written with
//! `--record` can be audited offline with the same verdicts. Every lookup is
//! kept as a [`Fetched`] value: a resource that was read, one AWS said does not
//! exist, or one whose call failed. A failed call is never stored as "empty":
//! that is how a check tells "no rule allows it" from "we could not see".
//!
//! Maps are `BTreeMap`s so a recorded snapshot is byte-for-byte stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod values;

pub use values::{
    AuthorizationType, AuthorizerType, CertificateStatus, CertificateType, CloudMapHealth,
    EndpointConnectionState, EndpointServiceState, LbState, LbType, Protocol, TargetHealthState,
    TargetType, ViewerProtocolPolicy, VpcLinkStatus,
};

/// The snapshot format version. Readers refuse any other value.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;

/// Everything one run read, across the regions it audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// When the data was read. Time-dependent verdicts (certificate expiry)
    /// are taken at this instant, so a snapshot audits the same way forever.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// The account of the credentials, from STS; `None` when unknown.
    pub account: Option<String>,
    /// Why `account` is unknown, when STS was asked and failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_failure: Option<Failure>,
    pub regions: Vec<RegionData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// Why a resource could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The AWS operation, as `service:Operation` (e.g. `ec2:DescribeNetworkAcls`).
    pub operation: String,
    /// The IAM action (and resource, for API Gateway) the call needs.
    pub iam_action: Option<String>,
    pub kind: FailureKind,
    /// The service's error code, when it sent one.
    pub code: Option<String>,
    pub message: String,
}

impl Failure {
    /// "`operation` failed: `message`", as a clause inside a sentence.
    pub fn clause(&self) -> String {
        format!(
            "{} failed: {}",
            self.operation,
            self.message.trim_end_matches('.')
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// AWS answered that the resource does not exist.
    NotFound,
    AccessDenied,
    Throttled,
    Timeout,
    /// No connection could be made, or it broke.
    Unreachable,
    /// The service answered with an error we do not classify.
    Service,
    /// The answer could not be parsed or lacked fields the model needs.
    Malformed,
}

/// One lookup's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched<T> {
    Ok(T),
    /// AWS said it does not exist (a fact, not an error).
    NotFound(Failure),
    /// The call failed; nothing is known about the resource.
    Error(Failure),
}

impl<T> Fetched<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Fetched::Ok(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Fetched<&T> {
        match self {
            Fetched::Ok(v) => Fetched::Ok(v),
            Fetched::NotFound(f) => Fetched::NotFound(f.clone()),
            Fetched::Error(f) => Fetched::Error(f.clone()),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fetched<U> {
        match self {
            Fetched::Ok(v) => Fetched::Ok(f(v)),
            Fetched::NotFound(e) => Fetched::NotFound(e),
            Fetched::Error(e) => Fetched::Error(e),
        }
    }
}

/// One region's resources. Keys are the ids or ARNs the checks look up;
/// a key that is absent was never collected (which a check reports as an
/// `error`, since it cannot decide without it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegionData {
    pub region: String,
    pub apis: Vec<ApiRecord>,
    /// Why the region's APIs are unknown, when they could not be listed
    /// (or a named API could not be looked up): an SCP that denies the
    /// region, an endpoint that cannot be reached. `apis` is then empty
    /// because nothing could be read, not because there is nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlisted: Option<Failure>,
    /// APIs found and not judged (WebSocket APIs), with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_apis: Vec<SkippedApi>,
    /// API Gateway's account settings (the CloudWatch Logs role).
    pub apigateway_account: Option<Fetched<ApiGatewayAccount>>,
    /// VPC links v1, by id.
    pub vpc_links: BTreeMap<String, Fetched<VpcLink>>,
    /// VPC links v2, by id.
    pub vpc_links_v2: BTreeMap<String, Fetched<VpcLinkV2>>,
    /// By load balancer ARN.
    pub load_balancers: BTreeMap<String, Fetched<LoadBalancer>>,
    /// `DescribeLoadBalancerAttributes`, by load balancer ARN.
    pub load_balancer_attributes: BTreeMap<String, Fetched<BTreeMap<String, String>>>,
    /// Every listener of a load balancer, by load balancer ARN.
    pub listeners: BTreeMap<String, Fetched<Vec<Listener>>>,
    /// Every rule of a listener (ALB), by listener ARN.
    pub listener_rules: BTreeMap<String, Fetched<Vec<ListenerRule>>>,
    /// By target group ARN.
    pub target_groups: BTreeMap<String, Fetched<TargetGroup>>,
    /// `DescribeTargetGroupAttributes`, by target group ARN (client IP
    /// preservation, cross-zone override).
    pub target_group_attributes: BTreeMap<String, Fetched<BTreeMap<String, String>>>,
    /// `DescribeTargetHealth`, by target group ARN.
    pub target_health: BTreeMap<String, Fetched<Vec<TargetHealth>>>,
    /// By instance id.
    pub instances: BTreeMap<String, Fetched<Instance>>,
    /// Network interfaces holding a private IPv4 address (IP targets), by
    /// address. `Ok(vec![])` means no interface in the account holds it.
    pub network_interfaces: BTreeMap<String, Fetched<Vec<NetworkInterface>>>,
    /// A load balancer's own network interfaces (one per node), found by
    /// their description `ELB net/NAME/ID`, by load balancer ARN.
    pub lb_interfaces: BTreeMap<String, Fetched<Vec<NetworkInterface>>>,
    /// By subnet id.
    pub subnets: BTreeMap<String, Fetched<Subnet>>,
    /// By security group id.
    pub security_groups: BTreeMap<String, Fetched<SecurityGroup>>,
    /// The network ACL associated with each subnet, by subnet id.
    pub network_acls: BTreeMap<String, Fetched<NetworkAcl>>,
    /// The route table each subnet uses (its own association, else its
    /// VPC's main table), by subnet id.
    pub route_tables: BTreeMap<String, Fetched<RouteTable>>,
    /// Managed prefix lists with their entries, by prefix list id.
    pub prefix_lists: BTreeMap<String, Fetched<PrefixList>>,
    /// The VPC endpoint service fronting each NLB, by NLB ARN. `NotFound`
    /// means the account has no endpoint service for that NLB.
    pub endpoint_services: BTreeMap<String, Fetched<EndpointService>>,
    /// Endpoint connections of each endpoint service, by service id.
    pub endpoint_connections: BTreeMap<String, Fetched<Vec<EndpointConnection>>>,
    /// `DescribeVpcEndpointServicePermissions`: the principals an endpoint
    /// service allows, by service id.
    #[serde(default)]
    pub endpoint_service_permissions: BTreeMap<String, Fetched<Vec<String>>>,
    /// Cloud Map services HTTP APIs integrate with, by service ARN.
    pub cloud_map_services: BTreeMap<String, Fetched<CloudMapService>>,
    /// Every certificate of a listener (default and SNI), by listener ARN.
    pub listener_certificates: BTreeMap<String, Fetched<Vec<ListenerCertificate>>>,
    /// ACM certificates, by ARN.
    pub certificates: BTreeMap<String, Fetched<Certificate>>,
    /// `DescribeListenerAttributes`, by listener ARN.
    pub listener_attributes: BTreeMap<String, Fetched<BTreeMap<String, String>>>,
    /// Lambda functions authorizers invoke, by function ARN. `NotFound` is a
    /// function that does not exist.
    pub lambda_functions: BTreeMap<String, Fetched<LambdaFunction>>,
    /// Custom domain names of the region, with their API mappings.
    pub domain_names: Option<Fetched<Vec<DomainName>>>,
    /// CloudFront distributions of the account (a global service).
    pub distributions: Option<Fetched<Vec<Distribution>>>,
    /// The region's usage plans (REST API keys), each with its keys; read
    /// only when a stage has a method requiring an API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_plans: Option<Fetched<Vec<UsagePlan>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    Rest,
    Http,
}

impl ApiKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Rest => "rest",
            ApiKind::Http => "http",
        }
    }
}

/// One API the run was asked to audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRecord {
    pub id: String,
    pub kind: ApiKind,
    pub info: Fetched<ApiInfo>,
    pub stages: Fetched<Vec<Stage>>,
    /// The API's current definition: for REST every resource and method,
    /// for HTTP every route, each with its integration.
    pub routes: Fetched<Vec<Route>>,
    /// What each stage's deployment serves, by stage name (from the stage's
    /// export). The checks walk this; `deployment-drift` compares it with
    /// `routes`.
    #[serde(default)]
    pub deployed_routes: BTreeMap<String, Fetched<Vec<Route>>>,
    /// The API's authorizers (REST `GetAuthorizers`; HTTP `GetAuthorizer`
    /// for each one a route names).
    #[serde(default)]
    pub authorizers: Option<Fetched<Vec<Authorizer>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorizer {
    pub id: String,
    pub name: Option<String>,
    /// REST: `TOKEN`, `REQUEST`, `COGNITO_USER_POOLS`; HTTP: `REQUEST`, `JWT`.
    pub authorizer_type: Option<AuthorizerType>,
    /// What a caller must send: `method.request.header.Authorization`,
    /// `$request.header.Authorization`, ...
    #[serde(default)]
    pub identity_sources: Vec<String>,
    /// A Lambda authorizer's invocation URI.
    pub authorizer_uri: Option<String>,
    /// The role API Gateway assumes to invoke the Lambda, if any.
    pub credentials: Option<String>,
    /// JWT issuer / Cognito user pools, for the evidence.
    #[serde(default)]
    pub provider: Vec<String>,
    /// How long API Gateway caches a Lambda authorizer's policy (0: not at
    /// all); `None` when AWS does not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_ttl_seconds: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiInfo {
    pub name: Option<String>,
    #[serde(default)]
    pub endpoint_types: Vec<String>,
    pub policy: Option<String>,
    pub disable_execute_api_endpoint: Option<bool>,
    /// apigatewayv2's `protocolType`: `HTTP` or `WEBSOCKET` (absent for
    /// REST APIs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_type: Option<String>,
    /// REST `apiKeySource`: `HEADER` (the caller's `x-api-key`) or
    /// `AUTHORIZER` (a Lambda authorizer's `usageIdentifierKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_source: Option<String>,
}

impl ApiInfo {
    /// A WebSocket API: apigatewayv2 lists it beside HTTP APIs, but its
    /// routes, integrations and errors are another protocol's, which no
    /// check here judges.
    pub fn is_websocket(&self) -> bool {
        self.protocol_type
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("WEBSOCKET"))
    }
}

/// An API the audit found and did not judge, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedApi {
    pub id: String,
    pub name: Option<String>,
    /// `websocket`.
    pub kind: String,
    pub reason: String,
}

impl SkippedApi {
    pub fn websocket(id: &str, info: &ApiInfo) -> SkippedApi {
        SkippedApi {
            id: id.to_string(),
            name: info.name.clone(),
            kind: "websocket".to_string(),
            reason: "a WebSocket API, whose routes and integrations apigw-audit does not judge (it audits REST and HTTP APIs)".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// REST method settings, keyed as API Gateway keys them: `*/*` for the
    /// stage default, `~1resource~1path/METHOD` for an override. An HTTP
    /// API's default route settings are `*/*` and its route settings are
    /// keyed by route key (`GET /orders`).
    #[serde(default)]
    pub method_settings: BTreeMap<String, MethodSetting>,
    pub access_log: Option<AccessLog>,
    pub auto_deploy: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodSetting {
    pub logging_level: Option<String>,
    pub data_trace_enabled: Option<bool>,
    pub metrics_enabled: Option<bool>,
    /// Requests per second the stage or method is throttled to; negative
    /// (REST's -1) is "not set here".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
    /// The token bucket's size: concurrent requests served before 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessLog {
    pub destination_arn: Option<String>,
    pub format: Option<String>,
}

/// A REST method on a resource, or an HTTP API route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// `GET`, `POST`, ..., or `ANY`.
    pub method: String,
    /// `/orders/{id}`, `/{proxy+}`; `$default` for an HTTP API default route.
    pub path: String,
    pub resource_id: Option<String>,
    pub route_id: Option<String>,
    pub authorization_type: Option<AuthorizationType>,
    pub authorizer_id: Option<String>,
    /// The authorizer's name, where only that is known: an export names
    /// authorizers by their security scheme, not by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_name: Option<String>,
    pub integration: Option<Integration>,
    /// REST `apiKeyRequired`: callers must send a key of a usage plan of
    /// the stage. `None` when not reported (HTTP APIs have no API keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_required: Option<bool>,
}

impl Route {
    /// How findings name the route: `GET /orders/{id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: Option<String>,
    /// `HTTP`, `HTTP_PROXY`, `AWS_PROXY`, `MOCK`, ...
    pub integration_type: String,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    /// `INTERNET` or `VPC_LINK`.
    pub connection_type: Option<String>,
    /// A VPC link id, or `${stageVariables.NAME}`.
    pub connection_id: Option<String>,
    /// REST APIs on VPC link v2: the load balancer ARN.
    pub integration_target: Option<String>,
    pub tls_config: Option<TlsConfig>,
    pub timeout_ms: Option<i64>,
    #[serde(default)]
    pub request_parameters: BTreeMap<String, String>,
    /// The role API Gateway assumes to call the integration (`credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsConfig {
    pub insecure_skip_verification: Option<bool>,
    pub server_name_to_verify: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiGatewayAccount {
    pub cloudwatch_role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcLink {
    pub id: String,
    pub name: Option<String>,
    /// `AVAILABLE`, `PENDING`, `DELETING`, `FAILED`.
    pub status: Option<VpcLinkStatus>,
    pub status_message: Option<String>,
    #[serde(default)]
    pub target_arns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcLinkV2 {
    pub id: String,
    pub name: Option<String>,
    /// `AVAILABLE`, `PENDING`, `DELETING`, `FAILED`, `INACTIVE`.
    pub status: Option<VpcLinkStatus>,
    pub status_message: Option<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: Option<String>,
    /// `network`, `application` or `gateway`.
    pub lb_type: Option<LbType>,
    pub scheme: Option<String>,
    /// `active`, `provisioning`, `active_impaired`, `failed`.
    pub state: Option<LbState>,
    pub state_reason: Option<String>,
    pub vpc_id: Option<String>,
    pub dns_name: Option<String>,
    #[serde(default)]
    pub zones: Vec<LbZone>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// `on` or `off`; absent when the load balancer has no security groups.
    pub enforce_privatelink_inbound_rules: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LbZone {
    pub zone_name: Option<String>,
    pub subnet_id: Option<String>,
    /// The load balancer node's private address in this zone, when AWS
    /// reports it; paths are then judged from that exact address instead of
    /// the whole subnet.
    #[serde(default)]
    pub private_ipv4_addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: Option<u16>,
    /// `TCP`, `TLS`, `UDP`, `TCP_UDP`, `HTTP`, `HTTPS`.
    pub protocol: Option<Protocol>,
    #[serde(default)]
    pub default_actions: Vec<Action>,
    #[serde(default)]
    pub certificate_arns: Vec<String>,
    pub ssl_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// `forward`, `fixed-response`, `redirect`, ...
    pub action_type: String,
    #[serde(default)]
    pub target_groups: Vec<WeightedTargetGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedTargetGroup {
    pub arn: String,
    pub weight: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerRule {
    pub arn: String,
    pub priority: Option<String>,
    pub is_default: bool,
    #[serde(default)]
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: Option<String>,
    pub protocol: Option<Protocol>,
    pub port: Option<u16>,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: Option<TargetType>,
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub load_balancer_arns: Vec<String>,
    pub health_check: HealthCheck,
    /// What an ALB target group speaks to its targets: `HTTP1`, `HTTP2`
    /// or `GRPC` (absent for NLB target groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub enabled: Option<bool>,
    pub protocol: Option<Protocol>,
    /// `traffic-port` or a port number, as AWS reports it.
    pub port: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetHealth {
    /// An instance id, an IP address, an ALB ARN or a Lambda ARN.
    pub target_id: String,
    pub port: Option<u16>,
    pub availability_zone: Option<String>,
    /// `healthy`, `unhealthy`, `unused`, `draining`, `initial`, `unavailable`.
    pub state: Option<TargetHealthState>,
    pub reason: Option<String>,
    pub description: Option<String>,
    pub health_check_port: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub state: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub availability_zone: Option<String>,
    /// The security groups of the primary network interface.
    #[serde(default)]
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkInterface {
    pub id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub private_ips: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub arn: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ipv6_cidr_blocks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    #[serde(default)]
    pub ingress: Vec<SgRule>,
    #[serde(default)]
    pub egress: Vec<SgRule>,
}

/// One `IpPermission` of a security group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SgRule {
    /// `-1` (all), `tcp`, `udp`, `icmp`, or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
    pub prefix_list_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

/// A VPC route table, as `DescribeRouteTables` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: Option<String>,
    /// Whether it is its VPC's main table (used by subnets without one of
    /// their own).
    #[serde(default)]
    pub main: bool,
    #[serde(default)]
    pub routes: Vec<VpcRoute>,
}

/// One route: where it sends, and whether its target still exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcRoute {
    /// The IPv4 destination; `None` for IPv6 and prefix-list routes.
    pub destination: Option<String>,
    /// A prefix-list destination (`pl-...`), which this tool does not expand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_prefix_list: Option<String>,
    /// `local`, or the target's id (`igw-`, `nat-`, `tgw-`, `pcx-`, `vgw-`,
    /// `vpce-` for a Gateway Load Balancer or firewall endpoint, `eni-`, `i-`).
    pub target: Option<String>,
    /// `active`, or `blackhole` when the target is gone.
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub is_default: Option<bool>,
    #[serde(default)]
    pub entries: Vec<NaclEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NaclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// `-1` (all) or a protocol number (`6` is TCP).
    pub protocol: String,
    /// `allow` or `deny`.
    pub action: String,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixList {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub cidrs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointService {
    pub service_id: String,
    pub service_name: Option<String>,
    /// `Available`, `Pending`, `Deleting`, `Deleted`, `Failed`.
    pub state: Option<EndpointServiceState>,
    pub acceptance_required: Option<bool>,
    #[serde(default)]
    pub network_load_balancer_arns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointConnection {
    pub vpc_endpoint_id: Option<String>,
    pub owner: Option<String>,
    /// `pendingAcceptance`, `pending`, `available`, `deleting`, `deleted`,
    /// `rejected`, `failed`, `expired`.
    pub state: Option<EndpointConnectionState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerCertificate {
    pub arn: String,
    pub is_default: bool,
}

/// An ACM certificate: its names and dates (`DescribeCertificate`) and its
/// PEM and chain (`GetCertificate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub arn: String,
    pub domain_name: Option<String>,
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, `REVOKED`, `FAILED`, ...
    pub status: Option<CertificateStatus>,
    /// `AMAZON_ISSUED`, `IMPORTED` or `PRIVATE`.
    pub cert_type: Option<CertificateType>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    pub pem: Option<String>,
    pub chain_pem: Option<String>,
    /// Why `pem` is missing, when `acm:GetCertificate` failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pem_failure: Option<Failure>,
}

impl Certificate {
    /// The names a TLS client checks a host against: the subject
    /// alternative names, or the domain name (CN) only when there are none,
    /// since clients ignore the CN of a certificate that has SANs.
    pub fn verified_names(&self) -> Vec<String> {
        if self.subject_alternative_names.is_empty() {
            self.domain_name.iter().cloned().collect()
        } else {
            self.subject_alternative_names.clone()
        }
    }

    /// Every DNS name the certificate mentions: its domain name and SANs.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = self.domain_name.iter().cloned().collect();
        for n in &self.subject_alternative_names {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaFunction {
    pub arn: String,
    /// The resource-based policy (`GetPolicy`), `None` when it has none.
    pub policy: Option<String>,
    /// `GetFunctionConfiguration`'s `State`: `Active`, `Pending`,
    /// `Inactive`, `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// How long the function may run, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
    /// `GetFunctionConcurrency`'s reserved concurrency; `None` when none is
    /// reserved (the function shares the account's pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainName {
    pub name: String,
    /// `d-xxxx.execute-api.REGION.amazonaws.com` for regional domains.
    pub regional_domain_name: Option<String>,
    /// `dxxxx.cloudfront.net` for edge-optimized domains.
    pub distribution_domain_name: Option<String>,
    #[serde(default)]
    pub mappings: Vec<ApiMapping>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiMapping {
    /// `(none)` or empty for the root; else the first path segment(s).
    pub base_path: String,
    pub api_id: String,
    pub stage: Option<String>,
}

/// A usage plan: the stages it serves, its limits and its API keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePlan {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub api_stages: Vec<PlanStage>,
    pub throttle: Option<Throttle>,
    pub quota: Option<Quota>,
    /// The plan's keys with whether each is enabled (never their values).
    pub keys: Fetched<Vec<PlanKey>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStage {
    pub api_id: String,
    pub stage: String,
    /// Per-method throttles, keyed `/path/METHOD`.
    #[serde(default)]
    pub throttle: BTreeMap<String, Throttle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    pub rate_limit: Option<f64>,
    pub burst_limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub limit: Option<i64>,
    /// `DAY`, `WEEK` or `MONTH`.
    pub period: Option<String>,
}

/// An API key of a usage plan: its id and name, and whether callers can
/// use it (`GetApiKeys`' `enabled`; usage plan keys do not carry it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanKey {
    pub id: String,
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub id: String,
    pub arn: String,
    pub domain_name: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub origins: Vec<Origin>,
    #[serde(default)]
    pub behaviors: Vec<CacheBehavior>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    pub origin_path: Option<String>,
    /// `http-only`, `https-only`, `match-viewer`; `None` for S3 origins.
    pub protocol_policy: Option<String>,
    /// The port CloudFront connects to over HTTPS (`CustomOriginConfig.HTTPSPort`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_port: Option<i32>,
    /// The TLS protocols CloudFront may use with the origin
    /// (`OriginSslProtocols`: `SSLv3`, `TLSv1`, `TLSv1.1`, `TLSv1.2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssl_protocols: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheBehavior {
    /// `*` for the default behavior.
    pub path_pattern: String,
    pub target_origin_id: String,
    /// `allow-all`, `https-only`, `redirect-to-https`.
    pub viewer_protocol_policy: Option<ViewerProtocolPolicy>,
    /// The viewer headers forwarded to the origin by the legacy cache
    /// settings (`ForwardedValues.Headers`; `*` is every header).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwarded_headers: Vec<String>,
    /// The origin request policy attached to the behavior.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_request_policy_id: Option<String>,
    /// The cache policy: the headers of its cache key reach the origin too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_policy_id: Option<String>,
}

/// A Cloud Map service and its registered instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudMapService {
    pub arn: String,
    pub id: String,
    pub name: Option<String>,
    /// `custom`, `route53` or `None` when the service checks no health (every
    /// instance then counts as healthy).
    pub health_check: Option<String>,
    #[serde(default)]
    pub instances: Vec<CloudMapInstance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudMapInstance {
    pub id: String,
    pub ipv4: Option<String>,
    pub port: Option<u16>,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`; `None` when not reported.
    pub health: Option<CloudMapHealth>,
}

/// Errors reading a snapshot file.
#[derive(Debug)]
pub enum SnapshotError {
    Parse(serde_json::Error),
    Version(u32),
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Parse(e) => write!(f, "not a valid snapshot: {e}"),
            SnapshotError::Version(v) => write!(
                f,
                "snapshot schema_version is {v}, this apigw-audit reads version {SNAPSHOT_SCHEMA_VERSION}"
            ),
        }
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// Parses a snapshot, checking the version before the body so a newer
    /// format is named as such instead of as a confusing field error.
    pub fn from_json(text: &str) -> Result<Snapshot, SnapshotError> {
        #[derive(Deserialize)]
        struct Head {
            schema_version: u32,
        }
        let head: Head = serde_json::from_str(text).map_err(SnapshotError::Parse)?;
        if head.schema_version != SNAPSHOT_SCHEMA_VERSION {
            return Err(SnapshotError::Version(head.schema_version));
        }
        serde_json::from_str(text).map_err(SnapshotError::Parse)
    }

    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}
