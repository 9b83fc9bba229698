//! The library side of the Lambda binaries in `executors/`: each handler
//! takes the event as JSON and gives the response as JSON, so it is tested
//! here directly and the binaries stay thin `lambda_runtime` shims.

// The Lambda host: where time enters the serverless engine.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::Error;
use crate::arn::Scope;
use crate::engine::{Engine, decode, workers};
use crate::model::{TaskMessage, Wake};

/// OTLP traces of the executions this instance closed, sent before each
/// invocation returns (a frozen Lambda sends nothing); `None` without `OTEL_*`.
static TRACES: std::sync::OnceLock<Option<Arc<crate::server::TraceExporter>>> = std::sync::OnceLock::new();

/// Builds the engine a Lambda runs, from its environment: `STEPWISE_TABLE`,
/// `STEPWISE_QUEUE_PREFIX` (default `stepwise-`), `STEPWISE_PAYLOAD_BUCKET` (the
/// claim check's bucket; big payloads stay in DynamoDB parts without it),
/// `STEPWISE_RETENTION_DAYS` (default 90), `AWS_REGION`,
/// `STEPWISE_MAP_CHILDREN_RUNNING_MAX` (1–10,000, default 1,000: the
/// server's `--map-children-running-max`), `STEPWISE_ACCOUNT_ID`,
/// `STEPWISE_AUTH` (`none` or `sigv4`) with `STEPWISE_CREDENTIALS`, and the
/// SDK's usual settings (`AWS_ENDPOINT_URL`, …).
pub async fn engine_from_env() -> Result<Arc<Engine>, Error> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let number = |k: &str, range, default, what: &str| setting(k, var(k), range, default, what);
    let table = var("STEPWISE_TABLE").ok_or_else(|| Error::Store("STEPWISE_TABLE is not set".into()))?;
    let mut scope = Scope::default();
    if let Some(r) = var("AWS_REGION") {
        scope.region = r;
    }
    if let Some(a) = var("STEPWISE_ACCOUNT_ID") {
        scope.account = a;
    }
    let auth = crate::auth::Auth::parse(
        var("STEPWISE_AUTH").as_deref().unwrap_or("none"),
        var("STEPWISE_CREDENTIALS").as_deref(),
        &scope.region,
    )?;
    let config = crate::server::EngineConfig {
        auth,
        scope,
        aws_endpoint: var("STEPWISE_AWS_ENDPOINT"),
        lambda_endpoint: var("STEPWISE_LAMBDA_ENDPOINT"),
        eval_threads: None,
        eval_queue_max: crate::engine::compute::COMPUTE_QUEUE_MAX_DEFAULT,
        map_children_running_max: number(
            "STEPWISE_MAP_CHILDREN_RUNNING_MAX",
            1..=10_000,
            crate::engine::MAP_CHILDREN_RUNNING_MAX_DEFAULT as i64,
            "a number of children",
        )? as u64,
        backend: crate::server::Backend::Aws {
            table,
            queue_prefix: var("STEPWISE_QUEUE_PREFIX").unwrap_or_else(|| "stepwise-".into()),
            payload_bucket: var("STEPWISE_PAYLOAD_BUCKET"),
            retention_days: number(
                "STEPWISE_RETENTION_DAYS",
                1..=36_500,
                crate::engine::RETENTION_DAYS_DEFAULT,
                "a number of days",
            )?,
        },
    };
    let engine = crate::server::open_with(&config, Arc::new(crate::telemetry::Telemetry::emf()?)).await?;
    let traces = crate::server::TraceExporter::install(&engine)?;
    if TRACES.set(traces).is_err() {
        return Err(Error::Config("a Lambda builds its engine once".into()));
    }
    // A Lambda serves requests as soon as it exists: ready for /readyz.
    engine.telemetry.set_ready(true);
    Ok(engine)
}

/// A numeric setting `k` (`value`, if set) within `range`. A bad one stops the
/// Lambda at its start, naming the variable, rather than running with a default.
fn setting(
    k: &str,
    value: Option<String>,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
    what: &str,
) -> Result<i64, Error> {
    let Some(v) = value else { return Ok(default) };
    let n = v.parse().ok().filter(|n| range.contains(n));
    n.ok_or_else(|| Error::Config(format!("{k} '{v}' is not {what} from {} to {}", range.start(), range.end())))
}

/// A Lambda function URL or API Gateway HTTP API (payload 2.0) event to the
/// same router as `stepwise server`.
pub async fn api(engine: Arc<Engine>, event: Value) -> Value {
    let start = std::time::Instant::now();
    let (reply, target) = match http_request(&event) {
        Ok(request) => {
            let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
            (crate::api::http::serve_http(engine.clone(), request).await, target)
        }
        Err(why) => (crate::api::http::bad_request(&why), None),
    };
    finish(&engine, "api", target.as_deref().unwrap_or_default(), start).await;
    let mut headers = json!({"content-type": reply.content_type});
    for (name, value) in reply.headers {
        headers[*name] = json!(value);
    }
    if let Some(t) = &reply.error_type {
        headers["x-amzn-errortype"] = json!(t);
    }
    json!({
        "statusCode": reply.status,
        "headers": headers,
        "body": String::from_utf8_lossy(&reply.body),
        "isBase64Encoded": false,
    })
}

/// The HTTP request inside a function URL or HTTP API (payload 2.0) event,
/// whole, because a SigV4 signature covers the method, path, query, headers and body.
fn http_request(event: &Value) -> Result<http::Request<Vec<u8>>, String> {
    let raw = event.get("body").and_then(Value::as_str).unwrap_or_default();
    let body = if event.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false) {
        base64::engine::general_purpose::STANDARD.decode(raw).map_err(|e| format!("the body is not base64: {e}"))?
    } else {
        raw.as_bytes().to_vec()
    };
    let method = event.pointer("/requestContext/http/method").and_then(Value::as_str).unwrap_or("POST");
    let path = event.get("rawPath").and_then(Value::as_str).unwrap_or("/");
    let uri = match event.get("rawQueryString").and_then(Value::as_str).filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut request = http::Request::builder().method(method).uri(uri);
    for (k, v) in event.get("headers").and_then(Value::as_object).into_iter().flatten() {
        request = request.header(k.as_str(), v.as_str().unwrap_or_default());
    }
    request.body(body).map_err(|e| format!("the request is malformed: {e}"))
}

/// An SQS batch from the scheduler or tasks queue. Messages that fail are
/// reported in `batchItemFailures` (the event source mapping's
/// `ReportBatchItemFailures`), so only they are delivered again.
pub async fn scheduler(engine: Arc<Engine>, event: Value) -> Value {
    let start = std::time::Instant::now();
    let mut failures = Vec::new();
    for record in event.get("Records").and_then(Value::as_array).into_iter().flatten() {
        let id = record.get("messageId").and_then(Value::as_str).unwrap_or_default();
        let body = record.get("body").and_then(Value::as_str).unwrap_or_default();
        // A schedule's fire names its schedule; a wake-up its execution; a task its token.
        let fire = decode::<crate::schedules::FireMessage>(body.as_bytes());
        let done = match (fire, decode::<Wake>(body.as_bytes()), decode::<TaskMessage>(body.as_bytes())) {
            (Ok(f), _, _) => engine.on_fire(f).await,
            (_, Ok(w), _) => workers::on_wake(&engine, w).await,
            (_, _, Ok(t)) => engine.perform_delivery(&t.token_hash, receive_count(record)).await,
            (_, Err(e), _) => {
                // A message nobody can read would fail forever: drop it loudly.
                tracing::error!(error = %e, body, "an unreadable message was dropped");
                Ok(())
            }
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, message = id, "a message failed; it will be delivered again");
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    finish(&engine, "scheduler", "", start).await;
    json!({"batchItemFailures": failures})
}

/// SQS's count of a record's deliveries, this one included. A record
/// without it (never from SQS) counts as a first delivery, which is retried.
fn receive_count(record: &Value) -> u32 {
    let count = record.pointer("/attributes/ApproximateReceiveCount").and_then(Value::as_str);
    count.and_then(|c| c.parse().ok()).unwrap_or(1)
}

/// The scheduled sweeper: flushes lost outbox messages and overdue timers.
pub async fn sweeper(engine: Arc<Engine>, _event: Value) -> Value {
    let start = std::time::Instant::now();
    let out = match workers::sweep(&engine).await {
        Ok(resent) => json!({"resent": resent}),
        Err(e) => json!({"error": e.to_string()}),
    };
    finish(&engine, "sweeper", "", start).await;
    out
}

/// Logs what this invocation spent in billed requests (`store::meter`) and
/// how long it took, one line per invocation; `scripts/bench-serverless.py`
/// adds them up into the cost per state transition.
async fn finish(engine: &Engine, function: &str, operation: &str, start: std::time::Instant) {
    if let Some(Some(t)) = TRACES.get() {
        t.drain(engine).await;
    }
    report_usage(engine, function, operation, start);
}

fn report_usage(engine: &Engine, function: &str, operation: &str, start: std::time::Instant) {
    engine.telemetry.flush_emf(crate::clock::now_ms());
    if let Some(u) = engine.take_usage() {
        let usage = serde_json::to_string(&u).unwrap_or_default();
        let ms = start.elapsed().as_millis() as u64;
        tracing::info!(target: "stepwise::usage", function, operation, ms, usage = %usage, "usage");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_numeric_setting_is_its_default_or_in_range_or_refused_by_name() {
        let cases: [(Option<&str>, Option<i64>); 6] = [
            (None, Some(1_000)),
            (Some("1"), Some(1)),
            (Some("10000"), Some(10_000)),
            (Some("0"), None),
            (Some("10001"), None),
            (Some("many"), None),
        ];
        for (value, want) in cases {
            let got = super::setting("STEPWISE_X", value.map(str::to_string), 1..=10_000, 1_000, "a count");
            match (got, want) {
                (Ok(n), Some(w)) => assert_eq!(n, w, "{value:?}"),
                (Err(e), None) => assert!(e.to_string().contains("STEPWISE_X"), "{e}"),
                (got, want) => panic!("{value:?}: {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn a_records_receive_count_is_sqs_attribute() {
        let cases = [
            (json!({"attributes": {"ApproximateReceiveCount": "20"}}), 20),
            (json!({"attributes": {"ApproximateReceiveCount": "3"}}), 3),
            (json!({"attributes": {}}), 1),
            (json!({}), 1),
        ];
        for (record, count) in cases {
            assert_eq!(super::receive_count(&record), count, "{record}");
        }
    }
}
