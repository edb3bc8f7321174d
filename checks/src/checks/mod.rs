//! One module per check. Each declares its metadata next to its logic and
//! is registered in [`crate::catalogue::CHECKS`].

pub mod authorizer_config;
pub mod cloudfront_origin_protocol;
pub mod deployment_drift;
pub mod endpoint_connection;
pub mod execution_logging;
pub mod idle_timeout;
pub mod listener_port;
pub mod load_balancer_exists;
pub mod network_acls;
pub mod privatelink_inbound_rules;
pub mod protocol_match;
pub mod resource_policy;
pub mod route_exists;
pub mod security_groups;
pub mod target_health;
pub mod tls_certificate_hostname;
pub mod tls_certificate_trust;
pub mod vpc_link_reference;
pub mod vpc_link_status;
