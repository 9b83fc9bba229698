//! The server's side of a code workflow, pure: `host::Run` stepped by hand
//! with a worker's answers, timers and signals at given times.

use serde_json::{Value, json};
use state_language::interpreter::{Command as HostCommand, Status};
use stepwise_sdk::workflow::host::{Effects, HostInput, Run, WORKFLOW_TASK_TIMEOUT_MS};
use stepwise_sdk::workflow::{ActivityOptions, Command, Event, RetryPolicy};

const T0: i64 = 1_800_000_000_000;

fn run() -> (Run, Effects) {
    let mut r = Run::new("order", "shop", "arn:aws:states:us-east-1:1:stateMachine:", 7, "key");
    let e = r.step(HostInput::Start { input: json!({"id": 1}) }, T0).expect("a new run starts");
    (r, e)
}

fn kinds(e: &Effects) -> Vec<String> {
    e.events
        .iter()
        .map(|r| serde_json::to_value(&r.event).expect("events serialize")["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// The (task id, resource, payload) of every task the step hands out.
fn tasks(e: &Effects) -> Vec<(u64, String, Value)> {
    e.commands
        .iter()
        .filter_map(|c| match c {
            HostCommand::RunTask(t) => Some((t.task_id, t.resource.clone(), t.payload.clone())),
            _ => None,
        })
        .collect()
}

fn timers(e: &Effects) -> Vec<(u64, i64)> {
    e.commands
        .iter()
        .filter_map(|c| match c {
            HostCommand::StartTimer { timer_id, fire_at_ms } => Some((*timer_id, *fire_at_ms)),
            _ => None,
        })
        .collect()
}

fn answer(r: &mut Run, task_id: u64, commands: Vec<Command>, at: i64) -> Effects {
    let output = json!({"commands": commands, "timeMs": at});
    r.step(HostInput::TaskSucceeded { task_id, output }, at).expect("the run is open")
}

fn schedule(seq: u64, options: ActivityOptions) -> Command {
    Command::ScheduleActivity { seq, name: "charge".into(), input: json!(30), options }
}

fn policy(max_attempts: u32) -> ActivityOptions {
    ActivityOptions {
        retry: RetryPolicy { initial_interval_ms: 100, max_attempts, ..RetryPolicy::default() },
        ..Default::default()
    }
}

#[test]
fn a_start_queues_a_workflow_task_naming_the_history_to_replay() {
    let (_, e) = run();
    assert_eq!(kinds(&e), ["WorkflowStarted", "WorkflowTaskScheduled"]);
    let t = tasks(&e);
    assert_eq!(t[0].1, "stepwise:workflow-task:shop");
    assert_eq!(
        t[0].2,
        json!({"workflowType": "order", "firstEventId": 1, "lastEventId": 2, "startTimeoutMs": WORKFLOW_TASK_TIMEOUT_MS})
    );
    assert_eq!(e.events.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn events_that_come_while_a_task_is_out_follow_its_commands() {
    let (mut r, e) = run();
    let wt = tasks(&e)[0].0;
    let s = r.step(HostInput::Signal { name: "go".into(), payload: json!(1) }, T0 + 1).unwrap();
    assert!(s.events.is_empty() && s.commands.is_empty(), "buffered");
    let e = answer(&mut r, wt, vec![schedule(1, policy(0))], T0 + 2);
    assert_eq!(
        kinds(&e),
        [
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityScheduled",
            "SignalReceived",
            "WorkflowTaskScheduled"
        ]
    );
    let t = tasks(&e);
    assert_eq!(t[0].1, "stepwise:activity-task:shop");
    assert_eq!(t[0].2["activity"], "charge");
    assert_eq!(t[1].1, "stepwise:workflow-task:shop", "the signal wakes the code");
}

#[test]
fn failed_attempts_are_retried_with_backoff_then_fail_the_activity() {
    let (mut r, e) = run();
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, policy(2))], T0);
    let a1 = tasks(&e)[0].0;
    let f = r.step(HostInput::TaskFailed { task_id: a1, error: "Flaky".into(), cause: "x".into() }, T0 + 10).unwrap();
    assert!(f.events.is_empty());
    let [(retry, at)] = timers(&f)[..] else { panic!("one retry timer: {f:?}") };
    assert_eq!(at, T0 + 110);
    let next = r.step(HostInput::TimerFired { timer_id: retry }, at).unwrap();
    let a2 = &tasks(&next)[0];
    assert_eq!(a2.2["attempt"], 2);
    let cause = json!({"message": "no", "nonRetryable": false}).to_string();
    let f = r.step(HostInput::TaskFailed { task_id: a2.0, error: "Flaky".into(), cause }, at + 5).unwrap();
    assert_eq!(kinds(&f), ["ActivityFailed", "WorkflowTaskScheduled"]);
    let Event::ActivityFailed { error, attempts, .. } = &f.events[0].event else { panic!() };
    assert_eq!((error.message.as_str(), *attempts), ("no", 2));
}

#[test]
fn start_to_close_and_heartbeat_deadlines_time_attempts_out() {
    let (mut r, e) = run();
    let options = ActivityOptions { start_to_close_ms: Some(1_000), heartbeat_ms: Some(300), ..policy(1) };
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, options)], T0);
    let a1 = tasks(&e)[0].0;
    let started = r.step(HostInput::TaskStarted { task_id: a1, at_ms: T0 + 10 }, T0 + 10).unwrap();
    let deadlines = timers(&started);
    assert_eq!(deadlines.iter().map(|t| t.1).collect::<Vec<_>>(), [T0 + 1_010, T0 + 310]);
    // A heartbeat moves the heartbeat deadline; the old timer is stale.
    let hb = r.step(HostInput::TaskHeartbeat { task_id: a1 }, T0 + 200).unwrap();
    let [(moved, at)] = timers(&hb)[..] else { panic!() };
    assert_eq!(at, T0 + 500);
    let stale = r.step(HostInput::TimerFired { timer_id: deadlines[1].0 }, T0 + 310).unwrap();
    assert_eq!(stale, Effects::default());
    let out = r.step(HostInput::TimerFired { timer_id: moved }, at).unwrap();
    assert!(out.commands.contains(&HostCommand::CancelTask { task_id: a1 }), "the late worker's token closes");
    assert_eq!(kinds(&out), ["ActivityStarted", "ActivityTimedOut", "WorkflowTaskScheduled"]);
    // The worker's late answer changes nothing.
    let late = r.step(HostInput::TaskSucceeded { task_id: a1, output: json!(1) }, at + 1).unwrap();
    assert_eq!(late, Effects::default());
}

#[test]
fn schedule_to_close_ends_the_activity_whatever_attempt_runs() {
    let (mut r, e) = run();
    let options = ActivityOptions { schedule_to_close_ms: Some(5_000), ..policy(0) };
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, options)], T0);
    let limit = timers(&e)[0].0;
    let attempt = tasks(&e)[0].0;
    let out = r.step(HostInput::TimerFired { timer_id: limit }, T0 + 5_000).unwrap();
    assert!(out.commands.contains(&HostCommand::CancelTask { task_id: attempt }));
    assert_eq!(kinds(&out), ["ActivityTimedOut", "WorkflowTaskScheduled"]);
}

#[test]
fn a_silent_worker_times_out_and_failures_back_off_recorded_once() {
    let (mut r, e) = run();
    let wt = tasks(&e)[0].0;
    let s = r.step(HostInput::TaskStarted { task_id: wt, at_ms: T0 }, T0).unwrap();
    let [(timeout, at)] = timers(&s)[..] else { panic!() };
    assert_eq!(at, T0 + WORKFLOW_TASK_TIMEOUT_MS);
    let out = r.step(HostInput::TimerFired { timer_id: timeout }, at).unwrap();
    assert_eq!(kinds(&out), ["WorkflowTaskTimedOut"]);
    let again = tasks(&out)[0].0;
    let f = r
        .step(HostInput::TaskFailed { task_id: again, error: "Stepwise.NonDeterminism".into(), cause: "c".into() }, at)
        .unwrap();
    assert_eq!(kinds(&f), ["WorkflowTaskFailed"]);
    let [(retry, retry_at)] = timers(&f)[..] else { panic!() };
    assert_eq!(retry_at, at + 2_000, "the second failure in a row waits 2 s");
    let out = r.step(HostInput::TimerFired { timer_id: retry }, retry_at).unwrap();
    let third = tasks(&out)[0].0;
    let f = r
        .step(
            HostInput::TaskFailed { task_id: third, error: "Stepwise.NonDeterminism".into(), cause: "c".into() },
            retry_at,
        )
        .unwrap();
    assert!(f.events.is_empty(), "the same failure again is not recorded again");
    // Nonsense from a worker is a failed task too, not a crash.
    let out = r.step(HostInput::TimerFired { timer_id: timers(&f)[0].0 }, retry_at + 4_000).unwrap();
    let bad = r
        .step(HostInput::TaskSucceeded { task_id: tasks(&out)[0].0, output: json!({"commands": 3}) }, retry_at + 4_001)
        .unwrap();
    assert_eq!(kinds(&bad), ["WorkflowTaskFailed"]);
    assert_eq!(r.last_task_failure.as_ref().unwrap().0, "Stepwise.MalformedCommands");
}

#[test]
fn cancelled_activities_stop_and_a_terminated_run_closes_everything() {
    let (mut r, e) = run();
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, policy(0)), schedule(2, policy(0))], T0);
    let (a1, a2) = (tasks(&e)[0].0, tasks(&e)[1].0);
    let wt = r.step(HostInput::TaskSucceeded { task_id: a1, output: json!("ok") }, T0 + 1).unwrap();
    let e = answer(&mut r, tasks(&wt)[0].0, vec![Command::CancelActivity { seq: 2 }], T0 + 2);
    assert!(e.commands.contains(&HostCommand::CancelTask { task_id: a2 }));
    assert_eq!(
        kinds(&e),
        ["WorkflowTaskStarted", "WorkflowTaskCompleted", "ActivityCancelRequested", "ActivityCancelled"]
    );
    let t = r.step(HostInput::Terminate { error: Some("Stop".into()), cause: None }, T0 + 3).unwrap();
    assert_eq!(kinds(&t), ["WorkflowTerminated"]);
    assert!(matches!(t.commands.last(), Some(HostCommand::Finish { status: Status::Aborted, .. })));
    assert!(r.step(HostInput::Signal { name: "late".into(), payload: Value::Null }, T0 + 4).is_err());
}

#[test]
fn continue_as_new_starts_a_fresh_history_in_the_same_execution() {
    let (mut r, e) = run();
    let e =
        answer(&mut r, tasks(&e)[0].0, vec![Command::ContinueAsNew { input: json!(2) }, schedule(9, policy(0))], T0);
    assert_eq!(
        kinds(&e),
        [
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowContinuedAsNew",
            "WorkflowStarted",
            "WorkflowTaskScheduled"
        ]
    );
    assert_eq!((r.continued, r.run_first_event, r.run_events()), (1, 6, 2));
    assert_eq!(tasks(&e)[0].2["firstEventId"], 6);
    let e = answer(&mut r, tasks(&e)[0].0, vec![Command::CompleteWorkflow { result: json!("done") }], T0 + 1);
    assert!(matches!(e.commands.last(), Some(HostCommand::Finish { status: Status::Succeeded, .. })));
}

#[test]
fn an_activity_with_no_timeout_fails_the_workflow_task_naming_it() {
    let (mut r, e) = run();
    let unbounded = ActivityOptions { start_to_close_ms: None, schedule_to_close_ms: None, ..policy(0) };
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, unbounded)], T0);
    assert_eq!(kinds(&e), ["WorkflowTaskFailed"], "nothing of the task is carried out");
    let failed = serde_json::to_value(&e.events[0].event).expect("serializes");
    assert_eq!(failed["error"], "Stepwise.ActivityTimeoutMissing");
    assert!(failed["cause"].as_str().expect("a cause").contains("\"charge\""), "{failed}");
    // The default options bound each attempt, so they are taken.
    assert_eq!(ActivityOptions::default().start_to_close_ms, Some(10 * 60 * 1000));
    let retry = timers(&e)[0];
    let e = r.step(HostInput::TimerFired { timer_id: retry.0 }, retry.1).expect("open");
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, ActivityOptions::default())], retry.1);
    assert!(kinds(&e).contains(&"ActivityScheduled".to_string()), "{:?}", kinds(&e));
}

/// Activity timeouts are the workers' (real) time: under the tests' scaled
/// host time they stretch by the scale, as the workflow task timeout does.
#[test]
fn activity_deadlines_are_in_the_workers_time() {
    let (mut r, e) = run();
    r.worker_time_scale = 10;
    let options = ActivityOptions { start_to_close_ms: Some(1_000), heartbeat_ms: Some(300), ..policy(1) };
    let e = answer(&mut r, tasks(&e)[0].0, vec![schedule(1, options)], T0);
    let a1 = tasks(&e)[0].0;
    let started = r.step(HostInput::TaskStarted { task_id: a1, at_ms: T0 }, T0).unwrap();
    assert_eq!(timers(&started).iter().map(|t| t.1).collect::<Vec<_>>(), [T0 + 10_000, T0 + 3_000]);
}
