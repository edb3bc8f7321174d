//! AWS Lambda reads for authorizers: whether the function exists
//! (`GetFunctionConfiguration`) and its resource-based policy (`GetPolicy`,
//! which answers "not found" both for a missing function and for a function
//! without a policy, hence the two calls).

use aws_sdk_lambda::Client;
use futures::future::join;

use apigw_audit_checks::model::{FailureKind, Fetched, LambdaFunction};

use super::error::{Op, classify};
use super::plumbing::fetched;

pub async fn function(c: &Client, arn: &str) -> Fetched<LambdaFunction> {
    let fop = Op::named("lambda:GetFunctionConfiguration");
    let pop = Op::named("lambda:GetPolicy");
    let (conf, policy) = join(
        c.get_function_configuration().function_name(arn).send(),
        c.get_policy().function_name(arn).send(),
    )
    .await;
    if let Err(e) = conf {
        let f = classify(&fop, &e);
        return fetched(Err(f));
    }
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
    Fetched::Ok(LambdaFunction {
        arn: arn.to_string(),
        policy,
    })
}
