//! Determinism and crash-resume: the same inputs give the same events, and an
//! execution serialized after every step and restored continues identically.

use serde_json::json;
use state_language::interpreter::{Command, Execution, Input, StartContext, step};

fn ctx() -> StartContext {
    StartContext {
        execution_arn: "arn:aws:states:us-east-1:1:execution:r:x".into(),
        execution_name: "x".into(),
        state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:r".into(),
        state_machine_name: "r".into(),
        role_arn: "r".into(),
        seed: 99,
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    }
}

/// Drives to the end, answering tasks with their payload; optionally round-trips the state through JSON each step.
fn drive(roundtrip: bool) -> (Vec<String>, serde_json::Value) {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "r.$": "States.MathRandom(0, 1000)"}, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "FULL"}], "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let def = state_language::validate(&def, Default::default()).definition.expect("valid");
    let mut exec = Execution::new();
    let mut now = 1_000;
    let mut events = Vec::new();
    let mut inputs = vec![Input::Start { input: json!({"a": 1}), context: ctx() }];
    let mut failed_once = false;
    while let Some(input) = inputs.pop() {
        if roundtrip {
            let text = serde_json::to_string(&exec).expect("serialize");
            exec = serde_json::from_str(&text).expect("deserialize");
        }
        let out = step(&def, &mut exec, input, now).expect("step");
        events.extend(out.events.iter().map(|e| serde_json::to_string(e).expect("event")));
        for c in out.commands {
            match c {
                Command::RunTask(t) if !failed_once => {
                    failed_once = true;
                    inputs.push(Input::TaskFailed { task_id: t.task_id, error: "X".into(), cause: "once".into() });
                }
                Command::RunTask(t) => inputs.push(Input::TaskSucceeded { task_id: t.task_id, output: t.payload }),
                Command::StartTimer { timer_id, fire_at_ms } => {
                    now = now.max(fire_at_ms);
                    inputs.push(Input::TimerFired { timer_id });
                    // A duplicate delivery of the same timer must be harmless.
                    inputs.push(Input::TimerFired { timer_id });
                }
                Command::Finish { output, .. } => return (events, output.unwrap_or_default()),
                Command::CancelTask { .. } | Command::AbortChild { .. } | Command::ListExpressChild(_) => {}
            }
        }
    }
    panic!("execution did not finish");
}

#[test]
fn same_inputs_give_identical_events() {
    assert_eq!(drive(false), drive(false));
}

#[test]
fn resuming_from_serialized_state_changes_nothing() {
    let (plain, out) = drive(false);
    let (resumed, out2) = drive(true);
    assert_eq!(plain, resumed);
    assert_eq!(out, out2);
    assert!(out["id"].as_str().is_some_and(|s| s.len() == 36), "{out}");
}

#[test]
fn state_of_another_format_version_is_refused() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let def = state_language::validate(&def, Default::default()).definition.expect("valid");
    let mut exec = Execution::new();
    exec.version += 1;
    let err = step(&def, &mut exec, Input::Start { input: json!({}), context: ctx() }, 0).expect_err("refused");
    assert!(matches!(err, state_language::Error::Version { .. }), "{err}");
}

#[test]
fn inputs_before_start_or_after_the_end_are_refused() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let def = state_language::validate(&def, Default::default()).definition.expect("valid");
    let mut exec = Execution::new();
    let err = step(&def, &mut exec, Input::TimerFired { timer_id: 1 }, 0).expect_err("not started");
    assert_eq!(err, state_language::Error::NotStarted);
    step(&def, &mut exec, Input::Start { input: json!({}), context: ctx() }, 0).expect("start");
    let err = step(&def, &mut exec, Input::Start { input: json!({}), context: ctx() }, 0).expect_err("twice");
    assert_eq!(err, state_language::Error::AlreadyStarted);
    let err = step(&def, &mut exec, Input::TaskSucceeded { task_id: 9, output: json!(1) }, 0).expect_err("done");
    assert!(matches!(err, state_language::Error::NotRunning(_)), "{err}");
}

#[test]
fn a_loop_that_never_waits_fails_the_execution() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "End"}], "Default": "A"},
        "End": {"Type": "Succeed"}}});
    let def = state_language::validate(&def, Default::default()).definition.expect("valid");
    let limits = state_language::interpreter::Limits {
        history_events_max: u64::MAX,
        transitions_per_step_max: 1_000,
        ..Default::default()
    };
    let mut exec = Execution::new();
    let input = Input::Start { input: json!({}), context: ctx() };
    let out = state_language::interpreter::step_with(&def, &mut exec, input, 0, limits).expect("step");
    assert_eq!(exec.status, state_language::Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.Runtime"));
    assert!(out.commands.iter().any(|c| matches!(c, Command::Finish { .. })));

    // With AWS's default limits the history bound stops the same loop.
    let mut exec = Execution::new();
    step(&def, &mut exec, Input::Start { input: json!({}), context: ctx() }, 0).expect("step");
    assert!(exec.cause.as_deref().is_some_and(|c| c.contains("maximum number of history events")), "{:?}", exec.cause);
}
