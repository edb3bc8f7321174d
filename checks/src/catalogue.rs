//! The one list every check is registered in. The `checks` command, the
//! README table, SARIF rules and `--check` validation all read it, so a check
//! cannot be documented in one place and missing in another.

pub use crate::toolkit::CheckDef;

/// Every check, in the contract's catalogue order (registered in
/// [`crate::checks`]).
pub static CHECKS: &[&CheckDef] = crate::checks::ALL;

/// The check `id` (or a former id) names.
pub fn find(id: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().copied().find(|c| c.is(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_and_aliases_are_unique() {
        let mut seen = BTreeSet::new();
        for c in CHECKS {
            assert!(
                seen.insert(c.meta.id.as_str()),
                "duplicate id {}",
                c.meta.id
            );
            for a in c.meta.aliases {
                assert!(seen.insert(a), "alias {a} collides");
            }
        }
    }

    #[test]
    fn every_check_documents_itself() {
        for c in CHECKS {
            let m = &c.meta;
            assert!(!m.title.is_empty() && !m.remediation.is_empty(), "{}", m.id);
            assert!(
                !crate::explain::explained_by(m.id).is_empty(),
                "{} is the deciding check of no error signature",
                m.id
            );
            assert!(
                m.id.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{} is not kebab-case",
                m.id
            );
        }
    }

    /// Every id has its check, and the catalogue lists them in the
    /// order [`CheckId::ALL`] spells them: the id enum and the catalogue
    /// cannot drift apart.
    #[test]
    fn every_id_has_one_check_in_id_order() {
        let ids: Vec<crate::CheckId> = CHECKS.iter().map(|c| c.meta.id).collect();
        assert_eq!(ids, crate::CheckId::ALL);
    }

    /// Tested here, not in `explain`: `explain` stays below the catalogue
    /// (a check uses its route matcher), so only the catalogue may name it.
    #[test]
    fn every_signature_names_known_checks() {
        for sig in crate::explain::SIGNATURES {
            for check in sig.checks {
                assert!(
                    find(check.as_str()).is_some(),
                    "{} names unknown check {check}",
                    sig.id
                );
            }
        }
    }

    /// The ids are part of the contract: this list changes only by adding.
    #[test]
    fn catalogue_order_is_the_contracts() {
        let ids: Vec<&str> = CHECKS.iter().map(|c| c.meta.id.as_str()).collect();
        let contract = [
            "vpc-link-status",
            "vpc-link-reference",
            "load-balancer-exists",
            "endpoint-connection",
            "listener-port",
            "target-health",
            "security-groups",
            "network-acls",
            "privatelink-inbound-rules",
            "tls-certificate-hostname",
            "tls-certificate-trust",
            "protocol-match",
            "idle-timeout",
            "execution-logging",
            "deployment-drift",
            "authorizer-config",
            "resource-policy",
            "cloudfront-origin-protocol",
            "route-exists",
            // Added after the first contract, in the README's copy of it.
            "route-tables",
            "api-key-usage-plan",
            "throttling",
            "lambda-integration",
            "integration-timeout",
            "execute-api-endpoint",
        ];
        let expected: Vec<&str> = contract
            .iter()
            .copied()
            .filter(|id| ids.contains(id))
            .collect();
        assert_eq!(ids, expected, "checks must appear in the contract's order");
        for id in &ids {
            assert!(contract.contains(id), "{id} is not in the contract");
        }
    }
}
