//! The id of every check, as a type.
//!
//! An id is part of the contract (reports, SARIF rules, JUnit cases,
//! suppressions and `--check` name checks by it), so it is spelled once,
//! here, and every other place names the variant: a typo no longer makes
//! a new check nobody runs. Like cargo-deny's diagnostic codes, each id
//! (de)serialises as its kebab-case string.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares the ids in the contract's catalogue order with their strings.
macro_rules! check_ids {
    ($( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+) => {
        /// A check's id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CheckId {
            $( $(#[$vmeta])* $variant, )+
        }

        impl CheckId {
            /// Every id, in the contract's catalogue order.
            pub const ALL: &'static [CheckId] = &[$( CheckId::$variant, )+];

            /// The id as the contract spells it (kebab-case).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( CheckId::$variant => $text, )+
                }
            }

            /// The id spelled `s` (current ids only; aliases are the
            /// catalogue's business, see [`crate::CheckDef::is`]).
            pub fn parse(s: &str) -> Option<CheckId> {
                match s {
                    $( $text => Some(CheckId::$variant), )+
                    _ => None,
                }
            }
        }
    };
}

check_ids! {
    VpcLinkStatus = "vpc-link-status",
    VpcLinkReference = "vpc-link-reference",
    LoadBalancerExists = "load-balancer-exists",
    EndpointConnection = "endpoint-connection",
    ListenerPort = "listener-port",
    TargetHealth = "target-health",
    SecurityGroups = "security-groups",
    NetworkAcls = "network-acls",
    PrivatelinkInboundRules = "privatelink-inbound-rules",
    TlsCertificateHostname = "tls-certificate-hostname",
    TlsCertificateTrust = "tls-certificate-trust",
    ProtocolMatch = "protocol-match",
    IdleTimeout = "idle-timeout",
    ExecutionLogging = "execution-logging",
    DeploymentDrift = "deployment-drift",
    AuthorizerConfig = "authorizer-config",
    ResourcePolicy = "resource-policy",
    CloudfrontOriginProtocol = "cloudfront-origin-protocol",
    RouteExists = "route-exists",
    RouteTables = "route-tables",
    ApiKeyUsagePlan = "api-key-usage-plan",
    Throttling = "throttling",
    LambdaIntegration = "lambda-integration",
    IntegrationTimeout = "integration-timeout",
    ExecuteApiEndpoint = "execute-api-endpoint",
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: a width in a format string (`{:<26}`) applies.
        f.pad(self.as_str())
    }
}

impl AsRef<str> for CheckId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Comparing with a string compares the contract's spelling, so callers
/// holding a user's text (a filter, a suppression) need not parse it.
impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CheckId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown check id {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case_and_parse_back() {
        let mut seen = BTreeSet::new();
        for id in CheckId::ALL {
            let s = id.as_str();
            assert!(seen.insert(s), "duplicate id {s}");
            assert!(
                !s.is_empty()
                    && !s.starts_with('-')
                    && !s.ends_with('-')
                    && !s.contains("--")
                    && s.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{s} is not kebab-case"
            );
            assert_eq!(CheckId::parse(s), Some(*id));
            assert_eq!(
                serde_json::to_string(id).expect("writes"),
                format!("\"{s}\"")
            );
            let back: CheckId = serde_json::from_str(&format!("\"{s}\"")).expect("reads");
            assert_eq!(back, *id);
        }
        assert!(CheckId::parse("no-such-check").is_none());
    }
}
