//! `local-host`: runs the Lambda binaries locally as AWS would, for the
//! LocalStack test bed (LocalStack's Lambda needs Docker, which we lack).
//!
//! cargo-lambda (`cargo lambda watch --only-lambda-apis`) provides the Lambda
//! Runtime and Invoke APIs; the `api`, `scheduler` and `sweeper` binaries
//! register with it. This program adds what AWS wires around them:
//! - SQS event source mappings: batches of up to `--batch-size` messages,
//!   gathered for up to `--batch-window-ms`, invoked on `scheduler`; messages
//!   the function does not report in `batchItemFailures` are deleted, the
//!   others come back after the queue's visibility timeout and go to its DLQ
//!   after its `maxReceiveCount` (SQS's own redrive policy);
//! - the same for a code workflow's task queues (`--worker-queues`), invoked
//!   on the example worker Lambda `code-worker`;
//! - the sweeper's schedule;
//! - a function URL: HTTP requests become function URL events for `api`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine as _;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Clone)]
struct Args {
    /// cargo-lambda's Invoke API.
    #[arg(long)]
    lambda_endpoint: String,
    /// SQS (LocalStack) endpoint.
    #[arg(long)]
    sqs_endpoint: String,
    /// Queues whose messages go to the `scheduler` function.
    #[arg(long, value_delimiter = ',', default_value = "stepwise-scheduler,stepwise-tasks")]
    queues: Vec<String>,
    /// A code workflow task queue's SQS queues, whose messages go to `code-worker`
    /// (created if missing: the engine creates them on first use, maybe later).
    #[arg(long, value_delimiter = ',')]
    worker_queues: Vec<String>,
    #[arg(long, default_value_t = 10)]
    batch_size: i32,
    #[arg(long, default_value_t = 0)]
    batch_window_ms: u64,
    #[arg(long, default_value_t = 30)]
    sweep_seconds: u64,
    /// Where the function URL of `api` listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    api_listen: SocketAddr,
    /// Deliver every batch twice, as SQS's at-least-once delivery may (for tests).
    #[arg(long)]
    deliver_twice: bool,
}

struct Clients {
    lambda: aws_sdk_lambda::Client,
    sqs: aws_sdk_sqs::Client,
}

async fn config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(aws_config::Region::new(std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into())))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Invokes `function`; logs a line with its duration, which the cost
/// benchmark adds up as Lambda milliseconds.
async fn invoke(c: &Clients, function: &str, event: &Value) -> anyhow::Result<Value> {
    let start = std::time::Instant::now();
    let r = c
        .lambda
        .invoke()
        .function_name(function)
        .payload(aws_sdk_lambda::primitives::Blob::new(event.to_string()))
        .send()
        .await
        .with_context(|| format!("invoking {function}"))?;
    let bytes = r.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
    // The messages it carried: what one invocation did, for the fan-out benchmark.
    let records = event["Records"].as_array().map_or(0, Vec::len);
    println!("{}", json!({"invocation": function, "ms": start.elapsed().as_secs_f64() * 1000.0, "records": records}));
    if r.function_error().is_some() {
        anyhow::bail!("{function} failed: {}", String::from_utf8_lossy(&bytes));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// One event source mapping: queue → `function`.
async fn poll(c: Arc<Clients>, args: Args, queue: String, function: &str) -> anyhow::Result<()> {
    let url = c.sqs.create_queue().queue_name(&queue).send().await?.queue_url.context("queue URL")?;
    loop {
        let mut batch = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(args.batch_window_ms);
        while batch.len() < args.batch_size as usize {
            let wait = if batch.is_empty() { 20 } else { 0 };
            let r = c
                .sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages((args.batch_size as usize - batch.len()).min(10) as i32)
                .wait_time_seconds(wait)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await?;
            println!("{}", json!({"esm_sqs_requests": 1}));
            let got = r.messages.unwrap_or_default();
            let empty = got.is_empty();
            batch.extend(got);
            if (empty && !batch.is_empty()) || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        if batch.is_empty() {
            continue;
        }
        let records: Vec<Value> = batch
            .iter()
            .map(|m| {
                let attrs: serde_json::Map<String, Value> =
                    m.attributes.iter().flatten().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect();
                json!({
                    "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                    "attributes": attrs, "eventSource": "aws:sqs", "eventSourceARN": format!("arn:aws:sqs:::{queue}"),
                })
            })
            .collect();
        let event = json!({ "Records": records });
        if args.deliver_twice
            && let Err(e) = invoke(&c, function, &event).await
        {
            eprintln!("local-host: {e:#}");
        }
        let failed: Vec<String> = match invoke(&c, function, &event).await {
            Ok(r) => r["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                .collect(),
            Err(e) => {
                eprintln!("local-host: {e:#}");
                batch.iter().filter_map(|m| m.message_id.clone()).collect() // the whole batch comes back
            }
        };
        // Like Lambda's event source mapping: the successes go in one DeleteMessageBatch.
        let done: Vec<_> = batch
            .iter()
            .filter(|m| !failed.iter().any(|f| Some(f) == m.message_id.as_ref()))
            .filter_map(|m| m.receipt_handle.clone())
            .enumerate()
            .map(|(i, h)| DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(h).build())
            .collect::<Result<_, _>>()?;
        for chunk in done.chunks(10) {
            c.sqs.delete_message_batch().queue_url(&url).set_entries(Some(chunk.to_vec())).send().await?;
            println!("{}", json!({"esm_sqs_requests": 1}));
        }
    }
}

/// A function URL: the whole request becomes the event (a SigV4 signature
/// covers method, path, query, headers and body). Headers are lower-cased
/// and repeated ones joined with commas, as Lambda does.
async fn function_url(
    axum::extract::State(c): axum::extract::State<Arc<Clients>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let mut hs = serde_json::Map::new();
    for (k, v) in &headers {
        let Ok(v) = v.to_str() else { continue };
        match hs.get_mut(k.as_str()) {
            Some(Value::String(s)) => *s = format!("{s},{v}"),
            _ => {
                hs.insert(k.as_str().to_string(), json!(v));
            }
        }
    }
    let base64 = std::str::from_utf8(&body).is_err();
    let event = json!({
        "version": "2.0", "rawPath": uri.path(), "rawQueryString": uri.query().unwrap_or_default(),
        "headers": hs, "isBase64Encoded": base64,
        "requestContext": {"http": {"method": method.as_str(), "path": uri.path()}},
        "body": if base64 { base64::engine::general_purpose::STANDARD.encode(&body) } else { String::from_utf8_lossy(&body).into_owned() },
    });
    match invoke(&c, "api", &event).await {
        Ok(r) => {
            let status =
                StatusCode::from_u16(r["statusCode"].as_u64().unwrap_or(500) as u16).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut resp = (status, r["body"].as_str().unwrap_or_default().to_string()).into_response();
            for (k, v) in r["headers"].as_object().into_iter().flatten() {
                if let (Ok(k), Some(Ok(v))) = (k.parse::<axum::http::HeaderName>(), v.as_str().map(str::parse)) {
                    resp.headers_mut().insert(k, v);
                }
            }
            resp
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("{e:#}")).into_response(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let c = Arc::new(Clients {
        lambda: aws_sdk_lambda::Client::new(&config(&args.lambda_endpoint).await),
        sqs: aws_sdk_sqs::Client::new(&config(&args.sqs_endpoint).await),
    });
    let mappings =
        args.queues.iter().map(|q| (q, "scheduler")).chain(args.worker_queues.iter().map(|q| (q, "code-worker")));
    for (q, function) in mappings {
        let (c, args, q) = (c.clone(), args.clone(), q.clone());
        tokio::spawn(async move {
            if let Err(e) = poll(c, args, q.clone(), function).await {
                eprintln!("local-host: polling {q} stopped: {e:#}");
            }
        });
    }
    let sweeper = c.clone();
    let every = Duration::from_secs(args.sweep_seconds.max(1));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = invoke(&sweeper, "sweeper", &json!({"source": "aws.events"})).await {
                eprintln!("local-host: {e:#}");
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(args.api_listen).await?;
    println!("API_ENDPOINT=http://{}", listener.local_addr()?);
    let app = axum::Router::new().fallback(function_url).with_state(c);
    axum::serve(listener, app).await?;
    Ok(())
}
