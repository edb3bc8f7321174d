//! IAM policy documents as the API Gateway resource policy and Lambda's
//! resource-based policy write them: parsing (API Gateway returns the
//! document as an escaped string), and the `*`/`?` wildcards of ARNs and
//! actions.

use serde_json::Value;

/// One statement, its list fields normalised to lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: String,
    /// `*`, or `KIND:value` (`AWS:arn:...`, `Service:apigateway.amazonaws.com`).
    pub principals: Vec<String>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub condition: Option<Value>,
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
    Ok(stmts
        .iter()
        .map(|s| Statement {
            sid: s.get("Sid").and_then(Value::as_str).map(str::to_string),
            effect: s
                .get("Effect")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            principals: principals(s.get("Principal")),
            actions: list(s.get("Action")),
            resources: list(s.get("Resource")),
            condition: s
                .get("Condition")
                .cloned()
                .filter(|c| c.as_object().is_some_and(|m| !m.is_empty())),
        })
        .collect())
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
