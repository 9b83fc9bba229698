//! The conformance corpus through the API: every engine-only JSONPath case
//! that the engine passes and that finishes within a few seconds of virtual
//! time is created and run on a real server with aws-sdk-sfn, and its
//! outcome compared with AWS's recorded one. This proves that the API path
//! (storage, scheduler, timers) and the engine agree.

mod common;

use std::sync::Arc;

use aws_sdk_sfn::types::{ExecutionStatus, StateMachineType};
use serde_json::Value;
use stepwise_tests::{compare, engine, json_files, shared_dir};

use common::{Server, finished, temp_dir};

/// Cases whose virtual run lasts longer are left to the engine-level test.
const VIRTUAL_DURATION_MS_MAX: i64 = 2_000;
/// Executions in flight at once.
const CONCURRENCY: usize = 32;
/// The share of eligible cases that must run here; the rest would be waits too long for CI.
const RAN_MIN: usize = 750;

fn eligible(case: &Value) -> bool {
    if case["needs"].as_array().is_some_and(|n| !n.is_empty()) || engine::uses_jsonata(case) {
        return false;
    }
    let Ok(out) = engine::run(case, true) else { return false };
    let status = serde_json::to_value(out.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let observed = compare::Observed { status, output: out.output, error: out.error, cause: out.cause };
    if compare::compare(&case["expected"], &observed).is_err() {
        return false;
    }
    let span = match (out.history.first(), out.history.last()) {
        (Some(a), Some(b)) => b.timestamp - a.timestamp,
        _ => 0,
    };
    span <= VIRTUAL_DURATION_MS_MAX
}

async fn run_case(c: aws_sdk_sfn::Client, i: usize, case: Value) -> Result<(), String> {
    let express = case.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
    let kind = if express { StateMachineType::Express } else { StateMachineType::Standard };
    let m = c
        .create_state_machine()
        .name(format!("c{i}"))
        .definition(case["definition"].to_string())
        .role_arn("snf_role_arn")
        .r#type(kind)
        .send()
        .await
        .map_err(|e| format!("create: {:?}", e.into_service_error()))?
        .state_machine_arn;
    let name: String = case["name"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(80)
        .collect();
    let s = c
        .start_execution()
        .state_machine_arn(&m)
        .name(name)
        .input(case["input"].to_string())
        .send()
        .await
        .map_err(|e| format!("start: {:?}", e.into_service_error()))?;
    let d = finished(&c, &s.execution_arn).await;
    let status = match d.status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
        ExecutionStatus::Aborted => "ABORTED",
        _ => "OTHER",
    };
    let output = d.output.as_deref().map(|o| serde_json::from_str(o).unwrap_or(Value::String(o.to_string())));
    let observed = compare::Observed { status: status.into(), output, error: d.error, cause: d.cause };
    compare::compare(&case["expected"], &observed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_through_the_server() {
    let server = Server::start_with(&temp_dir("conformance"), &["--account-id", "111111111111"]);
    let c = server.client();
    let mut cases = Vec::new();
    for file in json_files(&shared_dir().join("conformance/cases")).expect("the corpus is beside the repository") {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("JSON");
        if eligible(&case) {
            cases.push(case);
        }
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut handles = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let permit = sem.clone().acquire_owned().await.expect("semaphore open");
        let c = c.clone();
        let name = case["name"].as_str().unwrap_or_default().to_string();
        handles.push(tokio::spawn(async move {
            let r = run_case(c, i, case).await;
            drop(permit);
            (name, r)
        }));
    }
    let mut failed = Vec::new();
    let ran = handles.len();
    for h in handles {
        let (name, r) = h.await.expect("case task");
        if let Err(why) = r {
            failed.push(format!("{name}: {why}"));
        }
    }
    println!("corpus through the server: {} of {ran} cases match AWS", ran - failed.len());
    for f in &failed {
        println!("  {f}");
    }
    assert!(ran >= RAN_MIN, "only {ran} eligible cases ran");
    assert!(failed.is_empty(), "{} cases differ through the server", failed.len());
}
