//! The Lambdas' metrics as CloudWatch Embedded Metric Format lines in their
//! logs, and the api's probes through its function URL.

use serde_json::Value;

use super::Stack;

/// The EMF documents in a function's log.
fn emf(stack: &Stack, function: &str) -> Vec<Value> {
    stack
        .log(function)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Stepwise")
        .collect()
}

/// After the scenarios: the scheduler counted closed executions and the api
/// its requests, with the metric's value under its own name and its labels as
/// dimensions; and the api answers /healthz and /readyz.
pub fn check(stack: &Stack) {
    let scheduler = emf(stack, "scheduler");
    let succeeded: f64 = scheduler.iter().filter_map(|v| v["stepwise_executions_succeeded_total"].as_f64()).sum();
    assert!(succeeded >= 1.0, "the scheduler's EMF lines count succeeded executions");
    let line = scheduler.iter().find(|v| v.get("stepwise_executions_succeeded_total").is_some()).expect("a line");
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "state_machine_arn");
    assert!(line["state_machine_arn"].as_str().is_some_and(|a| a.contains(":stateMachine:")), "{line}");
    let api = emf(stack, "api");
    assert!(api.iter().any(|v| v.get("stepwise_api_requests_total").is_some()), "the api's EMF lines count requests");
    for path in ["/healthz", "/readyz"] {
        let (status, body) = get(&stack.api, path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains("version"), "{path}: {body}");
    }
}

fn get(endpoint: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the api");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// The Lambdas' OTLP traces: executions the scheduler closed arrived, each
/// one trace with its states under the execution's span.
pub async fn traces(received: &std::sync::Arc<std::sync::Mutex<stepwise_tests::otlp::Received>>) {
    let spans = super::eventually("the Lambdas' traces", || {
        let spans = received.lock().expect("the receiver lives").spans.clone();
        async move {
            let roots =
                spans.iter().filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("execution "))).count();
            if roots >= 3 { Ok(spans) } else { Err(format!("{roots} execution spans so far")) }
        }
    })
    .await;
    let root = spans
        .iter()
        .find(|s| {
            s["name"].as_str().is_some_and(|n| n.starts_with("execution "))
                && s["parentSpanId"].as_str().unwrap_or("").is_empty()
        })
        .expect("an execution's span with no caller");
    let states: Vec<&Value> =
        spans.iter().filter(|s| s["traceId"] == root["traceId"] && s["parentSpanId"] == root["spanId"]).collect();
    assert!(!states.is_empty(), "the execution's states hang from its span: {root:#}");
}
