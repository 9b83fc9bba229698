//! AWS JSON 1.0 over HTTP: `POST /` with `X-Amz-Target:
//! AWSStepFunctions.<Operation>`. Any host name is accepted, so the SDKs'
//! `sync-` host prefix (StartSyncExecution, TestState) reaches us too.

// Request timings for metrics and request ids are the host's, not engine time.
#![allow(clippy::disallowed_methods)]

use crate::AwsError;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Error;
use crate::engine::Engine;

/// The largest request body read: a 1 MB definition escaped inside JSON, with room.
pub const REQUEST_BYTES_MAX: usize = 4 * 1024 * 1024;
const TARGET_PREFIX: &str = "AWSStepFunctions.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// The Scheduler API's (REST-JSON) content type.
const REST_CONTENT_TYPE: &str = "application/json";

/// Body bytes buffered at once across all requests: with `REQUEST_BYTES_MAX`
/// each, 16 whole bodies. A request that finds no room is refused with
/// `ThrottlingException` before its body is read.
pub const BODY_BYTES_IN_FLIGHT_MAX: usize = 64 * 1024 * 1024;
/// The budget's unit: semaphore permits are KiB.
const BODY_BUDGET_UNIT_BYTES: usize = 1024;

/// What the router's handler shares: the engine, the body budget and timeout.
#[derive(Clone)]
struct App {
    engine: Arc<Engine>,
    body_budget: Arc<tokio::sync::Semaphore>,
    body_timeout: std::time::Duration,
    body_bytes_max: usize,
}

pub fn router(engine: Arc<Engine>, limits: &crate::listener::Limits) -> Router {
    let permits = BODY_BYTES_IN_FLIGHT_MAX / BODY_BUDGET_UNIT_BYTES;
    let app = App {
        engine,
        body_budget: Arc::new(tokio::sync::Semaphore::new(permits)),
        body_timeout: limits.body_timeout,
        body_bytes_max: limits.body_bytes_max.min(REQUEST_BYTES_MAX),
    };
    Router::new().fallback(handle).with_state(app)
}

/// A transport-neutral response: status, `__type` (for errors) and body.
pub struct Reply {
    pub status: u16,
    pub error_type: Option<String>,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Headers beyond the type: the console's security policy.
    pub headers: &'static [(&'static str, &'static str)],
}

/// A request that cannot be read at all.
pub fn bad_request(why: &str) -> Reply {
    error_reply(AwsError::SerializationException, why)
}

fn error_reply(kind: AwsError, message: &str) -> Reply {
    let status = kind.http_status();
    // `message` for AWS JSON 1.0, `Message` for REST-JSON (EventBridge Scheduler).
    let body = json!({"__type": kind.name(), "message": message, "Message": message}).to_string().into_bytes();
    Reply { status, error_type: Some(kind.name().to_string()), body, content_type: CONTENT_TYPE, headers: &[] }
}

/// Maps an error to AWS's status and type; internal detail stays in the log.
pub fn reply_for(e: &Error) -> Reply {
    match e {
        Error::Api { kind, message } => error_reply(*kind, message),
        Error::Limit(m) => error_reply(AwsError::ValidationException, m),
        other => {
            tracing::error!(error = %other, "internal failure");
            error_reply(AwsError::InternalFailure, "The request processing has failed because of an internal error")
        }
    }
}

/// Serves one request: the target header's value and the raw body.
pub async fn serve_request(engine: Arc<Engine>, target: Option<&str>, body: &[u8], traceparent: Option<&str>) -> Reply {
    let Some(op) = target.and_then(|t| t.strip_prefix(TARGET_PREFIX)) else {
        return error_reply(AwsError::UnknownOperationException, "Missing or unknown X-Amz-Target header");
    };
    if body.len() > REQUEST_BYTES_MAX {
        return error_reply(AwsError::RequestEntityTooLargeException, "The request body is too large");
    }
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return error_reply(AwsError::SerializationException, &format!("The request is not valid JSON: {e}"));
            }
        }
    };
    let mut request = request;
    // A W3C `traceparent` header starts the execution's trace under the
    // caller's span, as AWS takes the X-Ray header (the field wins when both are given).
    if let (Some(tp), Some(fields)) = (traceparent, request.as_object_mut())
        && matches!(op, "StartExecution" | "StartSyncExecution")
        && !fields.contains_key("traceHeader")
    {
        fields.insert("traceHeader".into(), json!(tp));
    }
    let op = op.to_string();
    // A panic in one request must not take the server down or leave the client without an answer.
    let run = tokio::spawn(
        crate::engine::compute::FROM_REQUEST.scope((), async move { crate::api::call(&engine, &op, request).await }),
    );
    match run.await {
        Ok(Ok(v)) => {
            let body = v.to_string().into_bytes();
            Reply { status: 200, error_type: None, body, content_type: CONTENT_TYPE, headers: &[] }
        }
        Ok(Err(e)) => reply_for(&e),
        Err(_) => {
            error_reply(AwsError::InternalFailure, "The request processing has failed because of an internal error")
        }
    }
}

/// Serves one whole HTTP request: its signature first (when the engine asks
/// for one), then the operation its target header names.
pub async fn serve_http(engine: Arc<Engine>, request: axum::http::Request<Vec<u8>>) -> Reply {
    if request.method() == axum::http::Method::GET
        && let Some(reply) = match super::console::get(request.uri().path()) {
            Some(page) => Some(page),
            None => super::probes::get(&engine, request.uri().path()).await,
        }
    {
        return reply;
    }
    let start = std::time::Instant::now();
    if super::scheduler::is_scheduler_path(request.uri().path()) {
        let reply = serve_scheduler(engine, request).await;
        crate::telemetry::api_request("scheduler", reply.error_type.as_deref(), start.elapsed().as_secs_f64());
        return reply;
    }
    let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
    let reply = serve_signed(engine, request, target.as_deref()).await;
    let operation = target.as_deref().and_then(|t| t.strip_prefix(TARGET_PREFIX)).unwrap_or("other");
    // Only known operations become label values: a client cannot grow the label set.
    let known = super::OPERATIONS.iter().any(|(o, _)| *o == operation)
        || super::STEPWISE_OPERATIONS.contains(&operation)
        || super::SCHEDULE_OPERATIONS.contains(&operation);
    let operation = if known { operation } else { "other" };
    crate::telemetry::api_request(operation, reply.error_type.as_deref(), start.elapsed().as_secs_f64());
    reply
}

async fn serve_signed(engine: Arc<Engine>, request: axum::http::Request<Vec<u8>>, target: Option<&str>) -> Reply {
    // The verifier consumes the request; the body is kept for the operation.
    let body = request.body().clone();
    let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Err((kind, message)) = engine.auth.check(request, crate::auth::SIGNING_SERVICE).await {
        return error_reply(kind, &message);
    }
    serve_request(engine, target, &body, traceparent.as_deref()).await
}

/// A Scheduler API request (REST-JSON, signed for `scheduler`).
async fn serve_scheduler(engine: Arc<Engine>, request: axum::http::Request<Vec<u8>>) -> Reply {
    let body = request.body().clone();
    let (method, path) = (request.method().as_str().to_string(), request.uri().path().to_string());
    let query = request.uri().query().map(str::to_string);
    if let Err((kind, message)) = engine.auth.check(request, super::scheduler::SIGNING_SERVICE).await {
        return error_reply(kind, &message);
    }
    if body.len() > REQUEST_BYTES_MAX {
        return error_reply(AwsError::RequestEntityTooLargeException, "The request body is too large");
    }
    let run = tokio::spawn(
        crate::engine::compute::FROM_REQUEST
            .scope((), async move { super::scheduler::call(&engine, &method, &path, query.as_deref(), &body).await }),
    );
    match run.await {
        Ok(Ok(v)) => Reply {
            status: 200,
            error_type: None,
            body: v.to_string().into_bytes(),
            content_type: REST_CONTENT_TYPE,
            headers: &[],
        },
        Ok(Err(e)) => reply_for(&e),
        Err(_) => {
            error_reply(AwsError::InternalFailure, "The request processing has failed because of an internal error")
        }
    }
}

async fn handle(State(app): State<App>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let too_large = || respond(error_reply(AwsError::RequestEntityTooLargeException, "The request body is too large"));
    // A declared length over the limit is refused before a byte of the body is read.
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > app.body_bytes_max) {
        return closing(too_large());
    }
    // A GET (a probe or a scrape) carries no body.
    let declared = if parts.method == axum::http::Method::GET { Some(declared.unwrap_or(0)) } else { declared };
    let units = declared.unwrap_or(app.body_bytes_max).div_ceil(BODY_BUDGET_UNIT_BYTES).max(1) as u32;
    let Ok(_budget) = app.body_budget.clone().try_acquire_many_owned(units) else {
        let r = error_reply(AwsError::ThrottlingException, "Rate exceeded: too many request bodies are being received");
        return closing(respond(r));
    };
    let bytes: Bytes =
        match tokio::time::timeout(app.body_timeout, axum::body::to_bytes(body, app.body_bytes_max)).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => return closing(too_large()),
            Err(_) => {
                let r = error_reply(AwsError::RequestTimeoutException, "The request body was not received in time");
                return closing(respond(r));
            }
        };
    respond(serve_http(app.engine, axum::http::Request::from_parts(parts, bytes.to_vec())).await)
}

/// A refusal whose body may still be arriving: the connection closes after it.
fn closing(mut r: Response) -> Response {
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn respond(r: Reply) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, r.body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(r.content_type));
    for (name, value) in r.headers {
        h.insert(*name, HeaderValue::from_static(value));
    }
    if let Some(t) = r.error_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    h.insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap_or(HeaderValue::from_static("0")),
    );
    resp
}
