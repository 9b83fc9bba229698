//! The code-workflow part of a seed's workload: workflow types and a worker
//! that decides each workflow task's new commands from the history alone,
//! as the SDK's replay does, without the SDK (the server must not depend on
//! it). `sim-order` runs an activity, a timer, waits for a signal, runs a
//! child and continues as new once; `sim-cancel` waits a day for its
//! cancellation.

use serde_json::{Value, json};
use stepwise_workflow_core::history::{ActivityOptions, Command, Event, RetryPolicy};

pub const TASK_QUEUE: &str = "simq";
/// The workflow types, by machine name (`sim-child` is started only as a child).
pub const TYPES: [&str; 3] = ["sim-order", "sim-cancel", "sim-child"];
/// What each activity attempt may take; retries absorb fault-made timeouts.
const START_TO_CLOSE_MS: u64 = 60_000;
const ATTEMPTS_MAX: u32 = 8;
const ORDER_TIMER_MS: i64 = 30_000;
const CANCEL_TIMER_MS: i64 = 86_400_000;
/// The signal `sim-order` waits for.
pub const SIGNAL: &str = "approve";

pub fn definition() -> Value {
    json!({"StepwiseWorkflow": {"TaskQueue": TASK_QUEUE}})
}

fn activity(seq: u64, name: &str, input: Value) -> Command {
    let retry = RetryPolicy { max_attempts: ATTEMPTS_MAX, ..RetryPolicy::default() };
    let options = ActivityOptions { retry, start_to_close_ms: Some(START_TO_CLOSE_MS), ..ActivityOptions::default() };
    Command::ScheduleActivity { seq, name: name.into(), input, options }
}

/// What a run's history says so far.
#[derive(Default)]
struct Seen {
    input: Value,
    now_ms: i64,
    scheduled: Vec<u64>,
    results: std::collections::BTreeMap<u64, Value>,
    fired: Vec<u64>,
    signal: Option<Value>,
    cancel_requested: bool,
    closing: bool,
    /// Updates accepted, in order, and those already answered.
    updates: Vec<(String, Value)>,
    updated: std::collections::BTreeSet<String>,
}

fn seen(history: &[Event]) -> Seen {
    let mut s = Seen::default();
    for e in history {
        match e {
            Event::WorkflowStarted { input, .. } => s.input = input.clone(),
            Event::WorkflowTaskStarted { time_ms } => s.now_ms = *time_ms,
            Event::ActivityScheduled { seq, .. }
            | Event::TimerStarted { seq, .. }
            | Event::ChildStarted { seq, .. } => s.scheduled.push(*seq),
            Event::ActivityCompleted { seq, result, .. } | Event::ChildCompleted { seq, result } => {
                s.results.insert(*seq, result.clone());
            }
            Event::ActivityFailed { seq, error, .. } | Event::ActivityTimedOut { seq, error, .. } => {
                s.results.insert(*seq, json!({"failed": error.error_type}));
            }
            Event::ChildFailed { seq, error, .. } => {
                s.results.insert(*seq, json!({"failed": error}));
            }
            Event::TimerFired { seq } => s.fired.push(*seq),
            Event::SignalReceived { name, payload } if name == SIGNAL && s.signal.is_none() => {
                s.signal = Some(payload.clone())
            }
            Event::CancelRequested {} => s.cancel_requested = true,
            Event::UpdateAccepted { id, payload, .. } => s.updates.push((id.clone(), payload.clone())),
            Event::UpdateCompleted { id, .. } => {
                s.updated.insert(id.clone());
            }
            Event::TimerCancelled { .. } | Event::WorkflowCompleted { .. } | Event::WorkflowContinuedAsNew { .. } => {
                s.closing = true
            }
            _ => {}
        }
    }
    s
}

/// The new commands of a workflow task, for the run whose history this is.
pub fn decide(workflow_type: &str, execution_name: &str, history: &[Event]) -> Vec<Command> {
    let s = seen(history);
    if s.closing {
        return Vec::new();
    }
    let new = |seq: u64| !s.scheduled.contains(&seq);
    // Updates are answered first, in the task that sees them.
    let mut commands: Vec<Command> = s
        .updates
        .iter()
        .filter(|(id, _)| !s.updated.contains(id))
        .map(|(id, payload)| Command::CompleteUpdate { id: id.clone(), result: json!({"echo": payload}) })
        .collect();
    commands.extend(match workflow_type {
        "sim-order" => order(&s, execution_name, new),
        "sim-child" if new(1) => vec![activity(1, "double", s.input.clone())],
        "sim-child" => {
            s.results.get(&1).map(|r| vec![Command::CompleteWorkflow { result: r.clone() }]).unwrap_or_default()
        }
        "sim-cancel" if new(1) => vec![Command::StartTimer { seq: 1, fire_at_ms: s.now_ms + CANCEL_TIMER_MS }],
        "sim-cancel" if s.cancel_requested => {
            vec![Command::CancelTimer { seq: 1 }, Command::CompleteWorkflow { result: json!({"cancelled": true}) }]
        }
        "sim-cancel" => Vec::new(),
        other => panic!("a workflow type the workload does not have: {other}"),
    });
    commands
}

/// The name of the update `sim-order` takes, and of the query it answers.
pub const UPDATE: &str = "bump";
pub const QUERY: &str = "progress";

/// A query's answer, or a validator's verdict (`Err` rejects the update).
pub fn answer_query(kind: &str, name: &str, input: &Value, history: &[Event]) -> Result<Value, String> {
    let s = seen(history);
    match (kind, name) {
        ("VALIDATE_UPDATE", UPDATE) if input["n"].is_i64() => Ok(Value::Null),
        ("VALIDATE_UPDATE", _) => Err(format!("no update {name} of {input}")),
        (_, QUERY) => Ok(json!({"charged": s.results.get(&1), "round": s.input["round"]})),
        _ => Err(format!("no query {name}")),
    }
}

fn order(s: &Seen, execution_name: &str, new: impl Fn(u64) -> bool) -> Vec<Command> {
    let round = s.input["round"].as_u64().expect("round");
    if new(1) {
        return vec![activity(1, "charge", json!({"x": s.input["x"]}))];
    }
    let Some(charged) = s.results.get(&1) else { return Vec::new() };
    if new(2) {
        return vec![Command::StartTimer { seq: 2, fire_at_ms: s.now_ms + ORDER_TIMER_MS }];
    }
    if !s.fired.contains(&2) {
        return Vec::new();
    }
    // The first round waits for the client's approval; the second does not.
    let approval = if round == 0 { s.signal.clone() } else { Some(Value::Null) };
    let Some(approval) = approval else { return Vec::new() };
    if new(3) {
        let id = format!("{execution_name}-child-{round}");
        return vec![Command::StartChild {
            seq: 3,
            workflow_type: "sim-child".into(),
            id,
            input: json!({"x": s.input["x"]}),
        }];
    }
    let Some(child) = s.results.get(&3) else { return Vec::new() };
    if round == 0 {
        return vec![Command::ContinueAsNew { input: json!({"x": s.input["x"], "round": 1, "approval": approval}) }];
    }
    let result = json!({"charged": charged, "child": child, "approval": s.input["approval"]});
    vec![Command::CompleteWorkflow { result }]
}

/// An activity's result for its input.
pub fn activity_result(name: &str, input: &Value) -> Value {
    let x = input["x"].as_i64().expect("x");
    match name {
        "charge" => json!({"charged": x * 10}),
        "double" => json!({"doubled": x * 2}),
        other => panic!("an activity the workload does not have: {other}"),
    }
}
