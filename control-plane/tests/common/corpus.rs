//! The conformance corpus through a running server: which cases can run
//! there, and running them with aws-sdk-sfn.

use std::sync::Arc;

use aws_sdk_sfn::types::{ExecutionStatus, StateMachineType};
use serde_json::Value;
use stepwise_tests::{compare, engine, json_files, shared_dir};

use super::finished;

/// Cases whose virtual run lasts longer are left to the engine-level test.
pub const VIRTUAL_DURATION_MS_MAX: i64 = 2_000;
/// Executions in flight at once.
pub const CONCURRENCY: usize = 32;

pub fn eligible(case: &Value) -> bool {
    if case["needs"].as_array().is_some_and(|n| !n.is_empty()) {
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

pub async fn run_case(c: aws_sdk_sfn::Client, i: usize, case: Value) -> Result<(), String> {
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

/// Every `every`-th eligible case of the corpus.
pub fn cases(every: usize) -> Vec<Value> {
    let files = json_files(&shared_dir().join("conformance/cases")).expect("the corpus is beside the repository");
    let mut out = Vec::new();
    for file in files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("JSON");
        if eligible(&case) {
            out.push(case);
        }
    }
    out.into_iter().step_by(every.max(1)).collect()
}

/// Runs cases `concurrency` at a time; gives how many ran and the failures.
pub async fn run_all(c: &aws_sdk_sfn::Client, cases: Vec<Value>, concurrency: usize) -> (usize, Vec<String>) {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
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
    let ran = handles.len();
    let mut failed = Vec::new();
    for h in handles {
        let (name, r) = h.await.expect("case task");
        if let Err(why) = r {
            failed.push(format!("{name}: {why}"));
        }
    }
    (ran, failed)
}
