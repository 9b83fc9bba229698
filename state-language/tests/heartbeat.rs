//! Heartbeats: the deadline starts when the task starts, each heartbeat moves
//! it, a superseded deadline firing late does nothing, and a missed one fails
//! the task with `States.HeartbeatTimeout`.

use serde_json::json;
use state_language::interpreter::{Command, Execution, Input, StartContext, Status, step};

fn ctx() -> StartContext {
    StartContext {
        execution_arn: "arn:aws:states:us-east-1:1:execution:h:x".into(),
        execution_name: "x".into(),
        state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:h".into(),
        state_machine_name: "h".into(),
        role_arn: "r".into(),
        seed: 5,
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    }
}

fn timers(cmds: &[Command]) -> Vec<(u64, i64)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::StartTimer { timer_id, fire_at_ms } => Some((*timer_id, *fire_at_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn heartbeat_deadline_moves_and_expires() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:us-east-1:1:activity:a", "HeartbeatSeconds": 2, "TimeoutSeconds": 100, "End": true}}});
    let def = state_language::validate(&def, Default::default()).definition.expect("valid");
    let mut exec = Execution::new();
    let out = step(&def, &mut exec, Input::Start { input: json!({}), context: ctx() }, 0).expect("start");
    let task_id = out
        .commands
        .iter()
        .find_map(|c| match c {
            Command::RunTask(t) => Some(t.task_id),
            _ => None,
        })
        .expect("task scheduled");
    assert_eq!(timers(&out.commands).len(), 1, "only the task timeout is armed before the task starts");

    let out = step(&def, &mut exec, Input::TaskStarted { task_id }, 10_000).expect("started");
    let first = timers(&out.commands);
    assert_eq!(first.iter().map(|t| t.1).collect::<Vec<_>>(), vec![12_000]);

    let out = step(&def, &mut exec, Input::TaskHeartbeat { task_id }, 11_500).expect("heartbeat");
    let second = timers(&out.commands);
    assert_eq!(second.iter().map(|t| t.1).collect::<Vec<_>>(), vec![13_500]);

    // The superseded deadline fires: nothing happens.
    let out = step(&def, &mut exec, Input::TimerFired { timer_id: first[0].0 }, 12_000).expect("stale timer");
    assert!(out.commands.is_empty() && out.events.is_empty(), "{out:?}");
    assert_eq!(exec.status, Status::Running);

    let out = step(&def, &mut exec, Input::TimerFired { timer_id: second[0].0 }, 13_500).expect("deadline");
    assert_eq!(exec.status, Status::Failed);
    assert_eq!(exec.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert!(out.commands.iter().any(|c| matches!(c, Command::CancelTask { task_id: t } if *t == task_id)));

    // A late result for the timed-out task is refused, not applied.
    let late = step(&def, &mut exec, Input::TaskSucceeded { task_id, output: json!(1) }, 14_000);
    assert!(late.is_err());
}
