//! The SDK plumbing every service module shares, written once: reading
//! every page of a token-paged listing, describing keys in batches, running
//! one call per key with a bound on calls in flight, and turning a failed
//! read into the snapshot's [`Fetched`].
//!
//! Each service pages its own way (API Gateway's `position`, API Gateway
//! v2's `next_token`, ELB's `marker`) and describes by a different filter,
//! but what happens around the call is the same, and a loop written once
//! cannot stop on a repeated token in one module and spin in another.

use std::collections::BTreeMap;
use std::future::Future;

use futures::StreamExt;

use apigw_audit_checks::model::{Failure, FailureKind, Fetched};
use apigw_audit_checks::resources::{Batch, Kind};

/// A read's result as the snapshot keeps it: AWS saying a resource does not
/// exist is a fact (`NotFound`), any other failure leaves it unknown.
pub fn fetched<T>(r: Result<T, Failure>) -> Fetched<T> {
    match r {
        Ok(v) => Fetched::Ok(v),
        Err(f) if f.kind == FailureKind::NotFound => Fetched::NotFound(f),
        Err(f) => Fetched::Error(f),
    }
}

/// Every item of a listing paged by an opaque token. `page` reads the page
/// after `token` (the first for `None`) and returns its items and the next
/// token. Paging stops at an empty or repeated token, so a service that
/// echoes the last token cannot make it loop.
pub async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, Failure>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Failure>>,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (items, next) = page(token.clone()).await?;
        out.extend(items);
        match next {
            Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// How many keys one describe of `kind` takes, from the resource table.
pub fn batch_size(kind: Kind) -> usize {
    match kind.def().batch {
        Batch::Many(n) => n.max(1),
        Batch::One | Batch::Listing => 1,
    }
}

/// Describes `keys` in chunks of `kind`'s batch size, one chunk after
/// another. `describe` answers a chunk key by key; a chunk whose call fails
/// records that failure for each of its keys, never an empty answer.
pub async fn in_batches<T, F, Fut>(
    kind: Kind,
    keys: &[String],
    describe: F,
) -> BTreeMap<String, Fetched<T>>
where
    T: Clone,
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<BTreeMap<String, Fetched<T>>, Failure>>,
{
    let mut out = BTreeMap::new();
    for chunk in keys.chunks(batch_size(kind)) {
        match describe(chunk.to_vec()).await {
            Ok(found) => out.extend(found),
            Err(f) => {
                for key in chunk {
                    out.insert(key.clone(), fetched(Err(f.clone())));
                }
            }
        }
    }
    out
}

/// The answer for each key of a chunk: the value found, or `NotFound` with
/// the sentence `missing` gives for it.
pub fn found_or_missing<T>(
    keys: &[String],
    mut found: BTreeMap<String, T>,
    missing: impl Fn(&str) -> Failure,
) -> BTreeMap<String, Fetched<T>> {
    keys.iter()
        .map(|k| {
            let v = match found.remove(k) {
                Some(v) => Fetched::Ok(v),
                None => Fetched::NotFound(missing(k)),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Runs `f` over `items` with at most `limit` calls in flight.
pub async fn each<I, K, T, F, Fut>(items: I, limit: usize, f: F) -> Vec<(K, T)>
where
    I: IntoIterator<Item = K>,
    K: Clone,
    F: Fn(K) -> Fut,
    Fut: Future<Output = T>,
{
    futures::stream::iter(items.into_iter().map(|k| {
        let fut = f(k.clone());
        async move { (k, fut.await) }
    }))
    .buffer_unordered(limit.max(1))
    .collect()
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind) -> Failure {
        Failure {
            operation: "ec2:DescribeSubnets".into(),
            iam_action: None,
            kind,
            code: None,
            message: String::new(),
        }
    }

    #[tokio::test]
    async fn paging_stops_on_an_empty_or_repeated_token() {
        let pages = |token: Option<String>| async move {
            Ok(match token.as_deref() {
                None => (vec![1], Some("a".to_string())),
                Some("a") => (vec![2], Some("b".to_string())),
                // A service echoing its last token must not loop forever.
                _ => (vec![3], token.clone()),
            })
        };
        assert_eq!(all_pages(pages).await, Ok(vec![1, 2, 3]));
        let empty = |_| async { Ok((vec![7], Some(String::new()))) };
        assert_eq!(all_pages(empty).await, Ok(vec![7]));
    }

    #[tokio::test]
    async fn a_failed_chunk_is_an_error_for_each_of_its_keys_and_not_for_the_others() {
        let keys: Vec<String> = (0..250).map(|i| format!("subnet-{i:03}")).collect();
        let got = in_batches(Kind::Subnet, &keys, |chunk: Vec<String>| async move {
            if chunk.len() == 200 {
                Ok(found_or_missing(
                    &chunk,
                    BTreeMap::from([(chunk[0].clone(), 1)]),
                    |_| failure(FailureKind::NotFound),
                ))
            } else {
                Err(failure(FailureKind::Throttled))
            }
        })
        .await;
        assert_eq!(got.len(), 250);
        assert_eq!(got["subnet-000"], Fetched::Ok(1));
        assert!(matches!(got["subnet-001"], Fetched::NotFound(_)));
        assert!(matches!(got["subnet-249"], Fetched::Error(_)));
    }
}
