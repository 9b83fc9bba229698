//! The wire under Stepwise's clients: one AWS JSON 1.0 call over HTTP/1.1
//! (`POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>`), signed with
//! AWS Signature Version 4 for the service `states` when credentials are
//! given; or one REST-JSON call of the EventBridge Scheduler API, signed for
//! `scheduler`. `stepwise-sdk`'s client and the `stepwise` CLI share it; it knows no
//! operation, so the server side never depends on a client's model.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// A response body a client reads at most (a workflow task's history included).
pub const RESPONSE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// How long one call may take: a long poll is 60 s.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(75);
/// The service name Step Functions' signatures are scoped to.
pub const SIGNING_SERVICE: &str = "states";
/// The service name the Scheduler API's signatures are scoped to.
pub const SCHEDULER_SIGNING_SERVICE: &str = "scheduler";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The API answered with an AWS error: its type (`__type`) and message.
    #[error("{kind}: {message}")]
    Service { kind: String, message: String },
    /// The call did not get an answer: connection, timeout, or a body that is not JSON.
    #[error("transport: {0}")]
    Transport(String),
}

/// Who signs, and for which region.
#[derive(Clone)]
pub struct Signer {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// A connection pool to one API endpoint.
#[derive(Clone)]
pub struct Wire {
    endpoint: String,
    http: HttpClient<HttpConnector, Full<Bytes>>,
    signer: Option<Signer>,
}

impl Wire {
    /// Unsigned calls to `endpoint` (`http://127.0.0.1:8083`).
    pub fn new(endpoint: &str) -> Wire {
        // Small requests on kept-alive connections: without TCP_NODELAY, Nagle's
        // algorithm can hold a request's last segment for the peer's delayed ACK.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = HttpClient::builder(TokioExecutor::new()).build(connector);
        Wire { endpoint: endpoint.trim_end_matches('/').to_string(), http, signer: None }
    }

    /// Every call signed by `signer`.
    pub fn signed(mut self, signer: Signer) -> Wire {
        self.signer = Some(signer);
        self
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls `operation`; an AWS-typed error becomes [`Error::Service`]. A
    /// pooled connection the server closed (it restarted) is tried once more.
    pub async fn call(&self, operation: &str, body: &Value) -> Result<Value, Error> {
        match self.call_once(operation, body).await {
            Err(Error::Transport(_)) => self.call_once(operation, body).await,
            other => other,
        }
    }

    async fn call_once(&self, operation: &str, body: &Value) -> Result<Value, Error> {
        let target = format!("AWSStepFunctions.{operation}");
        let headers = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", target.as_str())];
        self.send("POST", "/", &headers, Bytes::from(body.to_string()), SIGNING_SERVICE, operation).await
    }

    /// A Scheduler API call: `method` on `path_and_query` (already escaped),
    /// with a JSON body for POST and PUT.
    pub async fn rest(&self, method: &str, path_and_query: &str, body: Option<&Value>) -> Result<Value, Error> {
        let bytes = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let headers: &[(&str, &str)] = if body.is_some() { &[("content-type", "application/json")] } else { &[] };
        self.send(method, path_and_query, headers, bytes, SCHEDULER_SIGNING_SERVICE, path_and_query).await
    }

    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        bytes: Bytes,
        service: &str,
        operation: &str,
    ) -> Result<Value, Error> {
        let transport = |e: &dyn std::fmt::Display| Error::Transport(e.to_string());
        let uri: hyper::Uri = format!("{}{path_and_query}", self.endpoint).parse().map_err(|e| transport(&e))?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let mut builder = hyper::Request::builder().method(method).uri(uri).header("host", host);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let mut request = builder.body(Full::new(bytes.clone())).map_err(|e| transport(&e))?;
        self.sign(&mut request, &bytes, service)?;
        let response = tokio::time::timeout(CALL_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| Error::Transport(format!("{operation} took longer than {CALL_TIMEOUT:?}")))?
            .map_err(|e| transport(&e))?;
        let status = response.status();
        let limited = http_body_util::Limited::new(response.into_body(), RESPONSE_BYTES_MAX);
        let bytes = limited.collect().await.map_err(|e| transport(&e))?.to_bytes();
        let v: Value = if bytes.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&bytes).map_err(|e| Error::Transport(format!("{operation}: {e}")))?
        };
        if !status.is_success() {
            let kind = v["__type"].as_str().unwrap_or("UnknownError");
            let kind = kind.rsplit('#').next().unwrap_or(kind).to_string();
            let message = v["message"].as_str().or(v["Message"].as_str()).unwrap_or_default().to_string();
            return Err(Error::Service { kind, message });
        }
        Ok(v)
    }

    /// Adds the request's SigV4 signature headers.
    fn sign(&self, request: &mut hyper::Request<Full<Bytes>>, body: &[u8], service: &str) -> Result<(), Error> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let Some(s) = &self.signer else { return Ok(()) };
        let signing = |e: &dyn std::fmt::Display| Error::Transport(format!("signing: {e}"));
        let credentials = aws_credential_types::Credentials::new(
            &s.access_key_id,
            &s.secret_access_key,
            s.session_token.clone(),
            None,
            "stepwise",
        );
        let identity = credentials.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&s.region)
            .name(service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(&e))?
            .into();
        let headers: Vec<(&str, &str)> =
            request.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect();
        let uri = request.uri().to_string();
        let method = request.method().as_str().to_string();
        let signable = SignableRequest::new(&method, &uri, headers.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| signing(&e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| signing(&e))?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}
