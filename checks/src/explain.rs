//! From an error a user saw to its likely causes: the catalogue of error
//! signatures API Gateway (and CloudFront in front of it) produces, what each
//! means, its causes ranked, and the checks that decide between them; plus
//! parsing the URL that failed and matching it against a stage's routes.
//!
//! A signature matches on positive evidence only (a message or log pattern,
//! an `x-amzn-errortype`, or a status that by itself means one thing); a
//! given status or error type that contradicts it rules it out. Unknown
//! input matches nothing: the caller says so instead of guessing.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::check_id::CheckId;
use crate::model::Route;

/// One error signature.
#[derive(Debug)]
pub struct Signature {
    pub id: &'static str,
    /// HTTP statuses it comes with; empty means any.
    pub statuses: &'static [u16],
    /// `x-amzn-errortype` values it comes with; empty means none is known.
    pub error_types: &'static [&'static str],
    /// Case-insensitive regular expressions over the message or log line.
    pub patterns: &'static [&'static str],
    /// Whether the status alone identifies it (504 from API Gateway).
    pub status_alone: bool,
    pub meaning: &'static str,
    /// Likely causes, most likely first.
    pub causes: &'static [&'static str],
    /// The checks that decide between the causes.
    pub checks: &'static [CheckId],
    /// The text as users see it, for the documentation and the tests.
    pub example: &'static str,
    /// Where users see [`Signature::example`]: the catalogue shows a
    /// response body after its status.
    pub seen_in: Seen,
}

/// Where an error text shows up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The HTTP response the client got (its body, maybe a header).
    Response,
    /// An execution log line, or an API call's error message.
    Log,
}

impl Signature {
    /// The line the check catalogue shows for this signature.
    pub fn shown(&self) -> String {
        match (self.seen_in, self.statuses.first()) {
            (Seen::Response, Some(status)) => format!("HTTP {status} {}", self.example),
            _ => self.example.to_string(),
        }
    }
}

/// The error texts check `id` explains: those of every signature naming
/// it as a deciding check. This is the one source of a check's "explains"
/// list, so the catalogue, SARIF rules and `explain` cannot disagree.
pub fn explained_by(id: CheckId) -> Vec<String> {
    SIGNATURES
        .iter()
        .filter(|s| s.checks.contains(&id))
        .map(Signature::shown)
        .collect()
}

/// Every signature, most specific first.
pub static SIGNATURES: &[Signature] = &[
    Signature {
        id: "host-name-mismatch",
        statuses: &[500],
        error_types: &[],
        patterns: &[
            r"host name '[^']*' does not match the certificate subject provided by the peer",
        ],
        status_alone: false,
        meaning: "API Gateway reached the integration over TLS, but the certificate it was shown does not cover the host name it verifies.",
        causes: &[
            "the listener's certificate (default or SNI) does not list the integration URI's host or serverNameToVerify",
            "the integration URI names a different host than the certificate was issued for (a typo, an old domain)",
            "a wildcard certificate is expected to cover the apex or two labels, which wildcards never do",
        ],
        checks: &[CheckId::TlsCertificateHostname],
        example: "Execution failed due to configuration error: Host name 'domain.com.com' does not match the certificate subject provided by the peer (CN=myinstance.com)",
        seen_in: Seen::Log,
    },
    Signature {
        id: "pkix-path-building-failed",
        statuses: &[500],
        error_types: &[],
        patterns: &[
            r"PKIX path building failed",
            r"unable to find valid certification path to requested target",
            r"General SSLEngine problem",
        ],
        status_alone: false,
        meaning: "API Gateway could not build a chain from the integration's certificate to a root it trusts.",
        causes: &[
            "the certificate is self-signed or issued by a private CA and the integration does not set insecureSkipVerification (a REST-only setting)",
            "the listener serves the certificate without its intermediate chain",
            "the integration sets insecureSkipVerification but the chain does not end in a root CA certificate (basicConstraints CA:TRUE, keyUsage keyCertSign)",
        ],
        checks: &[CheckId::TlsCertificateTrust],
        example: "Execution failed due to configuration error: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
        seen_in: Seen::Log,
    },
    Signature {
        id: "pkix-path-validation-failed",
        statuses: &[500],
        error_types: &[],
        patterns: &[
            r"PKIX path validation failed",
            r"CertPathValidatorException",
        ],
        status_alone: false,
        meaning: "API Gateway built a chain for the integration's certificate but a certificate in it is not valid now.",
        causes: &[
            "the certificate (or an intermediate) has expired",
            "the certificate is not valid yet (its notBefore is in the future)",
            "a certificate in the chain was revoked",
        ],
        checks: &[CheckId::TlsCertificateTrust],
        example: "Execution failed due to configuration error: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed",
        seen_in: Seen::Log,
    },
    Signature {
        id: "ecdh-signature-mismatch",
        statuses: &[500],
        error_types: &[],
        patterns: &[r"Cannot verify ECDH ServerKeyExchange signature"],
        status_alone: false,
        meaning: "The integration's TLS server signed its key exchange with a key that does not belong to the certificate it presented.",
        causes: &[
            "the private key installed on the TLS endpoint does not match its certificate (a renewed certificate with the old key, or the reverse); no AWS configuration shows the key, so no check can see this: compare the key's and the certificate's public keys on the server",
        ],
        checks: &[],
        example: "Execution failed due to configuration error: Cannot verify ECDH ServerKeyExchange signature",
        seen_in: Seen::Log,
    },
    Signature {
        id: "not-a-valid-protocol-version",
        statuses: &[500],
        error_types: &[],
        patterns: &[
            r"not a valid protocol version",
            r"unrecognized SSL message",
            r"plaintext connection\?",
        ],
        status_alone: false,
        meaning: "The two ends of the integration connection speak different protocols: TLS on one side, plain HTTP on the other.",
        causes: &[
            "an https:// integration reaches a listener or target that answers plain HTTP",
            "an http:// integration reaches a TLS listener",
            "TLS passes through a TCP listener to a target that does not speak TLS on that port",
        ],
        checks: &[CheckId::ProtocolMatch],
        example: "Execution failed due to configuration error: Not a valid protocol version",
        seen_in: Seen::Log,
    },
    Signature {
        id: "authorizer-configuration",
        statuses: &[500],
        error_types: &["AuthorizerConfigurationException"],
        patterns: &[r"AuthorizerConfigurationException", r"authorizer error"],
        status_alone: false,
        meaning: "API Gateway could not run the route's authorizer, so it answers 500 instead of 401 or 403.",
        causes: &[
            "API Gateway has no permission to invoke the Lambda authorizer (no resource-based policy statement for apigateway.amazonaws.com covering this API)",
            "the authorizer's Lambda function was deleted or renamed",
            "the authorizer returned a malformed policy or timed out",
        ],
        checks: &[CheckId::AuthorizerConfig],
        example: "{\"message\": null} x-amzn-errortype: AuthorizerConfigurationException",
        seen_in: Seen::Response,
    },
    Signature {
        id: "internal-error",
        statuses: &[500, 502],
        error_types: &[],
        patterns: &[r"Execution failed due to an internal error"],
        status_alone: false,
        meaning: "The connection to the integration broke while the request was in flight.",
        causes: &[
            "a hop behind the load balancer closes idle connections before the load balancer does (an ALB behind an NLB)",
            "targets reset connections while deregistering or restarting",
            "a security group or network ACL drops part of the traffic",
        ],
        checks: &[
            CheckId::IdleTimeout,
            CheckId::TargetHealth,
            CheckId::SecurityGroups,
            CheckId::NetworkAcls,
        ],
        example: "Execution failed due to an internal error",
        seen_in: Seen::Log,
    },
    // The execution log's line for a Lambda integration API Gateway may not
    // invoke (knowledge center "api-gateway-rest-api-lambda-integrations").
    Signature {
        id: "lambda-invalid-permissions",
        statuses: &[500],
        error_types: &[],
        patterns: &[r"Invalid permissions on Lambda function"],
        status_alone: false,
        meaning: "API Gateway may not invoke the integration's Lambda function.",
        causes: &[
            "the function's resource-based policy has no statement allowing apigateway.amazonaws.com lambda:InvokeFunction from this API, stage, method and path",
            "the integration's credentials role may not invoke the function",
            "followed by \"Authorizer error\": the same, for the Lambda authorizer's function",
        ],
        checks: &[CheckId::LambdaIntegration, CheckId::AuthorizerConfig],
        example: "Execution failed due to configuration error: Invalid permissions on Lambda function",
        seen_in: Seen::Log,
    },
    // The causes are those the knowledge-center article lists for this
    // line (https://repost.aws/knowledge-center/api-gateway-500-error-vpc),
    // including security groups, network ACLs and redeploying after a fix.
    Signature {
        id: "internal-configuration-error",
        statuses: &[500],
        error_types: &[],
        patterns: &[r"There was an internal error while executing your request"],
        status_alone: false,
        meaning: "API Gateway could not open a connection to the private integration: something on the path from the VPC link to the targets is missing or broken.",
        causes: &[
            "the VPC link is not AVAILABLE (FAILED, INACTIVE, PENDING)",
            "the integration's connection id or stage variable names a VPC link that does not exist",
            "the load balancer was deleted or is not active",
            "API Gateway's PrivateLink endpoint connection to the NLB was rejected",
            "the load balancer does not listen on the integration's port",
            "no target is healthy",
            "a security group or network ACL blocks the integration's port or its return traffic (the NLB's security group also filters PrivateLink traffic unless its enforcement is off)",
            "the stage still serves a deployment made before the integration was fixed",
        ],
        checks: &[
            CheckId::VpcLinkStatus,
            CheckId::VpcLinkReference,
            CheckId::LoadBalancerExists,
            CheckId::EndpointConnection,
            CheckId::ListenerPort,
            CheckId::TargetHealth,
            CheckId::SecurityGroups,
            CheckId::NetworkAcls,
            CheckId::PrivatelinkInboundRules,
            CheckId::DeploymentDrift,
        ],
        example: "Execution failed due to configuration error: There was an internal error while executing your request",
        seen_in: Seen::Log,
    },
    Signature {
        id: "integration-timeout",
        statuses: &[504],
        error_types: &["IntegrationTimeout"],
        patterns: &[
            r"Endpoint request timed out",
            r"Execution failed due to a timeout error",
        ],
        status_alone: true,
        meaning: "API Gateway sent the request to the integration and got no answer within the integration timeout (29 s at most for REST APIs).",
        causes: &[
            "a security group or network ACL silently drops the request or its reply",
            "a route table sends the request or its reply nowhere (no route, a blackhole) or through an appliance that drops it",
            "PrivateLink inbound-rule enforcement on the NLB drops API Gateway's traffic",
            "no target is healthy, or targets are too slow",
            "the integration timeout is shorter than the backend needs (a Lambda function allowed to run longer than it, an ALB idle timeout beside it)",
        ],
        checks: &[
            CheckId::SecurityGroups,
            CheckId::NetworkAcls,
            CheckId::RouteTables,
            CheckId::PrivatelinkInboundRules,
            CheckId::TargetHealth,
            CheckId::IntegrationTimeout,
        ],
        example: "{\"message\": \"Endpoint request timed out\"}",
        seen_in: Seen::Response,
    },
    Signature {
        id: "cloudfront-could-not-satisfy",
        statuses: &[502, 503, 504],
        error_types: &[],
        patterns: &[
            r"The request could not be satisfied",
            r"CloudFront wasn'?t able to connect to the origin",
        ],
        status_alone: false,
        meaning: "CloudFront in front of the API could not get an answer from it (API Gateway accepts only HTTPS).",
        causes: &[
            "the distribution talks to API Gateway over plain HTTP (origin protocol policy http-only, or match-viewer with HTTP viewers)",
            "the origin domain or origin path does not name the API's execute-api host, custom domain or stage",
        ],
        checks: &[CheckId::CloudfrontOriginProtocol],
        example: "ERROR: The request could not be satisfied. 502 Bad Gateway. CloudFront wasn't able to connect to the origin.",
        seen_in: Seen::Response,
    },
    Signature {
        id: "unauthorized",
        statuses: &[401],
        error_types: &["UnauthorizedException"],
        patterns: &[
            r#"^\s*\{?\s*"?message"?\s*:\s*"Unauthorized"\s*\}?\s*$"#,
            r"^\s*Unauthorized\s*$",
        ],
        status_alone: true,
        meaning: "The route's authorizer refused the caller before the integration was called.",
        causes: &[
            "the request lacks the authorizer's identity source (a header, query string, cookie or context value it requires), so the authorizer is never invoked",
            "the token is invalid, expired or for another audience",
        ],
        checks: &[CheckId::AuthorizerConfig],
        example: "{\"message\":\"Unauthorized\"} x-amzn-errortype: UnauthorizedException",
        seen_in: Seen::Response,
    },
    Signature {
        id: "missing-authentication-token",
        statuses: &[403],
        error_types: &["MissingAuthenticationTokenException"],
        patterns: &[r"\bMissing Authentication Token\b"],
        status_alone: false,
        meaning: "API Gateway found no route for the request (it says 'missing token' because an IAM-authorized route could exist there).",
        causes: &[
            "the path does not exist in the deployed API (a missing prefix, a typo, a trailing segment)",
            "the stage in the URL does not exist, or the change adding the path was never deployed",
            "the method is not defined on that path",
            "the route uses IAM authorization and the request is unsigned",
        ],
        checks: &[CheckId::RouteExists, CheckId::DeploymentDrift],
        example: "{\"message\":\"Missing Authentication Token\"} x-amzn-errortype: MissingAuthenticationTokenException",
        seen_in: Seen::Response,
    },
    // A Lambda authorizer's policy is worded apart from the resource
    // policy's: "User is not authorized to access this resource with an
    // explicit deny" (and, newer, "... in an identity-based policy") when it
    // returned a Deny, the same without "explicit" when its policy (perhaps
    // cached for another method) covers no statement for the request
    // (knowledge center "api-gateway-troubleshoot-403-forbidden",
    // "api-gateway-lambda-authorization-errors").
    Signature {
        id: "authorizer-deny",
        statuses: &[403],
        error_types: &["AccessDeniedException"],
        patterns: &[r"User is not authorized to access this resource with an explicit deny"],
        status_alone: false,
        meaning: "The API's Lambda authorizer returned a policy that explicitly denies this request.",
        causes: &[
            "the Lambda authorizer returned a Deny for this caller or this method",
            "a Deny statement in the resource policy matches the caller (source IP, VPC endpoint, principal)",
        ],
        checks: &[CheckId::AuthorizerConfig, CheckId::ResourcePolicy],
        example: "{\"message\":\"User is not authorized to access this resource with an explicit deny\"} x-amzn-errortype: AccessDeniedException",
        seen_in: Seen::Response,
    },
    Signature {
        id: "authorizer-not-authorized",
        statuses: &[403],
        error_types: &["AccessDeniedException"],
        patterns: &[r#"User is not authorized to access this resource\s*(?:"|\}|\.|$)"#],
        status_alone: false,
        meaning: "The API's Lambda authorizer returned a policy with no statement allowing this request.",
        causes: &[
            "the authorizer caches its policy (result TTL above 0) and the cached policy names only the method first called, so other methods are denied",
            "the authorizer's policy allows another method or resource ARN than the one requested",
        ],
        checks: &[CheckId::AuthorizerConfig],
        example: "{\"message\":\"User is not authorized to access this resource\"}",
        seen_in: Seen::Response,
    },
    Signature {
        id: "explicit-deny",
        statuses: &[403],
        error_types: &["AccessDeniedException"],
        patterns: &[
            r"with an explicit deny",
            r"is not authorized to perform: execute-api:Invoke",
        ],
        status_alone: false,
        meaning: "The API's resource policy (or an authorizer's policy) explicitly denies this caller.",
        causes: &[
            "a Deny statement in the resource policy matches the caller (source IP, VPC endpoint, principal)",
            "a private API's policy denies requests that do not come through an allowed VPC endpoint",
        ],
        checks: &[CheckId::ResourcePolicy],
        example: "{\"Message\":\"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********7890:a1b2c3/stage/GET/v1/orders with an explicit deny\"}",
        seen_in: Seen::Response,
    },
    // The execution log's line when a key is in no usage plan of the stage
    // (quoted in github.com/WojciechMatuszewski/apigw-access-logs-firehose);
    // the caller gets 403 Forbidden (Developer Guide, "Choose an API key
    // source": InvalidKeyParameter).
    Signature {
        id: "api-key-not-in-usage-plan",
        statuses: &[403],
        error_types: &["ForbiddenException"],
        patterns: &[
            r"requires API Key and API Key is not associated with a Usage Plan",
            r"No Usage Plan found for key and API Stage",
        ],
        status_alone: false,
        meaning: "The method requires an API key, and the key the caller sent is in no usage plan of the stage (or the stage is in none).",
        causes: &[
            "the stage was never added to the usage plan holding the caller's key",
            "the caller's key belongs to another usage plan, or is disabled",
        ],
        checks: &[CheckId::ApiKeyUsagePlan],
        example: "API Key ... not authorized because method 'GET /' requires API Key and API Key is not associated with a Usage Plan for API Stage a1b2c3/prod: No Usage Plan found for key and API Stage",
        seen_in: Seen::Log,
    },
    // Knowledge center "api-gateway-429-limit": "Exceeding the throttling
    // limit or quota returns a "429 Too Many Requests" or "Limit Exceeded"
    // error response."
    Signature {
        id: "too-many-requests",
        statuses: &[429],
        error_types: &["TooManyRequestsException", "LimitExceededException"],
        // The execution log's lines for a usage plan's limits (knowledge
        // center "api-gateway-429-limit").
        patterns: &[
            r"too many requests",
            r"limit exceeded",
            r"exceeded (throttle|quota) limit for API",
            r"key quota exhausted for usage plan",
        ],
        status_alone: false,
        meaning: "API Gateway throttled the request (a stage, method, usage plan or account limit) or the caller's usage plan quota is spent.",
        causes: &[
            "a stage or method throttle (rate or burst) set to 0, or below the traffic",
            "the caller's usage plan has a quota of 0 or a spent one, or throttles to 0",
            "the account's Regional limit is exceeded by all APIs together",
        ],
        checks: &[CheckId::Throttling, CheckId::ApiKeyUsagePlan],
        example: "{\"message\":\"Too Many Requests\"}",
        seen_in: Seen::Response,
    },
    Signature {
        id: "forbidden",
        statuses: &[403],
        error_types: &["ForbiddenException"],
        patterns: &[r#"^\s*\{?\s*"?message"?\s*:\s*"Forbidden"\s*\}?\s*$"#],
        status_alone: false,
        meaning: "API Gateway refused the request before routing it.",
        causes: &[
            "a private API called from outside an allowed VPC endpoint, or without a resource policy allowing one",
            "the execute-api endpoint is disabled and the URL does not use the custom domain",
            "a WAF rule blocked the request",
            "CloudFront forwards the viewer's Host header to the execute-api origin",
            "the method requires an API key and the caller's key is missing, disabled or in no usage plan of the stage",
        ],
        checks: &[
            CheckId::ResourcePolicy,
            CheckId::ExecuteApiEndpoint,
            CheckId::CloudfrontOriginProtocol,
            CheckId::ApiKeyUsagePlan,
        ],
        example: "{\"message\":\"Forbidden\"} x-amzn-errortype: ForbiddenException",
        seen_in: Seen::Response,
    },
    // HTTP APIs answer 503 when the private integration cannot be reached:
    // after a VPC link went idle (INACTIVE) or a backend moved
    // (https://github.com/aws-samples/aws-apigw-http-api-private--integrations/issues/2,
    // https://stackoverflow.com/questions/62217230). The AWS guides do not
    // document this body, so the signature only points at the checks to
    // run; it decides no verdict. Not status-alone: CloudFront and load
    // balancers answer 503 too.
    Signature {
        id: "service-unavailable",
        statuses: &[503],
        error_types: &[],
        patterns: &[r#"^\s*\{?\s*"?message"?\s*:\s*"Service Unavailable"\s*\}?\s*$"#],
        status_alone: false,
        meaning: "API Gateway (an HTTP API) could not get a connection to its private integration.",
        causes: &[
            "the VPC link is INACTIVE after 60 days without traffic, or not AVAILABLE",
            "the load balancer or Cloud Map service behind the integration was deleted, or does not listen on the integration's port",
            "no target is healthy",
        ],
        checks: &[
            CheckId::VpcLinkStatus,
            CheckId::LoadBalancerExists,
            CheckId::ListenerPort,
            CheckId::TargetHealth,
        ],
        example: "{\"message\":\"Service Unavailable\"}",
        seen_in: Seen::Response,
    },
    // UpdateStage's answer when a stage turns on execution logging in an
    // account without a CloudWatch Logs role: logging needs the account's
    // cloudWatchRoleArn set first
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
    Signature {
        id: "cloudwatch-logs-role-missing",
        statuses: &[400],
        error_types: &["BadRequestException"],
        patterns: &[r"CloudWatch Logs role ARN must be set in account settings to enable logging"],
        status_alone: false,
        meaning: "The account has no CloudWatch Logs role for API Gateway, so no stage can write execution logs.",
        causes: &[
            "the account's API Gateway settings (GetAccount cloudwatchRoleArn) name no role, or a role API Gateway cannot assume",
        ],
        checks: &[CheckId::ExecutionLogging],
        example: "CloudWatch Logs role ARN must be set in account settings to enable logging",
        seen_in: Seen::Log,
    },
    Signature {
        id: "internal-server-error",
        statuses: &[500],
        error_types: &["InternalServerErrorException"],
        patterns: &[r#"^\s*\{?\s*"?message"?\s*:\s*"Internal server error"\s*\}?\s*$"#],
        status_alone: true,
        meaning: "API Gateway failed without telling the caller why; the execution log (or access log's integrationErrorMessage) names the cause.",
        causes: &[
            "a broken private integration path (VPC link, load balancer, listener, targets)",
            "a TLS or protocol mismatch with the integration",
            "an authorizer API Gateway cannot invoke",
            "a Lambda integration that does not exist, is not Active, is throttled to zero or may not be invoked",
        ],
        checks: &[
            CheckId::VpcLinkStatus,
            CheckId::VpcLinkReference,
            CheckId::LoadBalancerExists,
            CheckId::EndpointConnection,
            CheckId::ListenerPort,
            CheckId::TargetHealth,
            CheckId::TlsCertificateHostname,
            CheckId::TlsCertificateTrust,
            CheckId::ProtocolMatch,
            CheckId::AuthorizerConfig,
            CheckId::LambdaIntegration,
            CheckId::ExecutionLogging,
            CheckId::DeploymentDrift,
        ],
        example: "{\"message\": \"Internal server error\"}",
        seen_in: Seen::Response,
    },
];

fn compiled() -> &'static Vec<Vec<Regex>> {
    static RE: OnceLock<Vec<Vec<Regex>>> = OnceLock::new();
    RE.get_or_init(|| {
        SIGNATURES
            .iter()
            .map(|s| {
                s.patterns
                    .iter()
                    // The patterns are constants tested below; one that
                    // failed to compile would match nothing rather than panic.
                    .filter_map(|p| Regex::new(&format!("(?i){p}")).ok())
                    .collect()
            })
            .collect()
    })
}

/// What the user saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ErrorInput {
    pub status: Option<u16>,
    pub message: Option<String>,
    pub error_type: Option<String>,
    pub log_line: Option<String>,
    pub url: Option<String>,
}

impl ErrorInput {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.message.is_none()
            && self.error_type.is_none()
            && self.log_line.is_none()
            && self.url.is_none()
    }
}

/// `x-amzn-errortype` without its `:http://internal...` suffix.
pub fn normalize_error_type(t: &str) -> &str {
    t.split(':').next().unwrap_or(t).trim()
}

/// The signatures the input matches, best first.
pub fn match_signatures(input: &ErrorInput) -> Vec<&'static Signature> {
    let texts: Vec<&str> = [input.message.as_deref(), input.log_line.as_deref()]
        .into_iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .collect();
    let etype = input
        .error_type
        .as_deref()
        .map(normalize_error_type)
        .filter(|t| !t.is_empty());
    let mut scored: Vec<(u32, usize)> = Vec::new();
    for (i, sig) in SIGNATURES.iter().enumerate() {
        if let Some(st) = input.status
            && !sig.statuses.is_empty()
            && !sig.statuses.contains(&st)
        {
            continue;
        }
        if let Some(t) = etype
            && !sig.error_types.is_empty()
            && !sig.error_types.iter().any(|e| e.eq_ignore_ascii_case(t))
        {
            continue;
        }
        let mut score = 0;
        if texts
            .iter()
            .any(|t| compiled()[i].iter().any(|re| re.is_match(t)))
        {
            score += 4;
        }
        if etype.is_some_and(|t| sig.error_types.iter().any(|e| e.eq_ignore_ascii_case(t))) {
            score += 3;
        }
        if score == 0
            && sig.status_alone
            && input.status.is_some_and(|s| sig.statuses.contains(&s))
            && texts.is_empty()
        {
            score = 1;
        }
        if score > 0 {
            scored.push((score, i));
        }
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| &SIGNATURES[i]).collect()
}

/// Classifies one log line (execution log, or an access log's JSON) with
/// the most specific signature it matches, if any.
pub fn classify_line(line: &str) -> Option<&'static Signature> {
    // Access logs carry the integration error in a JSON field.
    let text = serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| {
            [
                "integrationErrorMessage",
                "integrationError",
                "errorMessage",
                "authorizerError",
            ]
            .iter()
            .find_map(|k| {
                v.get(*k)
                    .and_then(|x| x.as_str())
                    .filter(|s| !s.is_empty() && *s != "-")
                    .map(str::to_string)
            })
        })
        .unwrap_or_else(|| line.to_string());
    let input = ErrorInput {
        log_line: Some(text),
        ..Default::default()
    };
    match_signatures(&input).into_iter().next()
}

/// The parts of an invoke URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum UrlTarget {
    /// `https://{api}.execute-api.{region}.amazonaws.com/...`: the first path
    /// segment is the stage unless the API serves a `$default` stage there.
    ExecuteApi {
        api_id: String,
        region: String,
        segments: Vec<String>,
    },
    /// Any other host: a custom domain, resolved through its mappings.
    CustomDomain {
        domain: String,
        segments: Vec<String>,
    },
}

/// Where an invoke URL points once resolved against the API's stages or
/// the region's custom domain mappings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub api_id: String,
    /// `None` when a mapping serves every stage and the URL names none.
    pub stage: Option<String>,
    /// The path inside the stage, always starting with `/`.
    pub path: String,
    /// How a custom domain mapped it, for the reader.
    pub note: Option<String>,
    /// Whether the URL used the API's default execute-api host.
    #[serde(skip)]
    pub via_execute_api: bool,
}

/// Resolves a custom domain URL through the domain's mappings: the
/// longest base path that prefixes the URL's path wins, as API Gateway
/// routes it. `None` when the domain is unknown or no mapping fits.
pub fn resolve_custom_domain(
    domains: &[crate::model::DomainName],
    domain: &str,
    segments: &[String],
) -> Option<Resolved> {
    let d = domains
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(domain))?;
    let mut best: Option<(usize, &crate::model::ApiMapping)> = None;
    for m in &d.mappings {
        let base: Vec<&str> = if m.base_path == "(none)" {
            Vec::new()
        } else {
            m.base_path.split('/').filter(|s| !s.is_empty()).collect()
        };
        let fits = base.len() <= segments.len() && base.iter().zip(segments).all(|(a, b)| a == b);
        if fits && best.is_none_or(|(n, _)| base.len() > n) {
            best = Some((base.len(), m));
        }
    }
    let (n, m) = best?;
    // A mapping without a stage (REST "every stage") takes it from the path.
    let (stage, rest) = match &m.stage {
        Some(s) => (Some(s.clone()), &segments[n..]),
        None => match segments.get(n) {
            Some(s) => (Some(s.clone()), &segments[n + 1..]),
            None => (None, &segments[n..]),
        },
    };
    let base = if n == 0 {
        "(none)".to_string()
    } else {
        m.base_path.clone()
    };
    Some(Resolved {
        api_id: m.api_id.clone(),
        stage: stage.clone(),
        path: format!("/{}", rest.join("/")),
        note: Some(format!(
            "{domain} maps base path {base} to API {} stage {}",
            m.api_id,
            m.stage.as_deref().unwrap_or("(named in the path)")
        )),
        via_execute_api: false,
    })
}

/// Resolves an execute-api URL for an API with these stage names: the
/// first segment is the stage, unless the API has a `$default` stage and
/// no stage of that name.
pub fn resolve_execute_api(api_id: &str, stages: &[String], segments: &[String]) -> Resolved {
    let (stage, rest) = match segments.first() {
        Some(s) if stages.contains(s) => (Some(s.clone()), &segments[1..]),
        _ if stages.iter().any(|s| s == "$default") => (Some("$default".to_string()), segments),
        Some(s) => (Some(s.clone()), &segments[1..]),
        None => (None, segments),
    };
    Resolved {
        api_id: api_id.to_string(),
        stage,
        path: format!("/{}", rest.join("/")),
        note: None,
        via_execute_api: true,
    }
}

/// Parses an invoke URL; query and fragment are ignored.
pub fn parse_url(url: &str) -> Result<UrlTarget, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a valid URL ({e})"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("`{url}` has no host"))?
        .to_ascii_lowercase();
    let segments: Vec<String> = parsed
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).map(percent_decode).collect())
        .unwrap_or_default();
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() >= 5 && parts[1] == "execute-api" && parts[parts.len() - 2] == "amazonaws" {
        // Private APIs: {api}-{vpce-id}.execute-api...
        let api_id = parts[0].split('-').next().unwrap_or(parts[0]).to_string();
        return Ok(UrlTarget::ExecuteApi {
            api_id,
            region: parts[2].to_string(),
            segments,
        });
    }
    Ok(UrlTarget::CustomDomain {
        domain: host,
        segments,
    })
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// How a request path relates to a stage's routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteMatch {
    /// The route that serves the request, as `METHOD /path`.
    pub matched: Option<String>,
    /// Methods defined on the matching path, when the method is wrong.
    pub methods_at_path: Vec<String>,
    /// Existing paths most like the requested one, best first.
    pub closest: Vec<String>,
}

fn segment_matches(template: &str, actual: &str) -> bool {
    (template.starts_with('{') && template.ends_with('}')) || template == actual
}

/// Whether a route template path matches the request path, and how
/// specifically (more literal segments are more specific).
fn path_score(template: &str, path: &[&str]) -> Option<u32> {
    if template == "$default" {
        return Some(0);
    }
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let mut score = 1;
    for (i, seg) in t.iter().enumerate() {
        if seg.starts_with('{') && seg.ends_with("+}") {
            // Greedy: one or more of the remaining segments.
            return (path.len() > i).then_some(score);
        }
        let actual = path.get(i)?;
        if !segment_matches(seg, actual) {
            return None;
        }
        score += if seg.starts_with('{') { 10 } else { 100 };
    }
    (t.len() == path.len()).then_some(score)
}

/// Matches `METHOD path` against the routes, the way API Gateway routes:
/// the most specific path wins, then the exact method or `ANY`.
pub fn match_route(routes: &[Route], method: Option<&str>, path: &str) -> RouteMatch {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut candidates: Vec<(u32, &Route)> = routes
        .iter()
        .filter_map(|r| path_score(&r.path, &segs).map(|s| (s, r)))
        .collect();
    candidates.sort_by_key(|b| std::cmp::Reverse(b.0));
    let best_score = candidates.first().map(|c| c.0);
    let at_best: Vec<&Route> = candidates
        .iter()
        .filter(|c| Some(c.0) == best_score)
        .map(|c| c.1)
        .collect();
    let method_ok = |r: &Route| match method {
        None => true,
        Some(m) => r.method.eq_ignore_ascii_case(m) || r.method == "ANY",
    };
    // Among equally specific paths an exact method beats ANY; a less
    // specific path with the method serves it if the best one lacks it.
    let matched = candidates
        .iter()
        .map(|c| c.1)
        .find(|r| method_ok(r) && method.is_some_and(|m| r.method.eq_ignore_ascii_case(m)))
        .or_else(|| candidates.iter().map(|c| c.1).find(|r| method_ok(r)))
        .map(|r| r.label());
    let methods_at_path = if matched.is_none() {
        let mut m: Vec<String> = at_best.iter().map(|r| r.method.clone()).collect();
        m.sort();
        m.dedup();
        m
    } else {
        Vec::new()
    };
    let closest = if matched.is_none() {
        closest_paths(routes, path)
    } else {
        Vec::new()
    };
    RouteMatch {
        matched,
        methods_at_path,
        closest,
    }
}

/// Existing paths most like `path`: those that end with it first (a
/// missing prefix), then by edit distance over segments.
pub fn closest_paths(routes: &[Route], path: &str) -> Vec<String> {
    let want: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut paths: Vec<&str> = routes
        .iter()
        .map(|r| r.path.as_str())
        .filter(|p| *p != "$default")
        .collect();
    paths.sort();
    paths.dedup();
    // Ties go to the path sharing more literal segments with the request,
    // in order: `/v1/orders` is closer to `/api/v1/orders` than to `/orders`.
    let mut scored: Vec<(usize, std::cmp::Reverse<usize>, &str)> = paths
        .into_iter()
        .map(|p| {
            let have: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
            (
                segment_distance(&have, &want),
                std::cmp::Reverse(common_segments(&have, &want)),
                p,
            )
        })
        .collect();
    scored.sort();
    // Up to one whole segment wrong per segment asked, at least two.
    let limit = WHOLE * want.len().max(2);
    scored
        .into_iter()
        .filter(|(d, _, _)| *d <= limit)
        .take(3)
        .map(|(_, _, p)| p.to_string())
        .collect()
}

/// The longest common subsequence of identical segments.
fn common_segments(a: &[&str], b: &[&str]) -> usize {
    let mut prev = vec![0; b.len() + 1];
    for x in a {
        let mut cur = vec![0; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The cost of a segment added, removed or replaced outright; a template
/// standing for the segment costs `TEMPLATE` (so literal matches rank
/// first) and a near miss (a typo, a plural) `NEAR`.
const WHOLE: usize = 10;
const TEMPLATE: usize = 1;
const NEAR: usize = 5;

fn segment_cost(template: &str, actual: &str) -> usize {
    if template == actual {
        0
    } else if segment_matches(template, actual) {
        TEMPLATE
    } else {
        let d = char_distance(template, actual);
        let shorter = template.chars().count().min(actual.chars().count());
        if d <= (shorter / 3).max(1) {
            NEAR
        } else {
            WHOLE
        }
    }
}

/// Weighted Levenshtein distance over path segments.
fn segment_distance(a: &[&str], b: &[&str]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j * WHOLE).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![(i + 1) * WHOLE];
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + segment_cost(x, y);
            cur.push(sub.min(prev[j + 1] + WHOLE).min(cur[j] + WHOLE));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Levenshtein distance over characters, ASCII case-insensitive.
fn char_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, y) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(x != y))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parses a window like `30m`, `2h`, `1d`, `45s` into seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 2h or 1d"))?;
    let mult = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("`{s}` is not a duration like 30m, 2h or 1d")),
    };
    if n == 0 {
        return Err("the duration must be more than zero".to_string());
    }
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(input: ErrorInput) -> Vec<&'static str> {
        match_signatures(&input).iter().map(|s| s.id).collect()
    }

    fn msg(m: &str) -> ErrorInput {
        ErrorInput {
            message: Some(m.to_string()),
            ..Default::default()
        }
    }

    #[test]
    fn every_pattern_compiles_and_every_example_matches_its_signature() {
        for (i, sig) in SIGNATURES.iter().enumerate() {
            assert_eq!(
                compiled()[i].len(),
                sig.patterns.len(),
                "{}: a pattern does not compile",
                sig.id
            );
            let status = sig.statuses.first().copied();
            let etype = sig
                .example
                .split("x-amzn-errortype: ")
                .nth(1)
                .map(str::to_string);
            let input = ErrorInput {
                status,
                message: Some(
                    sig.example
                        .split(" x-amzn-errortype")
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                ),
                error_type: etype,
                ..Default::default()
            };
            assert_eq!(ids(input).first(), Some(&sig.id), "{}'s example", sig.id);
        }
    }

    /// What a caller or an execution log shows, as the troubleshooting
    /// articles quote it (timestamps included where logs carry them).
    fn seen(status: Option<u16>, error_type: Option<&str>, text: &str) -> ErrorInput {
        ErrorInput {
            status,
            error_type: error_type.map(str::to_string),
            message: Some(text.to_string()),
            ..Default::default()
        }
    }

    /// A check's "explains" list is what the signatures naming it show:
    /// a response with its status, a log line as it is.
    #[test]
    fn explains_lists_come_from_the_signatures() {
        let drift = explained_by(CheckId::DeploymentDrift);
        assert!(
            drift
                .iter()
                .any(|l| l.starts_with("HTTP 403 {\"message\":\"Missing Authentication Token\"}")),
            "{drift:?}"
        );
        assert!(
            drift.iter().any(|l| l.starts_with(
                "Execution failed due to configuration error: There was an internal error"
            )),
            "{drift:?}"
        );
        let logging = explained_by(CheckId::ExecutionLogging);
        assert!(
            logging
                .iter()
                .any(|l| l.starts_with("CloudWatch Logs role ARN")),
            "{logging:?}"
        );
        // A check no signature names would explain nothing.
        for id in CheckId::ALL {
            let n = SIGNATURES.iter().filter(|s| s.checks.contains(id)).count();
            assert_eq!(explained_by(*id).len(), n, "{id}");
        }
    }

    #[test]
    fn exact_article_texts() {
        let table: Vec<(&str, ErrorInput)> = vec![
            (
                "internal-configuration-error",
                seen(
                    Some(500),
                    None,
                    "Thu May 04 17:48:21 UTC 2024 : Execution failed due to configuration error: There was an internal error while executing your request",
                ),
            ),
            (
                "host-name-mismatch",
                seen(
                    Some(500),
                    None,
                    "Thu May 04 19:50:21 UTC 2024 : Execution failed due to configuration error: Host name 'domain.com.com' does not match the certificate subject provided by the peer (CN=myinstance.com)",
                ),
            ),
            (
                "pkix-path-building-failed",
                seen(
                    None,
                    None,
                    "Thu Dec 15 16:05:05 UTC 2022 : Execution failed due to configuration error: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                ),
            ),
            (
                "pkix-path-building-failed",
                seen(
                    None,
                    None,
                    "Execution failed due to configuration error: General SSLEngine problem",
                ),
            ),
            (
                "pkix-path-validation-failed",
                seen(
                    None,
                    None,
                    "Thu Dec 15 16:06:02 UTC 2022 : Execution failed due to configuration error: PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed",
                ),
            ),
            (
                "ecdh-signature-mismatch",
                seen(
                    None,
                    None,
                    "Execution failed due to configuration error: Cannot verify ECDH ServerKeyExchange signature",
                ),
            ),
            (
                "internal-error",
                seen(Some(500), None, "Execution failed due to an internal error"),
            ),
            (
                "not-a-valid-protocol-version",
                seen(
                    None,
                    None,
                    "Execution failed due to configuration error: Not a valid protocol version",
                ),
            ),
            (
                "authorizer-configuration",
                seen(
                    Some(500),
                    Some("AuthorizerConfigurationException"),
                    "{\"message\": null}",
                ),
            ),
            (
                "lambda-invalid-permissions",
                seen(
                    None,
                    None,
                    "Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:example-function/invocations\nExecution failed due to configuration error: Invalid permissions on Lambda function\nMethod completed with status: 500",
                ),
            ),
            (
                "integration-timeout",
                seen(
                    Some(504),
                    Some("IntegrationTimeout"),
                    "{\"message\": \"Endpoint request timed out\"}",
                ),
            ),
            (
                "cloudfront-could-not-satisfy",
                seen(
                    Some(502),
                    None,
                    "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY><H1>502 ERROR</H1>CloudFront wasn't able to connect to the origin.",
                ),
            ),
            (
                "cloudfront-could-not-satisfy",
                seen(Some(503), None, "ERROR: The request could not be satisfied"),
            ),
            (
                "unauthorized",
                seen(
                    Some(401),
                    Some("UnauthorizedException"),
                    "{\"message\":\"Unauthorized\"}",
                ),
            ),
            (
                "missing-authentication-token",
                seen(
                    Some(403),
                    Some(
                        "MissingAuthenticationTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/",
                    ),
                    "{\"message\":\"Missing Authentication Token\"}",
                ),
            ),
            (
                "explicit-deny",
                seen(
                    Some(403),
                    Some("AccessDeniedException"),
                    "{\"Message\":\"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********7890:a1b2c3/prod/GET/orders with an explicit deny\"}",
                ),
            ),
            (
                "authorizer-deny",
                seen(
                    Some(403),
                    Some("AccessDeniedException"),
                    "{\"message\":\"User is not authorized to access this resource with an explicit deny in an identity-based policy\"}",
                ),
            ),
            (
                "authorizer-deny",
                seen(
                    Some(403),
                    None,
                    "{\n\"message\": \"User is not authorized to access this resource with an explicit deny\"\n}",
                ),
            ),
            (
                "authorizer-not-authorized",
                seen(
                    Some(403),
                    None,
                    "{\n\"message\": \"User is not authorized to access this resource\"\n}",
                ),
            ),
            (
                "forbidden",
                seen(
                    Some(403),
                    Some("ForbiddenException"),
                    "{\"message\":\"Forbidden\"}",
                ),
            ),
            (
                "internal-server-error",
                seen(Some(500), None, "{\"message\": \"Internal server error\"}"),
            ),
            (
                "too-many-requests",
                seen(Some(429), None, "{\"message\":\"Too Many Requests\"}"),
            ),
            (
                "too-many-requests",
                seen(Some(429), None, "{\"message\":\"Limit Exceeded\"}"),
            ),
            (
                "too-many-requests",
                seen(
                    Some(429),
                    None,
                    "Stage rohkz08x02/dev: Key throttle limit exceeded for Usage Plan ID nnpegc, RestApi rohkz08x02, Stage dev, Resource f646q2, HttpMethod GET. Limit: 5.00 Burst: 10",
                ),
            ),
            (
                "api-key-not-in-usage-plan",
                seen(
                    None,
                    None,
                    "API Key ... not authorized because method 'GET /' requires API Key and API Key is not associated with a Usage Plan for API Stage zsuvlqr7nb/prod: No Usage Plan found for key and API Stage",
                ),
            ),
            (
                "service-unavailable",
                seen(Some(503), None, "{\"message\":\"Service Unavailable\"}"),
            ),
            (
                "cloudwatch-logs-role-missing",
                seen(
                    None,
                    None,
                    "CloudWatch Logs role ARN must be set in account settings to enable logging (Service: AmazonApiGatewayV2",
                ),
            ),
        ];
        for (want, input) in table.iter() {
            let got = ids(input.clone());
            assert_eq!(got.first(), Some(want), "{input:?} gave {got:?}");
        }
        for sig in SIGNATURES {
            assert!(
                table.iter().any(|(id, _)| *id == sig.id),
                "signature {} has no test with its article text",
                sig.id
            );
        }
        // A status that identifies one cause by itself.
        assert_eq!(
            ids(ErrorInput {
                status: Some(504),
                ..Default::default()
            }),
            vec!["integration-timeout"]
        );
        assert_eq!(
            ids(ErrorInput {
                status: Some(401),
                ..Default::default()
            }),
            vec!["unauthorized"]
        );
    }

    #[test]
    fn near_misses_do_not_match() {
        for text in [
            "Missing Authentication",
            "Host name 'a.example' matches the certificate subject",
            "PKIX path validation succeeded",
            "Execution failed due to configuration error: Invalid stage",
            "the request was satisfied",
            "{\"message\":\"Unauthorized access to the billing module\"}",
            "Internal server error in module X",
            "protocol version 2 is valid",
            "Host name verification skipped",
            "PKIX path building succeeded",
            "ECDH ServerKeyExchange signature verified",
            "Lambda function permissions updated",
            "The request could be satisfied",
            "Endpoint request completed",
            "User: alice is authorized to perform: execute-api:Invoke",
            "Forbidden fruit",
            "SSLEngine closed",
            "Certificate path validator started",
        ] {
            assert!(
                ids(msg(text)).is_empty(),
                "{text} matched {:?}",
                ids(msg(text))
            );
        }
        // A contradicting status or error type rules a signature out.
        let e = ErrorInput {
            status: Some(404),
            message: Some("Missing Authentication Token".into()),
            ..Default::default()
        };
        assert!(ids(e).is_empty());
        let e = ErrorInput {
            error_type: Some("UnauthorizedException".into()),
            message: Some("Missing Authentication Token".into()),
            ..Default::default()
        };
        assert!(!ids(e).contains(&"missing-authentication-token"));
        // A status with no signature of its own is unknown, not guessed.
        assert!(
            ids(ErrorInput {
                status: Some(418),
                ..Default::default()
            })
            .is_empty()
        );
    }

    #[test]
    fn access_log_json_is_classified_by_its_integration_error() {
        let line = r#"{"requestId":"a","status":"500","integrationErrorMessage":"Host name 'x' does not match the certificate subject provided by the peer (CN=y)"}"#;
        assert_eq!(
            classify_line(line).map(|s| s.id),
            Some("host-name-mismatch")
        );
        assert!(classify_line("(1234) Method completed with status: 200").is_none());
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("https://a1b2c3.execute-api.us-east-1.amazonaws.com/stage/v1/orders?x=1")
                .unwrap(),
            UrlTarget::ExecuteApi {
                api_id: "a1b2c3".into(),
                region: "us-east-1".into(),
                segments: vec!["stage".into(), "v1".into(), "orders".into()],
            }
        );
        assert!(matches!(
            parse_url("https://a1b2c3-vpce-0123.execute-api.eu-west-1.amazonaws.com/prod/").unwrap(),
            UrlTarget::ExecuteApi { ref api_id, ref region, .. } if api_id == "a1b2c3" && region == "eu-west-1"
        ));
        assert_eq!(
            parse_url("https://api.example.com/shop/v1/items%20x").unwrap(),
            UrlTarget::CustomDomain {
                domain: "api.example.com".into(),
                segments: vec!["shop".into(), "v1".into(), "items x".into()],
            }
        );
        assert!(parse_url("not a url").is_err());
    }

    fn segs(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn custom_domain_and_stage_resolution_table() {
        use crate::model::{ApiMapping, DomainName};
        let mapping = |base: &str, api: &str, stage: Option<&str>| ApiMapping {
            base_path: base.into(),
            api_id: api.into(),
            stage: stage.map(str::to_string),
        };
        let domains = vec![DomainName {
            name: "api.example.com".into(),
            regional_domain_name: Some("d-abc.execute-api.us-east-1.amazonaws.com".into()),
            distribution_domain_name: None,
            mappings: vec![
                mapping("(none)", "root111", Some("prod")),
                mapping("shop", "shop222", Some("live")),
                mapping("shop/v2", "shop333", Some("beta")),
                mapping("any", "any444", None),
            ],
        }];
        // (domain, path, expected (api, stage, path inside the stage))
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<(&'a str, Option<&'a str>, &'a str)>,
        );
        let cases: &[Case] = &[
            // A base path strips its segments; the stage is the mapping's.
            (
                "api.example.com",
                "/shop/v1/items",
                Some(("shop222", Some("live"), "/v1/items")),
            ),
            // The longest base path wins.
            (
                "api.example.com",
                "/shop/v2/items",
                Some(("shop333", Some("beta"), "/items")),
            ),
            // No base path fits but the root mapping: the whole path.
            (
                "API.Example.com",
                "/orders/1",
                Some(("root111", Some("prod"), "/orders/1")),
            ),
            // A base path is whole segments: "shopping" is not "shop".
            (
                "api.example.com",
                "/shopping",
                Some(("root111", Some("prod"), "/shopping")),
            ),
            // A mapping of every stage takes the stage from the path.
            (
                "api.example.com",
                "/any/test/x",
                Some(("any444", Some("test"), "/x")),
            ),
            ("other.example.com", "/x", None),
        ];
        for (domain, path, want) in cases {
            let got = resolve_custom_domain(&domains, domain, &segs(path));
            let got = got
                .as_ref()
                .map(|r| (r.api_id.as_str(), r.stage.as_deref(), r.path.as_str()));
            assert_eq!(got, *want, "{domain}{path}");
        }
        // Without a root mapping an unmapped base path resolves to nothing.
        let mut no_root = domains.clone();
        no_root[0].mappings.remove(0);
        assert_eq!(
            resolve_custom_domain(&no_root, "api.example.com", &segs("/orders")),
            None
        );

        let stages = vec!["prod".to_string(), "beta".to_string()];
        let r = resolve_execute_api("a1b2c3", &stages, &segs("/prod/v1/orders"));
        assert_eq!(
            (r.stage.as_deref(), r.path.as_str()),
            (Some("prod"), "/v1/orders")
        );
        // A stage that does not exist is still the first segment: the
        // caller reports it missing rather than guessing another.
        let r = resolve_execute_api("a1b2c3", &stages, &segs("/v1/orders"));
        assert_eq!(
            (r.stage.as_deref(), r.path.as_str()),
            (Some("v1"), "/orders")
        );
        let default = vec!["$default".to_string()];
        let r = resolve_execute_api("h1", &default, &segs("/v1/orders"));
        assert_eq!(
            (r.stage.as_deref(), r.path.as_str()),
            (Some("$default"), "/v1/orders")
        );
        let r = resolve_execute_api("a1b2c3", &stages, &[]);
        assert_eq!((r.stage, r.path.as_str()), (None, "/"));
    }

    fn route(m: &str, p: &str) -> Route {
        Route {
            method: m.into(),
            path: p.into(),
            resource_id: None,
            route_id: None,
            authorization_type: None,
            authorizer_id: None,
            authorizer_name: None,
            integration: None,
            api_key_required: None,
        }
    }

    #[test]
    fn route_matching_table() {
        let routes = vec![
            route("GET", "/api/v1/orders"),
            route("POST", "/api/v1/orders"),
            route("GET", "/api/v1/orders/{id}"),
            route("ANY", "/files/{proxy+}"),
            route("GET", "/health"),
        ];
        let m = match_route(&routes, Some("GET"), "/api/v1/orders/42");
        assert_eq!(m.matched.as_deref(), Some("GET /api/v1/orders/{id}"));
        let m = match_route(&routes, Some("DELETE"), "/files/a/b/c.txt");
        assert_eq!(
            m.matched.as_deref(),
            Some("ANY /files/{proxy+}"),
            "greedy and ANY"
        );
        let m = match_route(&routes, Some("GET"), "/files");
        assert_eq!(
            m.matched, None,
            "a greedy segment needs at least one segment"
        );
        let m = match_route(&routes, Some("DELETE"), "/api/v1/orders");
        assert_eq!(m.matched, None);
        assert_eq!(m.methods_at_path, vec!["GET", "POST"]);
        // A missing prefix beats a dropped segment at the same distance.
        let both = vec![route("GET", "/orders"), route("GET", "/api/v1/orders")];
        assert_eq!(
            match_route(&both, Some("GET"), "/v1/orders").closest,
            vec!["/api/v1/orders", "/orders"]
        );
        // The seed's case: the URL lacks the /api prefix.
        let m = match_route(&routes, Some("GET"), "/v1/orders");
        assert_eq!(m.matched, None);
        assert_eq!(
            m.closest.first().map(String::as_str),
            Some("/api/v1/orders")
        );
        // A typo ranks the near path first, ahead of templated ones.
        let m = match_route(&routes, Some("GET"), "/api/v1/order");
        assert_eq!(
            m.closest.first().map(String::as_str),
            Some("/api/v1/orders")
        );
        let m = match_route(&routes, None, "/helth");
        assert_eq!(m.closest.first().map(String::as_str), Some("/health"));
        // Nothing close is named rather than something far.
        let m = match_route(&routes, None, "/completely/unrelated/thing/here");
        assert!(m.closest.len() <= 3);
        let m = match_route(&routes, None, "/health");
        assert_eq!(m.matched.as_deref(), Some("GET /health"));
        let default = vec![route("ANY", "$default")];
        assert_eq!(
            match_route(&default, Some("GET"), "/anything")
                .matched
                .as_deref(),
            Some("ANY $default")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("1d"), Ok(86400));
        assert_eq!(parse_duration("90"), Ok(5400));
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
