//! Whether a Lambda function's resource-based policy lets API Gateway
//! invoke it for one caller: a statement allowing (or denying)
//! `apigateway.amazonaws.com` the action `lambda:InvokeFunction` whose
//! `aws:SourceArn` / `aws:SourceAccount` conditions cover the caller's
//! source ARN (`arn:PARTITION:execute-api:REGION:ACCOUNT:API/TAIL`, the
//! format of the Developer Guide's "execute-api ARN format reference").
//! Lambda authorizers and Lambda integrations share it.

use serde_json::Value;

use crate::policy::{Statement, glob_match};

/// What the statements granting or denying API Gateway lambda:InvokeFunction
/// say about this caller (the last statement of each kind is named).
pub struct Scan {
    pub allow: Option<String>,
    pub unsure: Option<(String, String)>,
    pub deny: Option<String>,
    pub needs_account: Option<String>,
    /// A Deny whose condition may cover the caller: it keeps an Allow
    /// from passing.
    pub maybe_deny: Option<(String, String)>,
}

pub fn scan(stmts: &[Statement], caller: &Caller) -> Scan {
    let (mut allow, mut unsure, mut deny) = (None, None, None);
    let mut needs_account: Option<String> = None;
    let mut maybe_deny = None;
    for st in stmts {
        let applies = st.applies_to_principal("Service:apigateway.amazonaws.com")
            && st.applies_to_action("lambda:InvokeFunction");
        if !applies {
            continue;
        }
        let label = st.sid.clone().unwrap_or_else(|| "(no Sid)".to_string());
        match (
            st.effect.as_str(),
            condition_covers(st.condition.as_ref(), caller),
        ) {
            ("Deny", Cover::Yes) => deny = Some(label),
            ("Allow", Cover::Yes) => allow = Some(label),
            ("Allow", Cover::NeedsAccount) => {
                needs_account = Some(label.clone());
                unsure = Some((
                    label,
                    "it depends on the account, which is unknown".to_string(),
                ));
            }
            ("Allow", Cover::Unsure(why)) => unsure = Some((label, why)),
            ("Deny", Cover::Unsure(why)) => maybe_deny = Some((label, why)),
            ("Deny", Cover::NeedsAccount) => {
                maybe_deny = Some((
                    label,
                    "it depends on the account, which is unknown".to_string(),
                ))
            }
            _ => {}
        }
    }
    Scan {
        allow,
        unsure,
        deny,
        needs_account,
        maybe_deny,
    }
}

/// Who calls the function: API Gateway on behalf of one API, for one
/// authorizer (`authorizers/ID`) or one route (`STAGE/METHOD/PATH`).
pub struct Caller<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    /// `None` when the snapshot does not know its account
    /// (`sts:GetCallerIdentity` failed).
    pub account: Option<&'a str>,
    pub api: &'a str,
    /// What follows the API id in the source ARN.
    pub tail: String,
}

impl Caller<'_> {
    /// The `aws:SourceArn` API Gateway's invocation carries.
    pub fn source_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:execute-api:{}:{account}:{}/{}",
            self.partition, self.region, self.api, self.tail
        )
    }

    /// Whether an ARN pattern covers this caller; `None` when that depends
    /// on an account the snapshot does not know.
    fn arn_matches(&self, pattern: &str) -> Option<bool> {
        match self.account {
            Some(acct) => Some(glob_match(pattern, &self.source_arn(acct))),
            None => {
                let acct = pattern.split(':').nth(4)?;
                if acct.chars().all(|c| c == '*') {
                    Some(glob_match(pattern, &self.source_arn(acct)))
                } else {
                    None
                }
            }
        }
    }
}

/// Whether a statement's condition lets the caller through.
#[derive(Debug, PartialEq)]
enum Cover {
    Yes,
    No,
    /// Depends on something this check does not evaluate; the text says what.
    Unsure(String),
    /// Depends on the account, which the snapshot does not hold.
    NeedsAccount,
}

/// Evaluates a statement's condition for API Gateway calling on behalf of
/// `caller`: `aws:SourceArn` and `aws:SourceAccount` under the string and
/// ARN operators (and their `Not` and `IfExists` forms, both keys being
/// present on such calls). Any other key or operator is `Unsure`, never
/// assumed to pass.
fn condition_covers(condition: Option<&Value>, caller: &Caller) -> Cover {
    let Some(Value::Object(ops)) = condition else {
        return Cover::Yes;
    };
    for (op, kv) in ops {
        let Value::Object(kv) = kv else {
            return Cover::Unsure(format!("condition operator {op} has no keys"));
        };
        let base = op.strip_suffix("IfExists").unwrap_or(op);
        let (negated, base) = match base
            .strip_prefix("ArnNot")
            .or_else(|| base.strip_prefix("StringNot"))
        {
            Some(rest) => (true, rest),
            None => (
                false,
                base.trim_start_matches("Arn").trim_start_matches("String"),
            ),
        };
        let wildcard = match base {
            "Like" => true,
            "Equals" => false,
            _ => return Cover::Unsure(format!("condition operator {op} is not evaluated")),
        };
        for (key, val) in kv {
            let vals: Vec<&str> = match val {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let hit = if key.eq_ignore_ascii_case("aws:SourceArn") {
                let mut any = Some(false);
                for v in &vals {
                    let m = if wildcard {
                        caller.arn_matches(v)
                    } else {
                        caller.account.map(|a| *v == caller.source_arn(a))
                    };
                    match m {
                        Some(true) => {
                            any = Some(true);
                            break;
                        }
                        Some(false) => {}
                        None => any = None,
                    }
                }
                any
            } else if key.eq_ignore_ascii_case("aws:SourceAccount") {
                caller.account.map(|a| {
                    vals.iter()
                        .any(|v| if wildcard { glob_match(v, a) } else { *v == a })
                })
            } else {
                return Cover::Unsure(format!("condition key {key} is not evaluated"));
            };
            match hit {
                None => return Cover::NeedsAccount,
                Some(h) if h == negated => return Cover::No,
                Some(_) => {}
            }
        }
    }
    Cover::Yes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller(account: Option<&'static str>) -> Caller<'static> {
        Caller {
            partition: "aws",
            region: "us-east-1",
            account,
            api: "abc",
            tail: "authorizers/x1".to_string(),
        }
    }

    #[test]
    fn conditions() {
        let c = caller(Some("123"));
        let cover = |v: Value| condition_covers(Some(&v), &c);
        assert_eq!(condition_covers(None, &c), Cover::Yes);
        assert_eq!(
            cover(json!({"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123:abc/*"}})),
            Cover::Yes
        );
        assert_eq!(
            cover(
                json!({"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123:other/*"}})
            ),
            Cover::No
        );
        assert_eq!(
            cover(
                json!({"ArnEquals": {"aws:SourceArn": "arn:aws:execute-api:us-east-1:123:abc/authorizers/x1"}})
            ),
            Cover::Yes
        );
        assert_eq!(
            cover(
                json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:execute-api:us-east-1:123:abc/*"}})
            ),
            Cover::No
        );
        assert_eq!(
            cover(json!({"StringEquals": {"AWS:SourceAccount": "123"}})),
            Cover::Yes
        );
        assert_eq!(
            cover(json!({"StringEquals": {"AWS:SourceAccount": "999"}})),
            Cover::No
        );
        assert_eq!(
            cover(
                json!({"StringEquals": {"AWS:SourceAccount": "123"}, "ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:*:123:abc/authorizers/*"}})
            ),
            Cover::Yes
        );
        assert!(matches!(
            cover(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
            Cover::Unsure(_)
        ));
        assert!(matches!(
            cover(json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}})),
            Cover::Unsure(_)
        ));
        // Without the account, a pattern that pins one cannot be judged...
        let u = caller(None);
        assert!(matches!(
            condition_covers(
                Some(
                    &json!({"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123:abc/*"}})
                ),
                &u
            ),
            Cover::NeedsAccount
        ));
        // ...but one with a wildcard account can.
        assert_eq!(
            condition_covers(
                Some(
                    &json!({"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:*:abc/*"}})
                ),
                &u
            ),
            Cover::Yes
        );
    }
}
