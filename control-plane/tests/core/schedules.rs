//! Schedules in-process, on the test's clock: one execution per fire time
//! (duplicates, a crash before the fire's commit, a lost message), the
//! catch-up window, each overlap policy, pause, trigger, backfill, the
//! remaining-actions limit, start and end dates and deletion after completion.

use serde_json::{Value, json};
use stepwise_control_plane::Error;
use stepwise_control_plane::engine::workers;
use stepwise_control_plane::sim::run_now;
use stepwise_control_plane::store::Write;

use crate::harness::{Host, host};

const MINUTE_MS: i64 = 60_000;
const ROLE: &str = "arn:aws:iam::123456789012:role/r";

fn pass_machine(h: &Host) -> String {
    h.machine("tick", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
}

/// A machine whose executions run until a worker answers their activity task.
fn waiting_machine(h: &Host) -> String {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": h.activity(), "End": true}}});
    h.machine("wait", def)
}

fn create(h: &Host, name: &str, expression: &str, target: &str, extra: Value) -> String {
    let mut body = json!({"ScheduleExpression": expression, "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": target, "RoleArn": ROLE, "Input": "{\"from\":\"<aws.scheduler.schedule-arn>\",\"at\":\"<aws.scheduler.scheduled-time>\"}"}});
    body.as_object_mut().expect("an object").extend(extra.as_object().expect("an object").clone());
    let out = h.sched("POST", &format!("/schedules/{name}"), body).unwrap_or_else(|e| panic!("{name}: {e}"));
    out["ScheduleArn"].as_str().expect("an ARN").to_string()
}

/// Executions of a machine: (name, status), oldest first.
fn executions(h: &Host, machine: &str) -> Vec<(String, String)> {
    let list = h.ok("ListExecutions", json!({"stateMachineArn": machine}));
    let mut out: Vec<(String, String)> = list["executions"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| (e["name"].as_str().expect("a name").into(), e["status"].as_str().expect("a status").into()))
        .collect();
    out.reverse();
    out
}

fn arn_of(h: &Host, name: &str) -> String {
    h.sched("GET", &format!("/schedules/{name}"), Value::Null).expect("the schedule")["Arn"]
        .as_str()
        .expect("an ARN")
        .to_string()
}

fn state(h: &Host, arn: &str) -> Value {
    h.ok("DescribeScheduleState", json!({"scheduleArn": arn}))
}

#[test]
fn a_rate_schedule_starts_one_named_execution_per_fire() {
    let h = host();
    let machine = pass_machine(&h);
    create(&h, "every-ten", "rate(10 minutes)", &machine, json!({}));
    h.settle(35 * MINUTE_MS);
    let names: Vec<String> = executions(&h, &machine).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "every-ten-20260101T000000Z",
            "every-ten-20260101T001000Z",
            "every-ten-20260101T002000Z",
            "every-ten-20260101T003000Z"
        ],
        "a rate fires at once, then every period, named after the schedule and the scheduled time"
    );
    let input =
        h.ok("DescribeExecution", json!({"executionArn": Scope::default().execution("tick", &names[0], false)}));
    // EventBridge's context attributes are filled in: which schedule, which fire.
    let want =
        r#"{"from":"arn:aws:scheduler:us-east-1:123456789012:schedule/default/every-ten","at":"2026-01-01T00:00:00Z"}"#;
    assert_eq!(input["input"], want);
}

use stepwise_control_plane::arn::Scope;

#[test]
fn a_fire_delivered_twice_or_retried_after_a_crash_starts_one_execution() {
    let h = host();
    let machine = pass_machine(&h);
    create(&h, "once", "cron(0 * * * ? *)", &machine, json!({}));
    let (rec, _) = run_now(h.engine.schedule("default", "once")).expect("a read").expect("the schedule");
    let fire = rec.next_message().expect("a fire is armed");
    h.world.advance_to(fire.due_ms);
    // The fire's commit fails once, after its execution started: a crash between the two.
    let mut failed = false;
    *h.store.inject.lock().expect("lock") = Some(Box::new(move |writes: &[Write]| {
        let commit = writes.iter().any(|w| matches!(w, Write::Put { pk, .. } if pk.starts_with("SCH#")));
        (commit && !std::mem::replace(&mut failed, true)).then(|| Error::Store("injected crash".into()))
    }));
    assert!(run_now(h.engine.on_fire(fire.clone())).is_err(), "the commit failed");
    run_now(h.engine.on_fire(fire.clone())).expect("the redelivery");
    run_now(h.engine.on_fire(fire.clone())).expect("a duplicate delivery");
    assert_eq!(executions(&h, &machine).len(), 1, "one execution for the fire time");
    // The redelivery found the fire's execution closed already: that is the
    // fire done, not a refusal to retry.
    let recent = state(&h, &rec.arn)["recentActions"].clone();
    assert!(recent.as_array().expect("a list").iter().all(|a| a["skipped"].is_null()), "{recent}");
    h.settle(10 * MINUTE_MS);
    assert_eq!(state(&h, &rec.arn)["recentActions"].as_array().map(Vec::len), Some(1), "no retries follow");
    let (rec, _) = run_now(h.engine.schedule("default", "once")).expect("a read").expect("the schedule");
    assert_eq!(rec.next_ms, Some(fire.scheduled_ms + 60 * MINUTE_MS), "the next fire is armed once");
}

#[test]
fn a_lost_fire_message_is_resent_by_the_sweeper() {
    let h = host();
    let machine = pass_machine(&h);
    create(&h, "lost", "cron(30 0 * * ? *)", &machine, json!({}));
    // The fire's message is lost: taken from the queue and never handled.
    h.world.advance_to(h.world.now_ms() + 31 * MINUTE_MS);
    let taken =
        run_now(workers::receive_now(&h.engine, stepwise_control_plane::model::queues::SCHEDULER)).expect("a receive");
    assert_eq!(taken.len(), 1);
    for m in taken {
        run_now(h.queue_delete(&m)).expect("a delete");
    }
    h.world.advance_to(h.world.now_ms() + 2 * MINUTE_MS);
    assert_eq!(run_now(workers::sweep(&h.engine)).expect("a sweep"), 1, "the overdue fire is resent");
    h.settle(MINUTE_MS);
    assert_eq!(executions(&h, &machine).len(), 1);
}

#[test]
fn fires_missed_beyond_the_catch_up_window_are_skipped() {
    for (window_s, want) in [(None, 10), (Some(150), 3)] {
        let h = host();
        let machine = pass_machine(&h);
        let arn = create(&h, "catchup", "cron(* * * * ? *)", &machine, json!({}));
        if let Some(s) = window_s {
            h.ok("UpdateScheduleOptions", json!({"scheduleArn": arn, "catchupWindowSeconds": s}));
        }
        h.settle(0);
        let before = executions(&h, &machine).len();
        // Down for ten minutes: nothing is handled.
        h.world.advance_to(h.world.now_ms() + 10 * MINUTE_MS);
        h.settle(0);
        let started = executions(&h, &machine).len() - before;
        assert_eq!(started, want, "window {window_s:?}");
        if window_s.is_some() {
            let recent = state(&h, &arn)["recentActions"].as_array().expect("a list").clone();
            assert!(
                recent.iter().any(|a| a["skipped"].as_str().is_some_and(|s| s.starts_with("missed"))),
                "{recent:?}"
            );
        }
    }
}

/// (policy, executions started after three fires with the first still running, statuses).
const OVERLAPS: &[(&str, usize, &[&str])] = &[
    ("SKIP", 1, &["RUNNING"]),
    ("ALLOW_ALL", 3, &["RUNNING", "RUNNING", "RUNNING"]),
    ("BUFFER_ONE", 1, &["RUNNING"]),
    ("BUFFER_ALL", 1, &["RUNNING"]),
    ("TERMINATE_OTHER", 3, &["ABORTED", "ABORTED", "RUNNING"]),
    ("CANCEL_OTHER", 2, &["ABORTED", "ABORTED"]),
];

#[test]
fn each_overlap_policy_acts_as_temporal_s_does() {
    for (policy, started, statuses) in OVERLAPS {
        let h = host();
        let machine = waiting_machine(&h);
        let arn = create(&h, "overlap", "rate(1 minute)", &machine, json!({}));
        h.ok("UpdateScheduleOptions", json!({"scheduleArn": arn, "overlapPolicy": policy}));
        h.settle(2 * MINUTE_MS + 1);
        let got = executions(&h, &machine);
        assert_eq!(got.len(), *started, "{policy}: {got:?}");
        let st: Vec<&str> = got.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(st, *statuses, "{policy}");
        let buffered = state(&h, &arn)["bufferedFires"].as_array().expect("a list").len();
        let want_buffered = match *policy {
            "BUFFER_ONE" => 1,
            "BUFFER_ALL" => 2,
            "CANCEL_OTHER" => 1,
            _ => 0,
        };
        assert_eq!(buffered, want_buffered, "{policy}");
    }
}

#[test]
fn buffered_fires_start_when_the_running_execution_closes() {
    let h = host();
    let machine = waiting_machine(&h);
    let arn = create(&h, "buffer", "rate(1 minute)", &machine, json!({}));
    h.ok("UpdateScheduleOptions", json!({"scheduleArn": arn, "overlapPolicy": "BUFFER_ALL"}));
    h.ok("PauseSchedule", json!({"scheduleArn": arn, "note": "hold"}));
    h.ok("UnpauseSchedule", json!({"scheduleArn": arn}));
    h.settle(2 * MINUTE_MS + 1);
    assert_eq!(executions(&h, &machine).len(), 1);
    for n in 2..=3 {
        let (token, _) = h.take_task().expect("a task");
        h.ok("SendTaskSuccess", json!({"taskToken": token, "output": "{}"}));
        h.settle(2_000);
        assert_eq!(executions(&h, &machine).len(), n, "the next buffered fire started");
    }
}

#[test]
fn pause_trigger_backfill_and_remaining_actions() {
    let h = host();
    let machine = pass_machine(&h);
    let arn = create(&h, "hourly", "cron(0 * * * ? *)", &machine, json!({}));
    h.ok("PauseSchedule", json!({"scheduleArn": arn, "note": "maintenance"}));
    h.settle(61 * MINUTE_MS);
    assert!(executions(&h, &machine).is_empty(), "paused: no fire starts");
    let s = state(&h, &arn);
    assert_eq!(s["paused"], true);
    assert_eq!(s["note"], "maintenance");
    assert_eq!(s["recentActions"][0]["skipped"], "paused: maintenance");
    h.ok("UnpauseSchedule", json!({"scheduleArn": arn}));
    let t = h.ok("TriggerSchedule", json!({"scheduleArn": arn}));
    assert!(t["executionArn"].is_string(), "{t}");
    // Backfill the three hours before the start, twice: the same three executions.
    let start_s = (h.world.now_ms() - 4 * 60 * MINUTE_MS) as f64 / 1000.0;
    let end_s = (h.world.now_ms() - 60 * MINUTE_MS) as f64 / 1000.0;
    for _ in 0..2 {
        let b = h.ok("BackfillSchedule", json!({"scheduleArn": arn, "startDate": start_s, "endDate": end_s}));
        assert_eq!(b["actions"].as_array().expect("a list").len(), 3, "{b}");
    }
    assert_eq!(executions(&h, &machine).len(), 4, "a trigger and three backfilled hours");
    h.ok("UpdateScheduleOptions", json!({"scheduleArn": arn, "remainingActions": 2}));
    h.settle(5 * 60 * MINUTE_MS);
    assert_eq!(executions(&h, &machine).len(), 6, "two more, then no remaining actions");
    assert_eq!(state(&h, &arn)["remainingActions"], 0);
}

#[test]
fn start_and_end_dates_bound_the_fires_and_a_finished_schedule_can_delete_itself() {
    let h = host();
    let machine = pass_machine(&h);
    let now_s = h.world.now_ms() / 1000;
    let extra = json!({"StartDate": now_s + 3600, "EndDate": now_s + 3 * 3600});
    create(&h, "bounded", "rate(1 hour)", &machine, extra);
    h.settle(10 * 60 * MINUTE_MS);
    let names: Vec<String> = executions(&h, &machine).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["bounded-20260101T010000Z", "bounded-20260101T020000Z", "bounded-20260101T030000Z"]);
    create(&h, "one-time", "at(2026-01-01T12:00:00)", &machine, json!({"ActionAfterCompletion": "DELETE"}));
    h.settle(12 * 60 * MINUTE_MS);
    assert!(executions(&h, &machine).iter().any(|(n, _)| n == "one-time-20260101T120000Z"));
    let gone = h.sched("GET", "/schedules/one-time", Value::Null);
    assert!(
        matches!(gone, Err(Error::Api { kind: stepwise_control_plane::AwsError::SchedulerResourceNotFound, .. })),
        "{gone:?}"
    );
}

#[test]
fn a_disabled_schedule_does_not_fire_until_enabled() {
    let h = host();
    let machine = pass_machine(&h);
    let body = |state: &str| {
        json!({"ScheduleExpression": "rate(5 minutes)", "State": state, "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": machine, "RoleArn": ROLE}})
    };
    h.sched("POST", "/schedules/toggled", body("DISABLED")).expect("created");
    h.settle(30 * MINUTE_MS);
    assert!(executions(&h, &machine).is_empty());
    h.sched("PUT", "/schedules/toggled", body("ENABLED")).expect("updated");
    h.settle(MINUTE_MS);
    assert_eq!(executions(&h, &machine).len(), 1);
}

#[test]
fn a_flexible_window_delays_a_fire_within_it_and_keeps_the_scheduled_name() {
    let h = host();
    let machine = pass_machine(&h);
    create(
        &h,
        "flex",
        "cron(0 1 * * ? *)",
        &machine,
        json!({"FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}}),
    );
    h.settle(2 * 60 * MINUTE_MS);
    let list = h.ok("ListExecutions", json!({"stateMachineArn": machine}));
    let e = &list["executions"][0];
    assert_eq!(e["name"], "flex-20260101T010000Z");
    let started_ms = (e["startDate"].as_f64().expect("a date") * 1000.0) as i64;
    let scheduled_ms = stepwise_control_plane::sim::world::EPOCH_MS + 60 * MINUTE_MS;
    assert!((scheduled_ms..scheduled_ms + 30 * MINUTE_MS).contains(&started_ms), "started {started_ms}");
}

#[test]
fn a_refused_fire_is_retried_and_then_given_up_as_its_retry_policy_says() {
    let h = host();
    let machine = pass_machine(&h);
    let body = json!({"ScheduleExpression": "cron(0 1 * * ? *)", "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": machine, "RoleArn": ROLE, "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}}});
    let arn = h.sched("POST", "/schedules/refused", body).expect("created")["ScheduleArn"]
        .as_str()
        .expect("an ARN")
        .to_string();
    // The target goes away before the fire: refused, retried after 1 s and 2 s, then given up.
    h.ok("DeleteStateMachine", json!({"stateMachineArn": machine}));
    h.settle(61 * MINUTE_MS);
    let recent = state(&h, &arn)["recentActions"].as_array().expect("a list").clone();
    let notes: Vec<&str> = recent.iter().map(|a| a["skipped"].as_str().unwrap_or("")).collect();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].contains("StateMachineDoesNotExist") && notes[0].ends_with("retry 1 at 2026-01-01T01:00:01Z"),
        "{notes:?}"
    );
    assert!(notes[1].ends_with("retry 2 at 2026-01-01T01:00:03Z"), "{notes:?}");
    assert!(notes[2].ends_with("given up (MaximumRetryAttemptsExhausted)"), "{notes:?}");
    // A target back within the policy's retries: the retry starts the fire's execution.
    let machine = pass_machine(&h);
    let body = json!({"ScheduleExpression": "cron(0 3 * * ? *)", "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": machine, "RoleArn": ROLE}});
    h.sched("POST", "/schedules/back", body).expect("created");
    h.ok("DeleteStateMachine", json!({"stateMachineArn": machine}));
    // Just past the 3:00 fire, refused; its first retry is due a second later.
    let past_three = stepwise_control_plane::sim::world::EPOCH_MS + 3 * 60 * MINUTE_MS + 500;
    h.settle(past_three - h.world.now_ms());
    assert!(
        state(&h, &arn_of(&h, "back"))["recentActions"][0]["skipped"].as_str().is_some_and(|s| s.contains("retry 1"))
    );
    let machine = pass_machine(&h);
    h.settle(10 * MINUTE_MS);
    let names: Vec<String> = executions(&h, &machine).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["back-20260101T030000Z"], "the retry started the 3:00 fire, named for it");
}
