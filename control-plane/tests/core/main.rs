//! The control plane's core in-process: step planning and what one commit
//! carries, commit races, retention, task token lifecycles and limits, over
//! the simulator's in-memory store on a test-driven clock. (The wire is
//! tested against spawned servers elsewhere.)

mod harness;
mod map_children;
mod schedules;

use std::future::Future;
use std::task::{Context, Poll, Waker};
use stepwise_control_plane::AwsError;

use harness::{Host, host};
use serde_json::{Value, json};
use stepwise_control_plane::Error;
use stepwise_control_plane::store::Write;

fn task(resource: &str, extra: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": resource, "End": true});
    t.as_object_mut().expect("an object").extend(extra.as_object().expect("an object").clone());
    t
}

fn start(h: &Host, machine: &str, name: &str, input: Value) -> String {
    let req = json!({"stateMachineArn": machine, "name": name, "input": input.to_string()});
    h.ok("StartExecution", req)["executionArn"].as_str().expect("an ARN").to_string()
}

/// The transactions that wrote an execution's record, in order.
fn record_commits(h: &Host, arn: &str) -> Vec<Vec<Write>> {
    let pk = format!("EX#{arn}");
    let log = h.store.log.lock().expect("lock");
    log.iter()
        .filter(|tx| tx.iter().any(|w| matches!(w, Write::Put { pk: p, sk, .. } if *p == pk && sk == "META")))
        .cloned()
        .collect()
}

fn has(tx: &[Write], prefix: &str, delete: bool) -> bool {
    tx.iter().any(|w| match w {
        Write::Put { pk, .. } => !delete && pk.starts_with(prefix),
        Write::Delete { pk, .. } => delete && pk.starts_with(prefix),
        Write::Check { .. } => false,
    })
}

#[test]
fn a_step_commits_its_token_timer_and_cleanups_in_one_transaction() {
    let h = host();
    let machine =
        h.machine("one", json!({"StartAt": "T", "States": {"T": task(&h.activity(), json!({"TimeoutSeconds": 60}))}}));
    let arn = start(&h, &machine, "e1", json!({}));
    let commits = record_commits(&h, &arn);
    assert_eq!(commits.len(), 1);
    assert!(
        has(&commits[0], "TOK#", false) && has(&commits[0], "TIMERS#", false),
        "the start carries its token and timer"
    );
    let (token, _) = h.take_task().expect("a task");
    h.ok("SendTaskSuccess", json!({"taskToken": token, "output": "{\"done\":true}"}));
    h.settle(1_000);
    assert_eq!(h.status(&arn), "SUCCEEDED");
    let close = record_commits(&h, &arn).pop().expect("the closing commit");
    assert!(has(&close, "TIMERS#", true), "the close deletes the task's timer in its own commit");
    let left: Vec<String> =
        h.store.inner.all_items().into_iter().filter(|i| i.pk.starts_with("TIMERS#")).map(|i| i.sk).collect();
    assert!(left.is_empty(), "no timer of a closed execution stays indexed: {left:?}");
}

#[test]
fn a_closed_token_refuses_answers_and_heartbeats() {
    let h = host();
    let machine = h.machine("two", json!({"StartAt": "A", "States": {"A": task(&h.activity(), json!({}))}}));
    // Answered once: a second answer is refused.
    let first = start(&h, &machine, "answered", json!({}));
    let (token, _) = h.take_task().expect("a task");
    h.ok("SendTaskSuccess", json!({"taskToken": token, "output": "{}"}));
    let again = h.call("SendTaskFailure", json!({"taskToken": token, "error": "Late"}));
    assert!(matches!(again, Err(Error::Api { kind: AwsError::TaskTimedOut, .. })), "{again:?}");
    h.settle(1_000);
    assert_eq!(h.status(&first), "SUCCEEDED");
    // Its execution stopped: the open task's token closes with it.
    let second = start(&h, &machine, "stopped", json!({}));
    let (token, _) = h.take_task().expect("a task");
    h.ok("StopExecution", json!({"executionArn": second}));
    for (op, req) in [
        ("SendTaskSuccess", json!({"taskToken": token, "output": "{}"})),
        ("SendTaskHeartbeat", json!({"taskToken": token})),
    ] {
        let refused = h.call(op, req);
        assert!(matches!(refused, Err(Error::Api { kind: AwsError::TaskTimedOut, .. })), "{op}: {refused:?}");
    }
    assert_eq!(h.status(&second), "ABORTED");
}

#[test]
fn closed_executions_expire_after_the_retention_period() {
    let h = host();
    let machine = h.machine("three", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let arn = start(&h, &machine, "e1", json!({}));
    let stop_s = (h.world.now_ms()) / 1000;
    let close = record_commits(&h, &arn).pop().expect("a commit");
    let expiry = close.iter().find_map(|w| match w {
        Write::Put { pk, sk, expires_s, .. } if pk.starts_with("EX#") && sk == "META" => *expires_s,
        _ => None,
    });
    let retention_s = stepwise_control_plane::engine::RETENTION_DAYS_DEFAULT * 86_400;
    assert_eq!(expiry, Some(stop_s + retention_s), "AWS keeps a closed execution 90 days");
}

#[test]
fn a_step_over_the_commit_limit_fails_its_execution() {
    let h = host();
    // 200 iterations of 200 KB each: 40 MB of history in one step.
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map",
        "Items": "{% [1..200] %}", "MaxConcurrency": 0, "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": "{% $pad('', 200000, 'x') %}", "End": true}}}}}});
    let machine = h.machine("four", def);
    let arn = start(&h, &machine, "wide", json!({}));
    let out = h.ok("DescribeExecution", json!({"executionArn": arn}));
    assert_eq!(out["status"], "FAILED");
    assert_eq!(out["error"], "States.Runtime");
    assert!(out["cause"].as_str().expect("a cause").contains("the limit is 99"), "{out}");
}

#[test]
fn a_child_start_that_meets_a_store_error_is_retried() {
    // Found by `stepwise simulate`: the parent's task failed with States.Runtime.
    let h = host();
    let child = h.machine("child", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let sync = json!({"Parameters": {"StateMachineArn": child, "Input": {"x": 1}}});
    let parent = h.machine(
        "parent",
        json!({"StartAt": "C", "States": {"C": task("arn:aws:states:::states:startExecution.sync:2", sync)}}),
    );
    let child_pk = format!("EX#{}", child.replace(":stateMachine:", ":execution:"));
    let mut failed = false;
    *h.store.inject.lock().expect("lock") = Some(Box::new(move |writes: &[Write]| {
        let childs = writes.iter().any(|w| matches!(w, Write::Put { pk, .. } if pk.starts_with(&child_pk)));
        (childs && !std::mem::replace(&mut failed, true))
            .then(|| Error::Store("injected: the table is unavailable".into()))
    }));
    let arn = start(&h, &parent, "p1", json!({}));
    h.settle(120_000);
    let out = h.ok("DescribeExecution", json!({"executionArn": arn}));
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
}

#[test]
fn a_task_that_fails_on_every_delivery_fails_and_can_be_caught() {
    // Before: the message was dropped after its last delivery and the execution ran for ever.
    let h = host();
    let child = h.machine("child", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let sync = json!({"Parameters": {"StateMachineArn": child}});
    let start_child = task("arn:aws:states:::states:startExecution.sync:2", sync);
    let mut caught = start_child.clone();
    caught["Catch"] = json!([{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled"}]);
    caught.as_object_mut().expect("an object").remove("End");
    caught["Next"] = json!("Unreachable");
    let states = json!({"C": caught, "Unreachable": {"Type": "Succeed"}, "Handled": {"Type": "Pass", "End": true}});
    let with_catch = h.machine("caught", json!({"StartAt": "C", "States": states}));
    let without = h.machine("plain", json!({"StartAt": "C", "States": {"C": start_child}}));
    let child_pk = format!("EX#{}", child.replace(":stateMachine:", ":execution:"));
    *h.store.inject.lock().expect("lock") = Some(Box::new(move |writes: &[Write]| {
        let childs = writes.iter().any(|w| matches!(w, Write::Put { pk, .. } if pk.starts_with(&child_pk)));
        childs.then(|| Error::Store("injected: the table is unavailable".into()))
    }));
    let plain = start(&h, &without, "p1", json!({}));
    let handled = start(&h, &with_catch, "p2", json!({}));
    h.settle(3_600_000);
    let out = h.ok("DescribeExecution", json!({"executionArn": plain}));
    assert_eq!((out["status"].as_str(), out["error"].as_str()), (Some("FAILED"), Some("States.TaskFailed")), "{out}");
    let cause = out["cause"].as_str().expect("a cause");
    assert!(cause.contains("each of its 20 deliveries") && cause.contains("the table is unavailable"), "{cause}");
    let out = h.ok("DescribeExecution", json!({"executionArn": handled}));
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(out["output"].as_str().expect("output")).expect("JSON")["Error"],
        "States.TaskFailed"
    );
}

/// Polls two futures in turn until both finish: every await of one lets the other run.
fn interleave<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100_000 {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(&mut cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(&mut cx)
        {
            rb = Some(v);
        }
        if let (Some(_), Some(_)) = (&ra, &rb) {
            return (ra.expect("done"), rb.expect("done"));
        }
    }
    panic!("the two did not finish");
}

#[test]
fn two_schedulers_racing_on_one_execution_apply_its_answer_once() {
    let h = host();
    let other = harness::second_engine(&h);
    let machine = h.machine("five", json!({"StartAt": "A", "States": {"A": task(&h.activity(), json!({}))}}));
    let arn = start(&h, &machine, "raced", json!({}));
    let (token, _) = h.take_task().expect("a task");
    h.ok("SendTaskSuccess", json!({"taskToken": token, "output": "{\"v\":1}"}));
    let (a, b) = interleave(h.engine.advance(&arn, None, &[]), other.advance(&arn, None, &[]));
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(h.status(&arn), "SUCCEEDED");
    let history = h.ok("GetExecutionHistory", json!({"executionArn": arn}));
    let events = history["events"].as_array().expect("events");
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().expect("an id")).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "contiguous ids");
    let succeeded = events.iter().filter(|e| e["type"] == "ActivitySucceeded").count();
    assert_eq!(succeeded, 1, "the answer is applied once");
}

#[test]
fn a_hand_out_that_loses_its_race_goes_through_the_inbox() {
    // Two workers take the two branches' tasks at once: both hand-outs try
    // to step the execution, one loses, and its start goes through the inbox.
    let h = host();
    let other = harness::second_engine(&h);
    let branch = |n: &str| json!({"StartAt": n, "States": {n: task(&h.activity(), json!({}))}});
    let parallel = json!({"Type": "Parallel", "Branches": [branch("A"), branch("B")], "End": true});
    let machine = h.machine("two", json!({"StartAt": "P", "States": {"P": parallel}}));
    let arn = start(&h, &machine, "raced", json!({}));
    h.settle(1_000);
    let get = json!({"activityArn": h.activity()});
    let (a, b) = interleave(
        stepwise_control_plane::api::call(&h.engine, "GetActivityTask", get.clone()),
        stepwise_control_plane::api::call(&other, "GetActivityTask", get),
    );
    let tokens: Vec<String> =
        [a, b].into_iter().map(|r| r.expect("a hand-out")["taskToken"].as_str().expect("a task").into()).collect();
    let inbox_starts = h
        .store
        .log
        .lock()
        .expect("lock")
        .iter()
        .flatten()
        .any(|w| matches!(w, Write::Put { pk, sk, .. } if *pk == format!("EX#{arn}") && sk.ends_with("#1s")));
    assert!(inbox_starts, "one hand-out lost its race and wrote an inbox entry");
    h.settle(1_000);
    for token in tokens {
        h.ok("SendTaskSuccess", json!({"taskToken": token, "output": "{}"}));
    }
    h.settle(1_000);
    assert_eq!(h.status(&arn), "SUCCEEDED");
    let history = h.ok("GetExecutionHistory", json!({"executionArn": arn}));
    let events = history["events"].as_array().expect("events");
    let started = events.iter().filter(|e| e["type"] == "ActivityStarted").count();
    assert_eq!(started, 2, "each start recorded once: {history}");
}

#[test]
fn a_signal_sent_again_with_its_request_id_is_delivered_once() {
    let h = host();
    let machine = h.machine("code", json!({"StepwiseWorkflow": {"TaskQueue": "q"}}));
    let arn = start(&h, &machine, "w1", json!({}));
    let signal =
        |request_id: &str| json!({"executionArn": arn, "signalName": "go", "input": "1", "requestId": request_id});
    h.ok("SignalExecution", signal("client-1"));
    h.ok("SignalExecution", signal("client-1")); // a retry whose first answer was lost
    h.ok("SignalExecution", signal("client-2"));
    let inbox =
        h.store.inner.all_items().into_iter().filter(|i| i.pk == format!("EX#{arn}") && i.sk.starts_with("I#")).count();
    assert_eq!(inbox, 2, "two distinct signals, the repeat dropped");
}

#[test]
fn a_cancelled_timer_hops_no_further() {
    // Found under a queue that delivers twice: each hop of a dead timer's
    // chain was sent again, doubling the chain at every 900 s hop.
    let h = host();
    let machine =
        h.machine("sleepy", json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86_400, "End": true}}}));
    let arn = start(&h, &machine, "s1", json!({}));
    h.ok("StopExecution", json!({"executionArn": arn}));
    // Time runs past several hops' worth: the dead chain ends at its first hop.
    h.settle(3 * 3_600_000);
    assert_eq!(h.status(&arn), "ABORTED");
    assert_eq!(h.queue.next_visible_ms(None), None, "no wake-up circulates for the stopped execution");
}
