//! One module per check. Each declares its metadata next to its logic; the
//! one line naming it below both declares its module and registers it, in
//! the contract's catalogue order (a test holds that order to
//! [`crate::CheckId::ALL`]).

/// Declares each check's module and lists its [`CheckDef`] in order, so
/// registering a check is one line, not a `mod` here and an entry there.
macro_rules! registry {
    ($($module:ident,)+) => {
        $(pub mod $module;)+

        /// Every check, in the contract's catalogue order.
        pub static ALL: &[&crate::toolkit::CheckDef] = &[$(&$module::CHECK,)+];
    };
}

registry! {
    vpc_link_status,
    vpc_link_reference,
    load_balancer_exists,
    endpoint_connection,
    listener_port,
    target_health,
    security_groups,
    network_acls,
    privatelink_inbound_rules,
    tls_certificate_hostname,
    tls_certificate_trust,
    protocol_match,
    idle_timeout,
    execution_logging,
    deployment_drift,
    authorizer_config,
    resource_policy,
    cloudfront_origin_protocol,
    route_exists,
    route_tables,
    api_key_usage_plan,
    throttling,
    lambda_integration,
    integration_timeout,
    execute_api_endpoint,
}
