//! One module per check. Each declares its metadata next to its logic and
//! is registered in [`crate::catalogue::CHECKS`].

pub mod endpoint_connection;
pub mod execution_logging;
pub mod listener_port;
pub mod load_balancer_exists;
pub mod network_acls;
pub mod privatelink_inbound_rules;
pub mod security_groups;
pub mod target_health;
pub mod vpc_link_reference;
pub mod vpc_link_status;
