//! AWS Lambda reads for authorizers and Lambda integrations: whether the
//! function exists, its state and timeout (`GetFunctionConfiguration`), its
//! reserved concurrency (`GetFunctionConcurrency`) and its resource-based
//! policy (`GetPolicy`, which answers "not found" both for a missing
//! function and for a function without a policy, hence separate calls).

use aws_sdk_lambda::Client;
use futures::future::join3;

use apigw_audit_checks::model::{FailureKind, Fetched, LambdaFunction};

use super::error::{Op, classify};
use super::plumbing::fetched;

pub async fn function(c: &Client, arn: &str) -> Fetched<LambdaFunction> {
    let fop = Op::named("lambda:GetFunctionConfiguration");
    let pop = Op::named("lambda:GetPolicy");
    let cop = Op::named("lambda:GetFunctionConcurrency");
    let (conf, policy, concurrency) = join3(
        c.get_function_configuration().function_name(arn).send(),
        c.get_policy().function_name(arn).send(),
        c.get_function_concurrency().function_name(arn).send(),
    )
    .await;
    let conf = match conf {
        Ok(conf) => conf,
        Err(e) => return fetched(Err(classify(&fop, &e))),
    };
    let policy = match policy {
        Ok(p) => p.policy().map(str::to_string),
        Err(e) => {
            let f = classify(&pop, &e);
            if f.kind != FailureKind::NotFound {
                return Fetched::Error(f);
            }
            None
        }
    };
    let reserved_concurrency = match concurrency {
        Ok(c) => c.reserved_concurrent_executions(),
        Err(e) => return Fetched::Error(classify(&cop, &e)),
    };
    Fetched::Ok(LambdaFunction {
        arn: arn.to_string(),
        policy,
        state: conf.state().map(|s| s.as_str().to_string()),
        state_reason: conf.state_reason().map(str::to_string),
        timeout_seconds: conf.timeout(),
        reserved_concurrency,
    })
}
