//! Regression tests for the hardening issue: every state's InputPath and
//! OutputPath apply (a Succeed state ignored them), and the history cap holds
//! as events are produced, inside one step.

use serde_json::{Value, json};
use state_language::interpreter::{Command, Execution, Input, Limits, StartContext, Status, step_with};

fn ctx() -> StartContext {
    StartContext::sample(7)
}

/// Runs to the end (tasks answer with their payload, timers fire at once);
/// gives the execution and every event as JSON.
fn run(def: Value, input: Value, limits: Limits) -> (Execution, Vec<Value>) {
    let report = state_language::validate(&def, Default::default());
    let def = report.definition.unwrap_or_else(|| panic!("invalid: {:?}", report.diagnostics));
    let mut exec = Execution::new();
    let mut events = Vec::new();
    let mut inputs = vec![Input::Start { input, context: ctx() }];
    let mut steps = 0;
    while let Some(input) = inputs.pop() {
        steps += 1;
        assert!(steps < 1_000, "the execution did not finish");
        let out = step_with(&def, &mut exec, input, 1_000, limits).expect("step");
        events.extend(out.events.iter().map(|e| serde_json::to_value(e).expect("event")));
        for c in out.commands {
            match c {
                Command::RunTask(t) => inputs.push(Input::TaskSucceeded { task_id: t.task_id, output: t.payload }),
                Command::StartTimer { timer_id, .. } => inputs.push(Input::TimerFired { timer_id }),
                Command::Finish { .. }
                | Command::CancelTask { .. }
                | Command::AbortChild { .. }
                | Command::ListExpressChild(_) => {}
            }
        }
    }
    (exec, events)
}

/// One state of each type with `InputPath: $.keep` and `OutputPath: $.v`.
#[test]
fn every_state_applies_input_path_and_output_path() {
    let io = json!({"InputPath": "$.keep", "OutputPath": "$.v"});
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:us-east-1:1:activity:a"});
    let pass_through = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let cases: Vec<(&str, Value)> = vec![
        ("Pass", json!({"Type": "Pass"})),
        ("Succeed", json!({"Type": "Succeed"})),
        ("Wait", json!({"Type": "Wait", "Seconds": 1})),
        (
            "Choice",
            json!({"Type": "Choice", "Default": "After",
            "Choices": [{"Variable": "$.v[0]", "NumericEquals": 1, "Next": "After"}]}),
        ),
        ("Task", task),
    ];
    for (name, mut state) in cases {
        let obj = state.as_object_mut().expect("an object");
        obj.extend(io.as_object().expect("an object").clone());
        // Each goes on to a plain Succeed (which passes its input through), so every state is reachable.
        let def = match name {
            "Succeed" => json!({"StartAt": "S", "States": {"S": state}}),
            "Choice" => json!({"StartAt": "S", "States": {"S": state, "After": {"Type": "Succeed"}}}),
            _ => {
                obj.insert("Next".into(), json!("After"));
                json!({"StartAt": "S", "States": {"S": state, "After": {"Type": "Succeed"}}})
            }
        };
        let (exec, _) = run(def, json!({"keep": {"v": [1]}, "drop": 2}), Limits::default());
        assert_eq!(exec.status, Status::Succeeded, "{name}");
        assert_eq!(exec.output, Some(json!([1])), "{name}");
    }
    // Parallel and Map: the branch sees the selected input; OutputPath picks from the result.
    let parallel = json!({"Type": "Parallel", "InputPath": "$.keep", "OutputPath": "$[0].v",
        "Branches": [pass_through.clone()], "End": true});
    let map = json!({"Type": "Map", "InputPath": "$.keep", "ItemsPath": "$.v", "OutputPath": "$[0]",
        "ItemProcessor": pass_through, "End": true});
    for (name, state) in [("Parallel", parallel), ("Map", map)] {
        let def = json!({"StartAt": "S", "States": {"S": state}});
        let (exec, _) = run(def, json!({"keep": {"v": [1]}, "drop": 2}), Limits::default());
        assert_eq!(exec.output, Some(json!([1])).map(|v| if name == "Map" { json!(1) } else { v }), "{name}");
    }
}

#[test]
fn a_succeed_state_output_path_is_applied() {
    let def = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.keep"}}});
    let (exec, events) = run(def, json!({"keep": {"v": [1]}, "drop": 2}), Limits::default());
    assert_eq!(exec.output, Some(json!({"v": [1]})));
    let exited = events.iter().find(|e| e["type"] == "SucceedStateExited").expect("SucceedStateExited");
    assert_eq!(exited["stateExitedEventDetails"]["output"], json!({"v": [1]}));
}

/// An inline Map over 40,000 items produces over 120,000 events in one step;
/// the cap holds as they are produced: ids run 1..=cap without a gap, the
/// last is ExecutionFailed with States.Runtime, and no more frames are kept.
#[test]
fn the_history_cap_holds_within_one_step() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "Items": "{% [1..40000] %}", "MaxConcurrency": 0,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    for cap in [25_000u64, 1_000] {
        let limits = Limits { history_events_max: cap, ..Limits::default() };
        let (exec, events) = run(def.clone(), json!({}), limits);
        assert_eq!(exec.status, Status::Failed);
        assert_eq!(exec.error.as_deref(), Some("States.Runtime"));
        assert!(exec.cause.as_deref().is_some_and(|c| c.contains(&cap.to_string())), "{:?}", exec.cause);
        assert_eq!(events.len() as u64, cap, "the events stop at the cap");
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e["id"], json!(i + 1), "ids are contiguous");
        }
        assert_eq!(events.last().expect("events")["type"], "ExecutionFailed");
        assert!(exec.frames.is_empty(), "no frame outlives the failure");
    }
}

/// A host that cannot commit a step fails the execution with `Input::Fail`.
#[test]
fn a_host_can_fail_a_running_execution() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let def = state_language::validate(&def, Default::default()).definition.expect("valid");
    let mut exec = Execution::new();
    step_with(&def, &mut exec, Input::Start { input: json!({}), context: ctx() }, 0, Limits::default()).expect("start");
    let fail = Input::Fail { error: "States.Runtime".into(), cause: "too big".into() };
    let out = step_with(&def, &mut exec, fail, 5, Limits::default()).expect("fail");
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.cause.as_deref(), Some("too big"));
    let last = serde_json::to_value(out.events.last().expect("an event")).expect("json");
    assert_eq!(last["type"], "ExecutionFailed");
}
