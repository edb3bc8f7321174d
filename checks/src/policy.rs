//! IAM policy documents as the API Gateway resource policy and Lambda's
//! resource-based policy write them: parsing (API Gateway returns the
//! document as an escaped string), and the `*`/`?` wildcards of ARNs and
//! actions.

use serde_json::Value;

/// One statement, its list fields normalised to lists. A statement written
/// with `NotPrincipal`, `NotAction` or `NotResource` keeps that list in the
/// plain field with its `not_*` flag set: it then applies to everything the
/// list does not match (IAM User Guide, "IAM JSON policy elements:
/// NotPrincipal / NotAction / NotResource").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: String,
    /// `*`, or `KIND:value` (`AWS:arn:...`, `Service:apigateway.amazonaws.com`).
    pub principals: Vec<String>,
    pub not_principal: bool,
    pub actions: Vec<String>,
    pub not_action: bool,
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub condition: Option<Value>,
}

/// What a policy decides for one request, and the statement deciding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A Deny without condition applies.
    ExplicitDeny(usize),
    /// An Allow without condition applies and no Deny might.
    Allow(usize),
    /// No Allow applies, even conditionally: denied by default.
    ImplicitDeny,
    /// A condition decides: a conditional Deny that applies, or only a
    /// conditional Allow.
    Depends(usize),
}

impl Statement {
    /// Whether the statement names `principal` (`*` for an anonymous or
    /// unknown caller, else `KIND:value`).
    pub fn applies_to_principal(&self, principal: &str) -> bool {
        let named = self
            .principals
            .iter()
            .any(|p| p == "*" || p == "AWS:*" || (principal != "*" && glob_match(p, principal)));
        named != self.not_principal
    }

    pub fn applies_to_action(&self, action: &str) -> bool {
        covers_action(&self.actions, action) != self.not_action
    }

    /// `covered` says whether one resource pattern covers the request's
    /// resource (the caller expands shorthand such as `execute-api:/...`).
    pub fn applies_to_resource(&self, covered: &dyn Fn(&str) -> bool) -> bool {
        self.resources.iter().any(|r| covered(r)) != self.not_resource
    }
}

/// IAM's evaluation of one request against a resource policy: an explicit
/// Deny wins, then an Allow is needed, else the request is denied by default
/// (IAM User Guide, "Policy evaluation logic"). Conditions are not
/// evaluated: a statement with one may or may not apply, so it makes the
/// decision [`Decision::Depends`] wherever it could change it.
pub fn evaluate(
    stmts: &[Statement],
    action: &str,
    principal: &str,
    covered: &dyn Fn(&str) -> bool,
) -> Decision {
    let applies = |s: &Statement| {
        s.applies_to_principal(principal)
            && s.applies_to_action(action)
            && s.applies_to_resource(covered)
    };
    let hits: Vec<(usize, &Statement)> = stmts
        .iter()
        .enumerate()
        .filter(|(_, s)| applies(s))
        .collect();
    let of = |effect: &str, conditional: bool| {
        hits.iter()
            .find(|(_, s)| s.effect == effect && s.condition.is_some() == conditional)
            .map(|(i, _)| *i)
    };
    if let Some(i) = of("Deny", false) {
        return Decision::ExplicitDeny(i);
    }
    let (allow, maybe_allow) = (of("Allow", false), of("Allow", true));
    if allow.is_none() && maybe_allow.is_none() {
        return Decision::ImplicitDeny;
    }
    if let Some(i) = of("Deny", true) {
        return Decision::Depends(i);
    }
    match (allow, maybe_allow) {
        (Some(i), _) => Decision::Allow(i),
        (None, Some(i)) => Decision::Depends(i),
        (None, None) => Decision::ImplicitDeny,
    }
}

/// A condition block as a clause: `whose VPC endpoint is not vpce-1`.
pub fn describe_condition(cond: &Value) -> String {
    let Some(ops) = cond.as_object() else {
        return cond.to_string();
    };
    let mut parts = Vec::new();
    for (op, keys) in ops {
        let Some(keys) = keys.as_object() else {
            parts.push(format!("{op} {keys}"));
            continue;
        };
        for (key, values) in keys {
            let values = list(Some(values)).join(" or ");
            let what = match key.to_ascii_lowercase().as_str() {
                "aws:sourcevpce" => "VPC endpoint".to_string(),
                "aws:sourcevpc" => "VPC".to_string(),
                "aws:sourceip" => "source IP".to_string(),
                _ => key.clone(),
            };
            let negated = op.contains("Not");
            parts.push(format!(
                "whose {what} is {}{values} ({op})",
                if negated { "not " } else { "" }
            ));
        }
    }
    parts.join(" and ")
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn principals(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(m)) => m
            .iter()
            .flat_map(|(k, v)| list(Some(v)).into_iter().map(move |p| format!("{k}:{p}")))
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses a policy document, unescaping API Gateway's `\"` form if needed.
pub fn parse_policy(text: &str) -> Result<Vec<Statement>, String> {
    let doc: Value = serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&text.replace("\\\"", "\"").replace("\\\\", "\\")))
        .map_err(|e| format!("the policy is not valid JSON ({e})"))?;
    let stmts = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return Err("the policy has no Statement".to_string()),
    };
    Ok(stmts.iter().map(statement).collect())
}

/// One statement; an element and its `Not` form are one field and a flag.
fn statement(s: &Value) -> Statement {
    let either = |plain: &str, not: &str| match s.get(not) {
        Some(v) => (Some(v), true),
        None => (s.get(plain), false),
    };
    let (principal, not_principal) = either("Principal", "NotPrincipal");
    let (action, not_action) = either("Action", "NotAction");
    let (resource, not_resource) = either("Resource", "NotResource");
    Statement {
        sid: s.get("Sid").and_then(Value::as_str).map(str::to_string),
        effect: s
            .get("Effect")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        principals: principals(principal),
        not_principal,
        actions: list(action),
        not_action,
        resources: list(resource),
        not_resource,
        condition: s
            .get("Condition")
            .cloned()
            .filter(|c| c.as_object().is_some_and(|m| !m.is_empty())),
    }
}

/// IAM wildcard match: `*` any run of characters, `?` one; ASCII case
/// insensitive for actions is the caller's job.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether an action list covers `action` (`service:*`, `*`).
pub fn covers_action(actions: &[String], action: &str) -> bool {
    actions
        .iter()
        .any(|a| glob_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "arn:aws:execute-api:us-east-1:1:abc/*",
            "arn:aws:execute-api:us-east-1:1:abc/prod/GET/x"
        ));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("abc/*/GET", "abc/prod/POST"));
        assert!(glob_match("abc/*/GET/*", "abc/prod/GET/v1/orders"));
        assert!(covers_action(&["lambda:*".into()], "lambda:InvokeFunction"));
        assert!(!covers_action(
            &["lambda:GetFunction".into()],
            "lambda:InvokeFunction"
        ));
    }

    #[test]
    fn parses_escaped_policies_and_single_statements() {
        let escaped = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"execute-api:/*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}"#;
        let s = parse_policy(escaped).unwrap();
        assert_eq!(s[0].effect, "Deny");
        assert_eq!(s[0].principals, vec!["*"]);
        assert!(s[0].condition.is_some());
        let single = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:x"}}"#;
        let s = parse_policy(single).unwrap();
        assert_eq!(s[0].principals, vec!["Service:apigateway.amazonaws.com"]);
        assert!(parse_policy("nope").is_err());
    }
}
