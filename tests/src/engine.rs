//! Runs a corpus case through the engine with virtual time.

use serde_json::Value;
use state_language::driver::{self, Outcome, Simulated, TaskOutcome};
use state_language::interpreter::{Limits, StartContext, TaskCommand};

/// The context every corpus run uses; names and ARNs are placeholders in the corpus.
pub fn context(name: &str) -> StartContext {
    StartContext {
        execution_arn: format!("arn:aws:states:us-east-1:111111111111:execution:conformance:{name}"),
        execution_name: name.chars().take(80).collect(),
        state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:conformance".into(),
        state_machine_name: "conformance".into(),
        role_arn: "snf_role_arn".into(),
        seed: 42,
        redrive_count: 0,
        token_key: String::new(),
    }
}

/// True when the case's definition uses JSONata anywhere.
pub fn uses_jsonata(case: &Value) -> bool {
    case["definition"].to_string().contains("JSONata")
}

/// Validates and runs a case; tasks fail, as engine-only cases have none.
pub fn run(case: &Value, keep_history: bool) -> Result<Outcome, String> {
    let name = case["name"].as_str().unwrap_or_default();
    let express = case.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
    let report = state_language::validate(&case["definition"], state_language::Options { express });
    let ok = report.is_ok();
    let Some(def) = report.definition.clone().filter(|_| ok) else {
        return Err(format!("rejected: {}", report.aws_message()));
    };
    let mut host = Simulated {
        now_ms: 1_700_000_000_000,
        tasks: |t: &TaskCommand| TaskOutcome::Failed {
            error: "States.TaskFailed".into(),
            cause: format!("no task host in the conformance run ({})", t.resource),
        },
    };
    driver::run(&def, case["input"].clone(), context(name), &mut host, Limits::default(), keep_history)
        .map_err(|e| format!("driver: {e}"))
}
