//! The AWS enum values checks compare, as Rust enums.
//!
//! The collector converts each value once, at the boundary, so a check
//! compares variants instead of string literals a typo would silently break.
//! Each enum has an `Other` arm holding any value AWS adds later, and
//! (de)serialises as exactly the AWS string it came from, so the snapshot
//! format is unchanged and an unknown value survives a record/replay.
//! Parsing is exact: AWS sends one spelling, and `Other` keeps any other.

use std::fmt;

/// Declares one AWS value enum: its known spellings, an `Other` arm, the
/// conversions from and to `String` serde goes through, and `Display`
/// (the AWS string, so messages print what AWS said).
macro_rules! aws_value {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as AWS sent it.
            Other(String),
        }

        impl $name {
            /// The value as AWS spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $text => $name::$variant, )+
                    _ => $name::Other(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                match v {
                    $name::Other(s) => s,
                    known => known.as_str().to_string(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

aws_value! {
    /// A load balancer's type (`DescribeLoadBalancers` `Type`).
    LbType {
        Network = "network",
        Application = "application",
        Gateway = "gateway",
    }
}

aws_value! {
    /// A listener's, a target group's or a health check's protocol.
    Protocol {
        Http = "HTTP",
        Https = "HTTPS",
        Tcp = "TCP",
        Tls = "TLS",
        Udp = "UDP",
        TcpUdp = "TCP_UDP",
        Geneve = "GENEVE",
    }
}

aws_value! {
    /// What a target group's targets are.
    TargetType {
        Instance = "instance",
        Ip = "ip",
        Lambda = "lambda",
        Alb = "alb",
    }
}

aws_value! {
    /// A load balancer's state code.
    LbState {
        Active = "active",
        Provisioning = "provisioning",
        ActiveImpaired = "active_impaired",
        Failed = "failed",
    }
}

aws_value! {
    /// A target's state in `DescribeTargetHealth`.
    TargetHealthState {
        Healthy = "healthy",
        Unhealthy = "unhealthy",
        UnhealthyDraining = "unhealthy.draining",
        Unused = "unused",
        Draining = "draining",
        Initial = "initial",
        Unavailable = "unavailable",
    }
}

aws_value! {
    /// A VPC link's status; v1 and v2 links share the spellings.
    VpcLinkStatus {
        Available = "AVAILABLE",
        Pending = "PENDING",
        Deleting = "DELETING",
        Failed = "FAILED",
        Inactive = "INACTIVE",
    }
}

aws_value! {
    /// A VPC endpoint service's state (capitalised, unlike its connections').
    EndpointServiceState {
        Available = "Available",
        Pending = "Pending",
        Deleting = "Deleting",
        Deleted = "Deleted",
        Failed = "Failed",
    }
}

aws_value! {
    /// An endpoint connection's state.
    EndpointConnectionState {
        PendingAcceptance = "pendingAcceptance",
        Pending = "pending",
        Available = "available",
        Deleting = "deleting",
        Deleted = "deleted",
        Rejected = "rejected",
        Failed = "failed",
        Expired = "expired",
    }
}

aws_value! {
    /// How a REST method or an HTTP route authorizes callers.
    AuthorizationType {
        None = "NONE",
        AwsIam = "AWS_IAM",
        Custom = "CUSTOM",
        CognitoUserPools = "COGNITO_USER_POOLS",
        Jwt = "JWT",
    }
}

aws_value! {
    /// An authorizer's type: REST `TOKEN`, `REQUEST`, `COGNITO_USER_POOLS`;
    /// HTTP `REQUEST`, `JWT`.
    AuthorizerType {
        Token = "TOKEN",
        Request = "REQUEST",
        CognitoUserPools = "COGNITO_USER_POOLS",
        Jwt = "JWT",
    }
}

aws_value! {
    /// An ACM certificate's status.
    CertificateStatus {
        Issued = "ISSUED",
        PendingValidation = "PENDING_VALIDATION",
        Inactive = "INACTIVE",
        Expired = "EXPIRED",
        ValidationTimedOut = "VALIDATION_TIMED_OUT",
        Revoked = "REVOKED",
        Failed = "FAILED",
    }
}

aws_value! {
    /// Who issued an ACM certificate.
    CertificateType {
        AmazonIssued = "AMAZON_ISSUED",
        Imported = "IMPORTED",
        Private = "PRIVATE",
    }
}

aws_value! {
    /// A Cloud Map instance's health.
    CloudMapHealth {
        Healthy = "HEALTHY",
        Unhealthy = "UNHEALTHY",
        Unknown = "UNKNOWN",
    }
}

aws_value! {
    /// A CloudFront cache behavior's viewer protocol policy.
    ViewerProtocolPolicy {
        AllowAll = "allow-all",
        HttpsOnly = "https-only",
        RedirectToHttps = "redirect-to-https",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known value and an unknown one both come back as the string they
    /// were read from: the snapshot format does not change.
    #[test]
    fn values_round_trip_as_their_aws_string() {
        for text in ["network", "application", "gateway", "something-new"] {
            let v: LbType = serde_json::from_str(&format!("\"{text}\"")).expect("parses");
            assert_eq!(v.as_str(), text);
            assert_eq!(
                serde_json::to_string(&v).expect("writes"),
                format!("\"{text}\"")
            );
        }
        assert_eq!(Protocol::from("TCP_UDP"), Protocol::TcpUdp);
        assert_eq!(Protocol::from("tcp"), Protocol::Other("tcp".into()));
        assert_eq!(
            EndpointServiceState::from("Available"),
            EndpointServiceState::Available
        );
        assert_eq!(
            EndpointConnectionState::from(String::from("available")),
            EndpointConnectionState::Available
        );
        assert_eq!(
            String::from(TargetHealthState::UnhealthyDraining),
            "unhealthy.draining"
        );
        assert_eq!(AuthorizationType::None.to_string(), "NONE");
    }
}
