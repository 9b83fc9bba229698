//! Code workflows on `stepwise server`: a real server process, real workers
//! of `stepwise-sdk` polling its task queues over HTTP, and aws-sdk-sfn for
//! the Step Functions operations (describe, list, history, stop).

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod cancellation;
mod cli;
#[path = "../common/mod.rs"]
mod common;
mod console;
mod crash;
mod eager;
mod sticky;
mod traces;
mod workflows;

use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use common::{Server, finished, temp_dir};
use serde_json::json;
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::Event;
use stepwise_sdk::workflow::history::RunInfo;
use workflows::{Calls, Order, worker};

const RESULT_WAIT: Duration = Duration::from_secs(30);

/// Runs `body` with a worker serving `queue` beside it (same thread: workflow code is not `Send`).
async fn with_worker<T, F: std::future::Future<Output = T>>(endpoint: &str, calls: &Calls, body: F) -> T {
    let local = tokio::task::LocalSet::new();
    let w = worker(endpoint, calls);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    local.spawn_local(async move { w.run_until(async move { stopped.await.unwrap_or(()) }).await });
    let out = local.run_until(body).await;
    let _ = stop.send(());
    out
}

fn count(h: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    h.iter().filter(|e| f(e)).count()
}

#[tokio::test]
async fn the_order_saga_runs_on_the_server_through_workers() {
    let server = Server::start(&temp_dir("code-saga"));
    let client = Client::new(&server.endpoint);
    let sfn = server.client();
    let calls = Calls::default();
    let machine = client.register_workflow_type("order", "shop").await.unwrap();
    // Registering again is idempotent; the type is a state machine like any other.
    assert_eq!(client.register_workflow_type("order", "shop").await.unwrap(), machine);
    let described = sfn.describe_state_machine().state_machine_arn(&machine).send().await.unwrap();
    assert!(described.definition.contains("StepwiseWorkflow"));
    // Malformed code definitions are refused with AWS's error type.
    for (definition, kind) in [
        (r#"{"StepwiseWorkflow": {"TaskQueue": "no spaces allowed"}}"#, "STANDARD"),
        (r#"{"StepwiseWorkflow": {"TaskQueue": "q", "Extra": 1}}"#, "STANDARD"),
        (r#"{"StepwiseWorkflow": {"TaskQueue": "q"}}"#, "EXPRESS"),
    ] {
        let e = sfn
            .create_state_machine()
            .name("bad")
            .definition(definition)
            .role_arn(common::ROLE)
            .r#type(kind.into())
            .send()
            .await
            .unwrap_err();
        assert!(
            ["InvalidDefinition", "ValidationException"].contains(&common::error_code(&e).as_str()),
            "{definition}"
        );
    }
    with_worker(&server.endpoint, &calls, async {
        let ok = client.start(&machine, "ok", &Order::new("o1", true)).await.unwrap();
        let out = client.start(&machine, "out", &Order::new("o2", false)).await.unwrap();
        // A repeated start of a running execution is idempotent.
        assert_eq!(client.start(&machine, "ok", &Order::new("o1", true)).await.unwrap(), ok);
        let r = client.result(&ok, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r, Ok(json!("order o1 confirmed")));
        let r = client.result(&out, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r.unwrap_err().error, "OutOfStock");
        let h = client.history(&out).await.unwrap();
        let names: Vec<String> = h
            .iter()
            .filter_map(|e| match e {
                Event::ActivityScheduled { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["create_order", "charge", "reserve", "refund", "cancel_order"]);
        assert_eq!(count(&h, |e| matches!(e, Event::ActivityCompleted { .. } | Event::ActivityFailed { .. })), 5);
        // The Step Functions API sees the same executions.
        let d = finished(&sfn, &ok).await;
        assert_eq!(d.status, ExecutionStatus::Succeeded);
        assert_eq!(d.output.as_deref(), Some(r#""order o1 confirmed""#));
        let d = finished(&sfn, &out).await;
        assert_eq!((d.status, d.error.as_deref()), (ExecutionStatus::Failed, Some("OutOfStock")));
        // A published version of the type starts executions like the type itself.
        let v1 = sfn.publish_state_machine_version().state_machine_arn(&machine).send().await.unwrap();
        let by_version = client.start(&v1.state_machine_version_arn, "v1", &Order::new("o3", true)).await.unwrap();
        let r = client.result(&by_version, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r, Ok(json!("order o3 confirmed")));
        let listed = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap().executions;
        assert_eq!(listed.len(), 3);
        let events = sfn.get_execution_history().execution_arn(&ok).send().await.unwrap().events;
        assert_eq!(events.len(), client.history(&ok).await.unwrap().len());
        assert_eq!(events[0].id, 1);
    })
    .await;
    assert_eq!(calls.get("charge"), 3, "each activity ran once per execution");
}

#[tokio::test]
async fn signals_queries_updates_timers_and_stops() {
    let server = Server::start(&temp_dir("code-signals"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("approval", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&machine, "a1", &json!({"limit": 100})).await.unwrap();
        common::eventually("the query handler", || async {
            client.query::<String>(&arn, "status").await.ok().filter(|s| s == "waiting")
        })
        .await;
        // The validator refuses; nothing is recorded. (The string-named form.)
        let e = client.update::<_, u32>(&arn, "raise", &1000).await.unwrap_err();
        assert!(e.to_string().contains("UpdateRejected"), "{e}");
        // The typed form: the payload and answer types come from the declaration.
        let limit = client.update_as::<workflows::Raise>(&arn, &150).await.unwrap();
        assert_eq!(limit, 150);
        assert_eq!(client.query_as::<workflows::Status>(&arn).await.unwrap(), "waiting");
        client.signal(&arn, "approve", &"ada").await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r, Ok(json!({"approved_by": "ada", "limit": 150})));
        let h = client.history(&arn).await.unwrap();
        assert_eq!(count(&h, |e| matches!(e, Event::UpdateAccepted { .. })), 1, "the rejected update left no trace");
        assert_eq!(count(&h, |e| matches!(e, Event::TimerStarted { .. })), 1);

        // A short durable sleep fires through the server's timers.
        let sleeper = client.start(&machine, "a2", &json!({"limit": 1, "timeout_ms": 200})).await.unwrap();
        let r = client.result(&sleeper, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r.unwrap_err().error, "NotApproved");

        // Cancellation is the code's to handle; StopExecution ends a run at once.
        let c = client.start(&machine, "a3", &json!({"limit": 1})).await.unwrap();
        client.cancel(&c).await.unwrap();
        let r = client.result(&c, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r.unwrap_err().error, "Cancelled");
        let s = client.start(&machine, "a4", &json!({"limit": 1})).await.unwrap();
        client.terminate(&s, "no longer needed").await.unwrap();
        assert_eq!(client.describe(&s).await.unwrap()["status"], "ABORTED");
        let e = client.signal(&s, "approve", &"late").await.unwrap_err();
        assert!(e.to_string().contains("ExecutionNotRunning"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn retries_children_and_continue_as_new() {
    let server = Server::start(&temp_dir("code-children"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    // The children's type, `order`, is not registered here: the worker
    // registers the types it serves when it starts.
    let batch = client.register_workflow_type("batch", "shop").await.unwrap();
    let counter = client.register_workflow_type("counter", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&batch, "b1", &vec!["c1", "c2"]).await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r, Ok(json!(["order c1 confirmed", "order c2 confirmed"])));
        let h = client.history(&arn).await.unwrap();
        assert_eq!(count(&h, |e| matches!(e, Event::ChildCompleted { .. })), 2);
        // The flaky activity failed twice and was retried by the server.
        let attempts = h.iter().find_map(|e| match e {
            Event::ActivityCompleted { attempts, .. } => Some(*attempts),
            _ => None,
        });
        assert_eq!(attempts, Some(3));

        let arn = client.start(&counter, "n1", &0u32).await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r, Ok(json!(5)));
        let d = client.call("DescribeWorkflowExecution", json!({"executionArn": arn})).await.unwrap();
        assert_eq!(d["continuedAsNew"], 5);
        assert_eq!(d["historyLength"], 10, "each run's history stays short: {d}");
        // Every run's events stay in the execution's history.
        let all = client.history(&arn).await.unwrap();
        assert_eq!(count(&all, |e| matches!(e, Event::WorkflowStarted { .. })), 6);
        assert_eq!(count(&all, |e| matches!(e, Event::WorkflowContinuedAsNew { .. })), 5);
    })
    .await;
}

/// `ctx.info()` on the server: the execution, its run under continue-as-new,
/// its type and task queue, and a child's parent.
#[tokio::test]
async fn a_run_knows_itself_on_the_server() {
    let server = Server::start(&temp_dir("code-info"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let curious = client.register_workflow_type("curious", "shop").await.unwrap();
    client.register_workflow_type("introspect", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&curious, "q1", &0u32).await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed").expect("succeeded");
        let me: RunInfo = serde_json::from_value(r["me"].clone()).unwrap();
        assert_eq!((me.execution_arn.as_str(), me.execution_name.as_str()), (arn.as_str(), "q1"));
        assert_eq!((me.workflow_type.as_str(), me.task_queue.as_str(), me.run, me.attempt), ("curious", "shop", 2, 1));
        assert_eq!(me.previous_run_id, Some(RunInfo::run_id(&arn, 1)));
        assert!(me.started_ms > 0 && me.parent_execution_arn.is_none(), "{me:?}");
        let child: RunInfo = serde_json::from_value(r["child"].clone()).unwrap();
        assert_eq!((child.execution_name.as_str(), child.run), ("curious-kid", 1));
        assert_eq!(child.parent_execution_arn.as_deref(), Some(arn.as_str()));
    })
    .await;
}

/// An API that checks SigV4 signatures: a signed client and worker are
/// served; an unsigned or wrongly signed one is refused.
#[tokio::test]
async fn workers_sign_their_calls_for_an_api_that_checks_signatures() {
    const KEY: (&str, &str) = ("AKIASTEPWISECODE0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSTEPWISE03");
    let creds = format!("{}:{}", KEY.0, KEY.1);
    let server = Server::start_env(&temp_dir("code-sigv4"), &["--auth", "sigv4"], &[("STEPWISE_CREDENTIALS", &creds)]);
    let e = Client::new(&server.endpoint).register_workflow_type("order", "shop").await.unwrap_err();
    assert!(e.to_string().starts_with("MissingAuthenticationTokenException"), "{e}");
    let wrong = Client::new(&server.endpoint).signed("us-east-1", KEY.0, "not-the-secret-not-the-secret-not-the-se");
    let e = wrong.register_workflow_type("order", "shop").await.unwrap_err();
    assert!(e.to_string().starts_with("InvalidSignatureException"), "{e}");
    let client = Client::new(&server.endpoint).signed("us-east-1", KEY.0, KEY.1);
    let machine = client.register_workflow_type("order", "shop").await.unwrap();
    let calls = Calls::default();
    let local = tokio::task::LocalSet::new();
    let mut w = worker(&server.endpoint, &calls);
    w = w.with_client(client.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    local.spawn_local(async move { w.run_until(async move { stopped.await.unwrap_or(()) }).await });
    local
        .run_until(async {
            let arn = client.start(&machine, "signed", &Order::new("o9", true)).await.unwrap();
            let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
            assert_eq!(r, Ok(json!("order o9 confirmed")));
        })
        .await;
    let _ = stop.send(());
}

#[tokio::test]
async fn heartbeats_local_activities_and_cancelled_scopes() {
    let server = Server::start(&temp_dir("code-beats"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let beats = client.register_workflow_type("beats", "shop").await.unwrap();
    let race = client.register_workflow_type("race", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&beats, "b1", &()).await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        // Heartbeats kept a 1 s attempt alive past its 400 ms heartbeat timeout;
        // the silent attempt timed out and the second one answered.
        assert_eq!(r, Ok(json!({"price": 40, "long": 1, "silent": 2})));
        let h = client.history(&arn).await.unwrap();
        assert!(h.iter().any(|e| matches!(e, Event::MarkerRecorded { name, .. } if name == "LocalActivity:price")));
        assert_eq!(calls.get("price"), 1, "the local activity ran once, in the worker");

        let arn = client.start(&race, "r1", &300u64).await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r.unwrap_err().error, "DeadlinePassed");
        let h = client.history(&arn).await.unwrap();
        assert_eq!(count(&h, |e| matches!(e, Event::ActivityCancelRequested { .. })), 1);
        assert_eq!(count(&h, |e| matches!(e, Event::ActivityCancelled { .. })), 1);
        // The worker learns from its next heartbeat that the attempt is over, and stops.
        common::eventually("the upload to stop", || async { (calls.get("slow_upload_stopped") == 1).then_some(()) })
            .await;
    })
    .await;
}
