//! Pagination tokens only this deployment issues: the sort key to resume
//! after, with an HMAC-SHA256 over the operation, the request's other fields
//! and that key. A token that was never issued, or was issued for another
//! operation or other filters, is `InvalidToken`, as on AWS. The MAC key is
//! made once and kept in the store, so every server process and Lambda of a
//! deployment accepts the others' tokens, across restarts.

use crate::AwsError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;

use super::shapes::{Paged, bounded};
use crate::Error;
use crate::engine::Engine;

/// AWS's bound on `nextToken`.
pub const TOKEN_CHARS_MAX: usize = 1024;
/// Bytes of the MAC a token carries (of SHA-256's 32): forgery odds 2^-128.
const MAC_BYTES: usize = 16;
/// Fields that may change from page to page without a new token: they shape
/// a page, not which items come after the token.
/// (The Scheduler API's REST-JSON members are PascalCase.)
const UNBOUND_FIELDS: [&str; 5] = ["nextToken", "maxResults", "includeExecutionData", "NextToken", "MaxResults"];

fn invalid(t: &str) -> Error {
    Error::api(AwsError::InvalidToken, format!("Invalid Token: '{t}'"))
}

/// What a token is bound to: the operation and every other field of the
/// typed request (so members the shape does not know bind nothing), canonically.
fn binding(operation: &str, r: &impl Paged) -> Vec<u8> {
    let Value::Object(request) = serde_json::to_value(r).expect("a request shape serializes") else {
        unreachable!("request shapes are structs")
    };
    let fields: std::collections::BTreeMap<&String, &Value> =
        request.iter().filter(|(k, v)| !UNBOUND_FIELDS.contains(&k.as_str()) && !v.is_null()).collect();
    let mut out = operation.as_bytes().to_vec();
    out.push(0);
    out.extend(serde_json::to_vec(&fields).expect("a map of JSON values serializes"));
    out.push(0);
    out
}

fn mac(key: &[u8; 32], operation: &str, r: &impl Paged, sk: &str) -> Vec<u8> {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(&binding(operation, r));
    m.update(sk.as_bytes());
    m.finalize().into_bytes()[..MAC_BYTES].to_vec()
}

/// The token to resume `operation` after `sk`.
pub(crate) async fn encode_token(engine: &Engine, r: &impl Paged, operation: &str, sk: &str) -> Result<String, Error> {
    let key = engine.paging_key().await?;
    let token = format!("{}.{}", URL_SAFE_NO_PAD.encode(sk), URL_SAFE_NO_PAD.encode(mac(&key, operation, r, sk)));
    if token.len() > TOKEN_CHARS_MAX {
        return Err(Error::Store(format!("a pagination token of {} characters is over AWS's bound", token.len())));
    }
    Ok(token)
}

/// The sort key a request's `nextToken` resumes after, if it has one.
pub(crate) async fn decode_token(engine: &Engine, r: &impl Paged, operation: &str) -> Result<Option<String>, Error> {
    let Some(t) = bounded("nextToken", r.next_token(), TOKEN_CHARS_MAX)? else { return Ok(None) };
    let (sk, tag) = t.split_once('.').ok_or_else(|| invalid(t))?;
    let sk = URL_SAFE_NO_PAD.decode(sk).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| invalid(t))?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid(t))?;
    let key = engine.paging_key().await?;
    // Compared in constant time: the MAC type's own check.
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    m.update(&binding(operation, r));
    m.update(sk.as_bytes());
    m.verify_truncated_left(&tag).map_err(|_| invalid(t))?;
    if tag.len() != MAC_BYTES {
        return Err(invalid(t));
    }
    Ok(Some(sk))
}

/// Index pages one filtered listing reads at most, so a filter that matches
/// little cannot keep a request reading forever (the token resumes it).
const FILTERED_PAGES_MAX: usize = 20;

/// A listing filtered as it reads: index items after `q.after`, decoded and
/// kept (or not) by `keep`, until `q.limit` are kept or the pages run out.
/// Gives the kept items and the sort key the next page resumes after.
pub(crate) async fn filtered<T>(
    engine: &Engine,
    mut q: crate::store::Query,
    mut keep: impl FnMut(&crate::store::Item) -> Result<Option<T>, Error>,
) -> Result<(Vec<T>, Option<String>), Error> {
    let limit = q.limit;
    let mut items = Vec::new();
    let mut next = None;
    for _ in 0..FILTERED_PAGES_MAX {
        let page = engine.read_page(q.clone()).await?;
        for it in &page.items {
            if let Some(v) = keep(it)? {
                items.push(v);
            }
            if items.len() == limit {
                return Ok((items, Some(it.sk.clone())));
            }
        }
        match page.last {
            Some(l) => {
                q.after = Some(l.clone());
                next = Some(l);
            }
            None => return Ok((items, None)),
        }
    }
    Ok((items, next))
}
