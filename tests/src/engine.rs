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
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    }
}

/// True when the case's definition uses JSONata anywhere.
pub fn uses_jsonata(case: &Value) -> bool {
    case["definition"].to_string().contains("JSONata")
}

/// Validates and runs a case; tasks fail, as engine-only cases have none.
pub fn run(case: &Value, keep_history: bool) -> Result<Outcome, String> {
    run_with(case, keep_history, |t: &TaskCommand| TaskOutcome::Failed {
        error: "States.TaskFailed".into(),
        cause: format!("no task host in the conformance run ({})", t.resource),
    })
}

/// Validates and runs a case in virtual time, tasks answered by `tasks`.
fn run_with(
    case: &Value,
    keep_history: bool,
    tasks: impl FnMut(&TaskCommand) -> TaskOutcome,
) -> Result<Outcome, String> {
    let name = case["name"].as_str().unwrap_or_default();
    let express = case.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
    let report = state_language::validate(&case["definition"], state_language::Options { express });
    let ok = report.is_ok();
    let Some(def) = report.definition.clone().filter(|_| ok) else {
        return Err(format!("rejected: {}", report.aws_message()));
    };
    let mut host = Simulated { now_ms: 1_700_000_000_000, tasks };
    driver::run(&def, case["input"].clone(), context(name), &mut host, Limits::default(), keep_history)
        .map_err(|e| format!("driver: {e}"))
}

/// The Lambda behaviours the corpus describes (`resources[...].behaviour`)
/// that this harness can play: a case needing only these runs here.
pub const LAMBDA_NEEDS: [&str; 8] = [
    "lambda:identity",
    "lambda:raises-Exception('Some exception was raised.')",
    "lambda:function-from-input",
    // Virtual time serves these as well as real time would.
    "wait-until-timestamp",
    "wait-dynamic",
    "context-object-ids",
    // UUIDs and random numbers: the corpus marks them as placeholders.
    "nondeterministic-values",
    "lambda:returns-python-bytes",
];

/// True when every need of the case is a Lambda behaviour the harness plays.
pub fn needs_only_lambda(case: &Value) -> bool {
    let needs = case["needs"].as_array().map(Vec::as_slice).unwrap_or_default();
    !needs.is_empty() && needs.iter().all(|n| n.as_str().is_some_and(|n| LAMBDA_NEEDS.contains(&n)))
}

/// The cause a Python function raising `Exception('Some exception was raised.')` gives.
fn python_exception_cause() -> String {
    serde_json::json!({
        "errorMessage": "Some exception was raised.",
        "errorType": "Exception",
        "requestId": "00000000-0000-4000-8000-000000000000",
        "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"],
    })
    .to_string()
}

/// Plays the case's Lambda functions as the corpus describes them: bare
/// function ARNs and `lambda:invoke` (with its response envelope).
fn lambda(case: &Value, t: &TaskCommand) -> TaskOutcome {
    let optimized = t.resource.starts_with("arn:aws:states:::lambda:invoke");
    let function = if optimized {
        t.payload.get("FunctionName").and_then(Value::as_str).unwrap_or_default().to_string()
    } else {
        t.resource.clone()
    };
    let resources = case["resources"].as_object();
    let behaviour = resources
        .and_then(|r| {
            r.iter().find(|(arn, spec)| **arn == function || spec["function_name"].as_str() == Some(function.as_str()))
        })
        .and_then(|(_, spec)| spec["behaviour"].as_str())
        .unwrap_or_default();
    if behaviour.starts_with("raises Exception") {
        return TaskOutcome::Failed { error: "Exception".into(), cause: python_exception_cause() };
    }
    // A Python handler returning bytes: the runtime sends them as the response body unchanged.
    let returned = behaviour.strip_prefix("python handler returning bytes b'").and_then(|r| r.strip_suffix('\''));
    if !behaviour.starts_with("identity") && returned.is_none() {
        let arn = if function.starts_with("arn:") {
            function.clone()
        } else {
            format!("arn:aws:lambda:us-east-1:111111111111:function:{function}")
        };
        let cause = format!(
            "Function not found: {arn}:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: 00000000-0000-4000-8000-000000000000; Proxy: null)"
        );
        return TaskOutcome::Failed { error: "Lambda.ResourceNotFoundException".into(), cause };
    }
    let returned = returned.map(|raw| (serde_json::from_str(raw).unwrap_or(Value::String(raw.into())), raw.len()));
    if !optimized {
        return TaskOutcome::Succeeded(returned.map_or_else(|| t.payload.clone(), |(v, _)| v));
    }
    // A string Payload is the request body itself; a null one sends none (the event is `{}`).
    let payload = match t.payload.get("Payload") {
        None | Some(Value::Null) => serde_json::json!({}),
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
        Some(other) => other.clone(),
    };
    // The corpus's functions are Python: their response is `json.dumps` text.
    let (payload, bytes) = match returned {
        Some(r) => r,
        None => {
            let bytes = python_json(&payload).len();
            (payload, bytes)
        }
    };
    let ids = state_language::aws_shapes::HttpIds {
        request_id: "00000000-0000-4000-8000-000000000000",
        trace_id: "Root=1-00000000-000000000000000000000000",
        date: "Tue, 14 Nov 2023 22:13:20 GMT",
    };
    TaskOutcome::Succeeded(state_language::aws_shapes::lambda_invoke_output(payload, bytes, "$LATEST", 200, &ids))
}

/// Runs a case whose needs are all [`LAMBDA_NEEDS`], with the functions played.
pub fn run_with_lambda(case: &Value, keep_history: bool) -> Result<Outcome, String> {
    run_with(case, keep_history, |t: &TaskCommand| lambda(case, t))
}

/// `json.dumps` as Python writes it: `", "` and `": "` separators, non-ASCII escaped.
fn python_json(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(python_json).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", python_json(&Value::String(k.clone())), python_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::String(s) => {
            let mut out = String::new();
            for c in serde_json::to_string(s).unwrap_or_default().chars() {
                if c.is_ascii() {
                    out.push(c);
                } else {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
            out
        }
        other => other.to_string(),
    }
}
