//! Eager activities on a real server: an answer to a workflow task brings
//! the activity tasks it schedules on the worker's task queue, started, so
//! no poll is needed; a task the worker then loses runs again after its
//! start-to-close timeout, as a polled one would; the bound is enforced.

use std::time::Duration;

use serde_json::{Value, json};
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::history::{ActivityOptions, Command, RetryPolicy};
use stepwise_sdk::workflow::{ActivityError, Event, Worker, WorkflowContext, WorkflowError};

use super::RESULT_WAIT;
use super::common::{Server, temp_dir};

async fn three(ctx: WorkflowContext, n: u64) -> Result<u64, WorkflowError> {
    let mut v = n;
    for _ in 0..3 {
        v = ctx.activity("add", &v).await?;
    }
    Ok(v)
}

#[tokio::test]
async fn an_answer_brings_the_activity_tasks_it_schedules() {
    let server = Server::start(&temp_dir("code-eager"));
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("three", "eager").await.expect("register");
    let mut w = Worker::new(Client::new(&server.endpoint), "eager");
    w.register_workflow("three", three);
    w.register_activity("add", |n: u64| async move { Ok::<_, ActivityError>(n + 1) });
    let local = tokio::task::LocalSet::new();
    let w = std::rc::Rc::new(w);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = w.clone();
    local.spawn_local(async move { serving.run_until(async move { stopped.await.unwrap_or(()) }).await });
    local
        .run_until(async {
            let arn = client.start(&machine, "e1", &1).await.expect("start");
            let r = client.result(&arn, RESULT_WAIT).await.expect("result").expect("closed");
            assert_eq!(r.expect("succeeded"), json!(4));
            assert_eq!(w.eager_activities(), 3, "each activity came with the answer that scheduled it");
            let h = client.history(&arn).await.expect("history");
            let completed = h.iter().filter(|e| matches!(e, Event::ActivityCompleted { attempts: 1, .. })).count();
            assert_eq!(completed, 3, "each ran once: {h:?}");
        })
        .await;
    let _ = stop.send(());
}

/// Takes the run's first workflow task over the wire.
async fn first_workflow_task(client: &Client) -> String {
    for _ in 0..100 {
        let t = client.call("PollWorkflowTask", json!({"taskQueue": "lost", "workerName": "w1"})).await.expect("poll");
        if let Some(token) = t["taskToken"].as_str() {
            return token.to_string();
        }
    }
    panic!("no workflow task came");
}

#[tokio::test]
async fn an_eager_task_the_worker_loses_runs_again_after_its_timeout() {
    let server = Server::start(&temp_dir("code-eager-lost"));
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("lost", "lost").await.expect("register");
    let arn = client.start(&machine, "l1", &1).await.expect("start");
    let token = first_workflow_task(&client).await;
    let retry = RetryPolicy { max_attempts: 2, initial_interval_ms: 10, ..RetryPolicy::default() };
    let options = ActivityOptions { retry, start_to_close_ms: Some(1_000), ..ActivityOptions::default() };
    let schedule = Command::ScheduleActivity { seq: 1, name: "add".into(), input: json!(1), options };
    let answer = |eager: u64| json!({"taskToken": token, "commands": [schedule.clone()], "timeMs": 0, "workerName": "w1", "eagerActivities": eager});
    // Past the bound: refused, and nothing applied.
    let refused = client.call("RespondWorkflowTaskCompleted", answer(17)).await.expect_err("17 is past the bound");
    assert!(refused.to_string().contains("eagerActivities"), "{refused}");
    let out = client.call("RespondWorkflowTaskCompleted", answer(1)).await.expect("answered");
    let tasks = out["activityTasks"].as_array().expect("a list");
    assert_eq!((tasks.len(), &tasks[0]["attempt"]), (1, &json!(1)), "{out}");
    // The worker loses it. Its start-to-close timeout passes, and a poll gets attempt 2.
    let lost = tasks[0]["taskToken"].as_str().expect("a token").to_string();
    let again: Value = poll_activity(&client).await;
    assert_eq!(again["attempt"], json!(2), "{again}");
    let late = client.call("SendTaskSuccess", json!({"taskToken": lost, "output": "2"})).await;
    assert!(late.is_err(), "the lost attempt's answer is refused");
    let h = client.history(&arn).await.expect("history");
    assert!(h.iter().any(|e| matches!(e, Event::ActivityScheduled { .. })), "{h:?}");
}

async fn poll_activity(client: &Client) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        let t = client.call("PollActivityTask", json!({"taskQueue": "lost", "workerName": "w2"})).await.expect("poll");
        if t.get("taskToken").is_some() {
            return t;
        }
    }
    panic!("no activity task came again");
}
