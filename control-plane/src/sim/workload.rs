//! What a seed runs: state machines that cover activities with heartbeats
//! and timeouts, Wait, retries with backoff, Catch, Parallel, inline and
//! distributed Map, nested `.sync` executions, callbacks, StopExecution and
//! RedriveExecution (of a failed task, and of a distributed Map whose odd
//! items fail until redriven); and the deterministic answers of the workers.
//!
//! Every machine's outcome depends only on its input, never on timing, so a
//! run with faults must end exactly as the run without them. Injected worker
//! misbehaviour only touches a task's first attempts, and each task's retry
//! policy has room to absorb it.

use serde_json::{Value, json};

/// Activity tasks' timeout and heartbeat: generous beside fault-made delays.
const TASK_TIMEOUT_S: u64 = 300;
const HEARTBEAT_S: u64 = 60;
/// How long the sleeper waits before its client stops it.
pub const SLEEP_S: u64 = 86_400;
pub const STOP_AFTER_MS: i64 = 600_000;
/// Attempts of a task below this may be hit by an injected worker fault.
pub const FAULTY_ATTEMPTS_MAX: u64 = 2;

/// The machines clients start, by name; `cb-child` is started only by
/// `callback`; `sim-order` and `sim-cancel` are code workflows ([`super::code`]).
pub const STARTED: [&str; 10] =
    ["steps", "catch", "fanout", "parent", "callback", "sleeper", "redrive", REDRIVE_MAP, "sim-order", "sim-cancel"];

/// A distributed Map over three items whose odd ones fail until the
/// execution is redriven: its tasks carry `exec`, and a child that
/// succeeded must never run again.
pub const REDRIVE_MAP: &str = "redrive-map";

/// Every seed also runs a schedule: `rate(1 minute)` from `SCHEDULE_START_MS`
/// after the epoch to `SCHEDULE_END_MS`, starting the `tick` machine; the
/// invariant is one execution per fire time, none missing, none twice.
pub const SCHEDULED_MACHINE: &str = "tick";
pub const SCHEDULE_NAME: &str = "sim-tick";
pub const SCHEDULE_START_MS: i64 = 30_000;
pub const SCHEDULE_END_MS: i64 = SCHEDULE_START_MS + 4 * 60_000;

/// The schedule's fire times, as offsets from the epoch.
pub fn schedule_fires() -> Vec<i64> {
    (0..=4).map(|k| SCHEDULE_START_MS + k * 60_000).collect()
}

pub fn task_timeout_ms() -> i64 {
    TASK_TIMEOUT_S as i64 * 1000
}

/// A retry policy that absorbs timeouts, whatever made them.
fn absorb() -> Value {
    json!({"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "MaxAttempts": 8, "IntervalSeconds": 2, "BackoffRate": 1.5})
}

fn task(activity: &str, mode: &str, next: Option<&str>) -> Value {
    let mut t = json!({
        "Type": "Task", "Resource": activity,
        "Parameters": {"x.$": "$.x", "mode": mode, "attempt.$": "$$.State.RetryCount", "redrive.$": "$$.Execution.RedriveCount"},
        "TimeoutSeconds": TASK_TIMEOUT_S, "HeartbeatSeconds": HEARTBEAT_S,
        "Retry": [absorb()],
    });
    match next {
        Some(n) => t["Next"] = json!(n),
        None => t["End"] = json!(true),
    }
    t
}

/// The definitions, by machine name; `arn` gives a machine's ARN by name.
pub fn definitions(activity: &str, arn: impl Fn(&str) -> String) -> Vec<(&'static str, Value)> {
    let mut steps_work = task(activity, "ok", Some("Pause"));
    steps_work["ResultPath"] = json!("$.work");
    let mut flaky = task(activity, "flaky", Some("Doomed"));
    flaky["Retry"] =
        json!([{"ErrorEquals": ["Flaky"], "MaxAttempts": 3, "IntervalSeconds": 1, "BackoffRate": 2.0}, absorb()]);
    flaky["ResultPath"] = json!("$.flaky");
    let mut doomed = task(activity, "fail", Some("Unreachable"));
    doomed["Catch"] = json!([{"ErrorEquals": ["Boom"], "ResultPath": "$.caught", "Next": "Recovered"}]);
    let mut item_task = task(activity, "ok", None);
    item_task["Parameters"]["x.$"] = json!("$");
    let mut odd_task = task(activity, "redrive-odd", None);
    odd_task["Parameters"]["exec.$"] = json!("$.exec");
    // A child that had not started when its Map Run failed starts new on the
    // parent's redrive (its own RedriveCount 0, as on AWS): the parent's count decides.
    odd_task["Parameters"]["parentRedrive.$"] = json!("$.parentRedrive");
    let mut branch_task = task(activity, "ok", None);
    branch_task["ResultSelector"] = json!({"y.$": "$.y"});
    vec![
        (
            "steps",
            json!({"StartAt": "Work", "States": {
            "Work": steps_work,
            "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.work.y", "NumericGreaterThan": 20, "Next": "Big"}], "Default": "Small"},
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": true}}}),
        ),
        (
            "catch",
            json!({"StartAt": "Flaky", "States": {
            "Flaky": flaky,
            "Doomed": doomed,
            "Unreachable": {"Type": "Fail", "Error": "Sim.Unreachable"},
            "Recovered": {"Type": "Pass", "Parameters": {"error.$": "$.caught.Error", "flaky.$": "$.flaky"}, "End": true}}}),
        ),
        (
            "fanout",
            json!({"StartAt": "Both", "States": {
            "Both": {"Type": "Parallel", "Next": "Each", "ResultPath": "$.both", "Branches": [
                {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 10, "Next": "Done"}, "Done": {"Type": "Pass", "Result": "napped", "End": true}}},
                {"StartAt": "Job", "States": {"Job": branch_task}}]},
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.each",
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": item_task}}, "Next": "Spread"},
            "Spread": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.spread",
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Square", "States": {"Square": {"Type": "Pass", "Parameters": {"sq.$": "States.MathAdd($, $)"}, "End": true}}},
                "End": true}}}),
        ),
        (
            "parent",
            json!({"StartAt": "Child", "States": {
            "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": arn("steps"), "Input": {"x.$": "$.x"}},
                "OutputPath": "$.Output", "End": true}}}),
        ),
        (
            "callback",
            json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {"StateMachineArn": arn("cb-child"), "Input": {"token.$": "$$.Task.Token", "x.$": "$.x", "parent.$": "$$.Execution.Name"}},
                "TimeoutSeconds": 7200, "End": true}}}),
        ),
        ("cb-child", json!({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}})),
        (SCHEDULED_MACHINE, json!({"StartAt": "Tick", "States": {"Tick": {"Type": "Pass", "End": true}}})),
        (
            "sleeper",
            json!({"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": SLEEP_S, "End": true}}}),
        ),
        (
            "redrive",
            json!({"StartAt": "Once", "States": {
            "Once": task(activity, "redrive", Some("After")),
            "After": {"Type": "Pass", "Result": "redriven", "ResultPath": "$.after", "End": true}}}),
        ),
        (
            REDRIVE_MAP,
            json!({"StartAt": "Items", "States": {
            "Items": {"Type": "Pass", "Parameters": {"items.$": "States.ArrayRange($.x, States.MathAdd($.x, 2), 1)"}, "Next": "Each"},
            "Each": {"Type": "Map", "ItemsPath": "$.items",
                "ItemSelector": {"x.$": "$$.Map.Item.Value", "exec.$": "$$.Execution.Name",
                    "parentRedrive.$": "$$.Execution.RedriveCount"},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item", "States": {"Item": odd_task}},
                "End": true}}}),
        ),
    ]
}

/// What a worker answers for a task's input: `Ok(output)` or `Err((error, cause))`.
pub fn answer(input: &Value) -> Result<Value, (String, String)> {
    let x = input["x"].as_i64().expect("every task input has x");
    let attempt = input["attempt"].as_u64().expect("every task input has attempt");
    let redrive = input["redrive"].as_u64().expect("every task input has redrive");
    match input["mode"].as_str().expect("every task input has mode") {
        "ok" => Ok(json!({"y": x * 2 + 1})),
        "fail" => Err(("Boom".into(), format!("x was {x}"))),
        "flaky" if attempt == 0 => Err(("Flaky".into(), "the first attempt fails".into())),
        "flaky" => Ok(json!({"y": x + 100})),
        "redrive" if redrive == 0 => Err(("Boom".into(), "fails until redriven".into())),
        "redrive" => Ok(json!({"y": x - 1})),
        "redrive-odd" if x % 2 != 0 && redrive == 0 && input["parentRedrive"] == json!(0) => {
            Err(("Boom".into(), "odd items fail until redriven".into()))
        }
        "redrive-odd" => Ok(json!({"y": x * 3})),
        other => panic!("a task mode the workload does not have: {other}"),
    }
}

/// The item of a `redrive-map` child from its result.
pub fn redrive_map_item(y: i64) -> i64 {
    y / 3
}

/// Whether a task's work is long enough to need heartbeats (by its input, so
/// both runs of a seed agree).
pub fn long_work(input: &Value) -> bool {
    input["x"].as_i64().is_some_and(|x| x % 5 == 0)
}
