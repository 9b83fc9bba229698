//! Who may call the API: nobody is asked (`none`, the default for a laptop),
//! or every request must carry an AWS Signature Version 4 made with one of a
//! few configured key pairs (`sigv4`).
//!
//! Why configured keys and not IAM: only AWS knows the secrets of IAM users
//! and roles, so no server but AWS's can check a signature made with them.
//! Behind a Lambda function URL with `AWS_IAM` auth, AWS checks the caller's
//! IAM identity itself (and this module is off); with `sigv4` the URL is
//! opened and Stepwise checks signatures made with its own keys, for the
//! service name the SDKs use for Step Functions (`states`).
//!
//! Canonicalisation and the signature itself are scratchstack-aws-signature's,
//! which is tested against AWS's SigV4 test suite.

// A signature's age is checked against the real clock, as AWS checks it.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

use scratchstack_aws_signature::{
    GetSigningKeyRequest, GetSigningKeyResponse, KSecretKey, NO_ADDITIONAL_SIGNED_HEADERS, SignatureError,
    SignatureOptions, service_for_signing_key_fn, sigv4_validate_request,
};

use crate::{AwsError, Error};

/// The service name in a SigV4 credential scope for Step Functions.
pub const SIGNING_SERVICE: &str = "states";
/// Key pairs one deployment accepts at once: enough to rotate keys and give
/// a few callers their own.
pub const CREDENTIALS_COUNT_MAX: usize = 16;
/// AWS secret access keys are 40 characters; the verifier accepts no other length.
pub const SECRET_CHARS: usize = 40;
/// Access key ids: AWS's own bounds.
const ACCESS_KEY_CHARS_MIN: usize = 16;
const ACCESS_KEY_CHARS_MAX: usize = 128;

/// How requests are authenticated.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    SigV4(Arc<Keys>),
}

/// The accepted key pairs and the region signatures must be scoped to.
pub struct Keys {
    pairs: Vec<(String, String)>,
    region: String,
}

impl std::fmt::Debug for Auth {
    // Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            Auth::SigV4(k) => write!(f, "sigv4 ({} keys, region {})", k.pairs.len(), k.region),
        }
    }
}

impl Auth {
    /// `mode` is `none` or `sigv4`; `credentials` is `AKID:SECRET[,AKID:SECRET…]`
    /// (`STEPWISE_CREDENTIALS`), required for `sigv4`.
    pub fn parse(mode: &str, credentials: Option<&str>, region: &str) -> Result<Auth, Error> {
        match mode {
            "none" => Ok(Auth::None),
            "sigv4" => {
                let raw = credentials.filter(|c| !c.trim().is_empty()).ok_or_else(|| {
                    Error::Config("--auth sigv4 needs STEPWISE_CREDENTIALS=AKID:SECRET[,AKID:SECRET...]".into())
                })?;
                let pairs = raw.split(',').map(|p| parse_pair(p.trim())).collect::<Result<Vec<_>, _>>()?;
                if pairs.len() > CREDENTIALS_COUNT_MAX {
                    return Err(Error::Config(format!(
                        "STEPWISE_CREDENTIALS holds {} key pairs; at most {CREDENTIALS_COUNT_MAX} are accepted",
                        pairs.len()
                    )));
                }
                Ok(Auth::SigV4(Arc::new(Keys { pairs, region: region.to_string() })))
            }
            other => Err(Error::Config(format!("unknown auth mode '{other}': use none or sigv4"))),
        }
    }

    /// Checks one request; on refusal, gives AWS's error type and message.
    /// `service` is the signing name the request must be signed for:
    /// [`SIGNING_SERVICE`], or the Scheduler API's `scheduler`.
    pub async fn check(&self, request: http::Request<Vec<u8>>, service: &str) -> Result<(), (AwsError, String)> {
        let Auth::SigV4(keys) = self else { return Ok(()) };
        check_signed_headers(&request, service == SIGNING_SERVICE)?;
        let request = double_encoded_path(request);
        let keys = keys.clone();
        // Bound first: passed straight to the function, whose bound says FnOnce,
        // the closure would be inferred FnOnce, and a tower Service needs FnMut.
        let find = move |req: GetSigningKeyRequest| {
            let keys = keys.clone();
            async move {
                let secret = keys.pairs.iter().find(|(id, _)| id == req.access_key()).map(|(_, s)| s.as_str());
                let secret = secret.ok_or_else(|| {
                    let m = "The security token included in the request is invalid.";
                    SignatureError::InvalidClientTokenId(m.into())
                })?;
                // The length was checked when the keys were parsed.
                let key: KSecretKey = secret.parse().map_err(|e| SignatureError::InternalServiceError(Box::new(e)))?;
                let signing = key.to_ksigning(req.request_date(), req.region(), req.service());
                Ok(GetSigningKeyResponse::builder().signing_key(signing).build()?)
            }
        };
        let mut lookup = service_for_signing_key_fn(find);
        let region = self.region().to_string();
        let now: chrono::DateTime<chrono::Utc> = std::time::SystemTime::now().into();
        sigv4_validate_request(
            request,
            &region,
            service,
            &mut lookup,
            now,
            &NO_ADDITIONAL_SIGNED_HEADERS,
            SignatureOptions::default(),
        )
        .await
        .map(|_| ())
        .map_err(|e| match e.downcast_ref::<SignatureError>() {
            Some(s) => refusal(s),
            None => (AwsError::IncompleteSignatureException, e.to_string()),
        })
    }

    fn region(&self) -> &str {
        match self {
            Auth::None => "",
            Auth::SigV4(k) => &k.region,
        }
    }
}

/// Headers every signature must cover: the ones that say what the request
/// does. Without `x-amz-target` in the signature, a captured request could be
/// replayed as another operation (a Describe sent again as a Delete).
pub const HEADERS_SIGNED_ALWAYS: [&str; 3] = ["host", "x-amz-date", "x-amz-target"];

/// Refuses a signature that leaves out a header the request's meaning rests
/// on: those above, and `content-type` when the request has one.
/// AWS's signers encode a REST path's segments twice for every service but
/// S3 (`:` in a tag's ARN is `%3A` on the wire and `%253A` in the canonical
/// request); the verifier normalizes the path as it arrives, so its `%`s are
/// escaped once more first. A path with no `%` (every Step Functions
/// request is `/`) is unchanged.
fn double_encoded_path(request: http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    if !request.uri().path().contains('%') {
        return request;
    }
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().replace('%', "%25");
    let path_and_query = match parts.uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut uri = http::uri::Parts::from(parts.uri.clone());
    if let Ok(pq) = path_and_query.parse() {
        uri.path_and_query = Some(pq);
        if let Ok(u) = http::Uri::from_parts(uri) {
            parts.uri = u;
        }
    }
    http::Request::from_parts(parts, body)
}

fn check_signed_headers<B>(request: &http::Request<B>, targeted: bool) -> Result<(), (AwsError, String)> {
    let headers = request.headers();
    let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(()); // the verifier refuses a missing signature with AWS's own words
    };
    let signed: Vec<String> = auth
        .split(',')
        .filter_map(|part| part.trim().split_once("SignedHeaders=").map(|(_, list)| list.trim().to_string()))
        .flat_map(|list| list.split(';').map(str::to_ascii_lowercase).collect::<Vec<_>>())
        .collect();
    let content_type = headers.contains_key(http::header::CONTENT_TYPE).then_some("content-type");
    // A REST request (the Scheduler API) has no target header: its path is signed instead.
    let always = HEADERS_SIGNED_ALWAYS.iter().copied().filter(|h| targeted || *h != "x-amz-target");
    let missing: Vec<&str> = always.chain(content_type).filter(|h| !signed.iter().any(|s| s == h)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err((
        AwsError::IncompleteSignatureException,
        format!("The request signature does not cover the header(s) {}: sign them too", missing.join(", ")),
    ))
}

/// The JSON protocol's names for SigV4 failures, as Step Functions answers them.
fn refusal(e: &SignatureError) -> (AwsError, String) {
    let message = match e {
        SignatureError::SignatureDoesNotMatch(None) => "The request signature we calculated does not match the \
            signature you provided. Check your AWS Secret Access Key and signing method."
            .to_string(),
        other => other.to_string(),
    };
    let kind = match e {
        SignatureError::MissingAuthenticationToken(_) => AwsError::MissingAuthenticationTokenException,
        SignatureError::InvalidClientTokenId(_) => AwsError::UnrecognizedClientException,
        SignatureError::SignatureDoesNotMatch(_) => AwsError::InvalidSignatureException,
        SignatureError::ExpiredToken(_) => AwsError::ExpiredTokenException,
        _ => AwsError::IncompleteSignatureException,
    };
    (kind, message)
}

fn parse_pair(pair: &str) -> Result<(String, String), Error> {
    let (id, secret) =
        pair.split_once(':').ok_or_else(|| Error::Config("a STEPWISE_CREDENTIALS entry is not AKID:SECRET".into()))?;
    let id_ok = (ACCESS_KEY_CHARS_MIN..=ACCESS_KEY_CHARS_MAX).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !id_ok {
        return Err(Error::Config(format!(
            "access key id '{id}' must be {ACCESS_KEY_CHARS_MIN} to {ACCESS_KEY_CHARS_MAX} letters and digits"
        )));
    }
    if secret.len() != SECRET_CHARS || !secret.is_ascii() {
        return Err(Error::Config(format!(
            "the secret of {id} is {} characters; SigV4 secrets are {SECRET_CHARS} ASCII characters, as AWS issues them",
            secret.len()
        )));
    }
    Ok((id.to_string(), secret.to_string()))
}
