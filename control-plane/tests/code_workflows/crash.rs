//! Crashes: the server killed with `kill -9` mid-workflow and restarted on
//! its address, a worker that dies holding an activity, and a deploy whose
//! code no longer matches the histories it replays. Every workflow
//! completes, each activity completed exactly once as its history records.

use std::time::Duration;

use serde_json::json;
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{ActivityOptions, Event, RetryPolicy, Worker, WorkflowContext, WorkflowError};
use tokio::sync::oneshot;

use super::common::{Server, eventually, temp_dir};
use super::workflows::Calls;
use super::{RESULT_WAIT, count};

fn options() -> ActivityOptions {
    ActivityOptions {
        retry: RetryPolicy { initial_interval_ms: 100, ..RetryPolicy::default() },
        start_to_close_ms: Some(1_500),
        ..Default::default()
    }
}

/// Three steps with a durable pause between the first two.
async fn pipeline(ctx: WorkflowContext, n: u32) -> Result<u32, WorkflowError> {
    let a: u32 = ctx.activity_with("step1", &n, options()).await?;
    ctx.sleep(Duration::from_millis(200)).await;
    let b: u32 = ctx.activity_with("step2", &a, options()).await?;
    Ok(ctx.activity_with("step3", &b, options()).await?)
}

/// A worker; with `hang`, its step2 never finishes, as if the worker died in it.
fn pipeline_worker(endpoint: &str, calls: &Calls, hang: bool) -> Worker {
    let mut w = Worker::new(Client::new(endpoint), "crash");
    w.register_workflow("pipeline", pipeline);
    for step in ["step1", "step2", "step3"] {
        let c = calls.clone();
        w.register_activity(step, move |n: u32| {
            c.add(step);
            let hangs = hang && step == "step2";
            async move {
                if hangs {
                    futures::future::pending::<()>().await;
                }
                Ok(n + 1)
            }
        });
    }
    w
}

/// A worker serving on this thread's `LocalSet`.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// A deploy: the worker shuts down gracefully.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the worker stops");
    }

    /// A crash: the worker is gone mid-whatever, its polls left dangling.
    fn kill(self) {
        self.task.abort();
    }
}

fn spawn(w: Worker) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::task::spawn_local(async move { w.run_until(async move { stopped.await.unwrap_or(()) }).await });
    Running { stop, task }
}

fn completions(h: &[Event]) -> Vec<(u64, u32)> {
    h.iter()
        .filter_map(|e| match e {
            Event::ActivityCompleted { seq, attempts, .. } => Some((*seq, *attempts)),
            _ => None,
        })
        .collect()
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("addr").to_string()
}

#[tokio::test]
async fn a_server_killed_mid_workflow_loses_nothing_and_runs_nothing_twice() {
    let addr = free_addr();
    let server = Server::start_with(&temp_dir("code-kill-server"), &["--listen", &addr]);
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("pipeline", "crash").await.unwrap();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let _worker = spawn(pipeline_worker(&server.endpoint, &calls, false));
            let mut arns = Vec::new();
            for i in 0..10 {
                arns.push(client.start(&machine, &format!("p{i}"), &i).await.unwrap());
            }
            eventually("some progress", || async { (calls.get("step1") >= 5).then_some(()) }).await;
            let server = Server::start_with(&server.kill9(), &["--listen", &addr]);
            for (i, arn) in arns.iter().enumerate() {
                let r = client.result(arn, RESULT_WAIT).await.unwrap().expect("closed");
                assert_eq!(r, Ok(json!(i + 3)));
                let h = client.history(arn).await.unwrap();
                let done = completions(&h);
                assert_eq!(done.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), [1, 3, 4], "each step once");
                assert_eq!(count(&h, |e| matches!(e, Event::WorkflowCompleted { .. })), 1);
            }
            drop(server);
        })
        .await;
    assert!(calls.get("step3") >= 10);
}

#[tokio::test]
async fn a_worker_that_dies_holding_an_activity_is_replaced() {
    let server = Server::start(&temp_dir("code-kill-worker"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("pipeline", "crash").await.unwrap();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let dying = spawn(pipeline_worker(&server.endpoint, &calls, true));
            let arns: Vec<String> = futures::future::join_all((0..3).map(|i| {
                let c = client.clone();
                let m = machine.clone();
                async move { c.start(&m, &format!("w{i}"), &i).await.unwrap() }
            }))
            .await;
            eventually("the dying worker to hold every step2", || async { (calls.get("step2") >= 3).then_some(()) })
                .await;
            dying.kill();
            let _worker = spawn(pipeline_worker(&server.endpoint, &calls, false));
            for arn in &arns {
                // The dead worker's polls may have taken tasks: they come back after their timeouts.
                let r = client.result(arn, 2 * RESULT_WAIT).await.unwrap().expect("closed");
                assert!(r.is_ok(), "{r:?}");
                let h = client.history(arn).await.unwrap();
                // step2's first attempt timed out (start-to-close), and so did any
                // a dangling poll of the dead worker took; a later one completed, once.
                let done = completions(&h);
                assert_eq!(done.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), [1, 3, 4]);
                let attempt = done[1].1;
                assert!(attempt >= 2, "{done:?}");
                assert!(h.contains(&Event::ActivityStarted { seq: 3, attempt }));
            }
        })
        .await;
}

async fn greet_v1(ctx: WorkflowContext, who: String) -> Result<String, WorkflowError> {
    let hello: String = ctx.activity("hello", &who).await?;
    ctx.sleep(Duration::from_millis(300)).await;
    let bye: String = ctx.activity("bye", &who).await?;
    Ok(format!("{hello}, {bye}"))
}

/// A changed deploy: it greets in French first, which old histories never did.
async fn greet_v2(ctx: WorkflowContext, who: String) -> Result<String, WorkflowError> {
    let hello: String = ctx.activity("bonjour", &who).await?;
    Ok(hello)
}

fn greeter(endpoint: &str, v2: bool) -> Worker {
    let mut w = Worker::new(Client::new(endpoint), "crash");
    if v2 {
        w.register_workflow("greet", greet_v2);
    } else {
        w.register_workflow("greet", greet_v1);
    }
    for a in ["hello", "bye", "bonjour"] {
        w.register_activity(a, move |who: String| async move { Ok(format!("{a} {who}")) });
    }
    w
}

#[tokio::test]
async fn a_changed_deploy_is_caught_and_a_fixed_one_carries_on() {
    let server = Server::start(&temp_dir("code-nondeterminism"));
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("greet", "crash").await.unwrap();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let v1 = spawn(greeter(&server.endpoint, false));
            let arn = client.start(&machine, "g1", &"ada").await.unwrap();
            eventually("the timer", || async {
                let h = client.history(&arn).await.unwrap();
                h.iter().any(|e| matches!(e, Event::TimerStarted { .. })).then_some(())
            })
            .await;
            v1.stop().await;
            let v2 = spawn(greeter(&server.endpoint, true));
            let failure = eventually("the non-determinism", || async {
                let d = client.call("DescribeWorkflowExecution", json!({"executionArn": arn})).await.unwrap();
                d.get("lastWorkflowTaskFailure").cloned()
            })
            .await;
            assert_eq!(failure["error"], "Stepwise.NonDeterminism");
            assert!(failure["cause"].as_str().unwrap().contains("bonjour"), "{failure}");
            v2.stop().await;
            let _fixed = spawn(greeter(&server.endpoint, false));
            let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
            assert_eq!(r, Ok(json!("hello ada, bye ada")));
            let h = client.history(&arn).await.unwrap();
            assert_eq!(count(&h, |e| matches!(e, Event::WorkflowTaskFailed { .. })), 1);
        })
        .await;
}

async fn unbounded(ctx: WorkflowContext, who: String) -> Result<String, WorkflowError> {
    let options = ActivityOptions { start_to_close_ms: None, schedule_to_close_ms: None, ..ActivityOptions::default() };
    ctx.activity_with("hello", &who, options).await.map_err(WorkflowError::from)
}

/// An activity with no timeout would be waited on for ever if its worker died:
/// the workflow task fails, naming it, and nothing is scheduled.
#[tokio::test]
async fn an_activity_without_a_timeout_fails_its_workflow_task() {
    let server = Server::start(&temp_dir("code-unbounded"));
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("unbounded", "unbounded").await.unwrap();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let mut w = Worker::new(Client::new(&server.endpoint), "unbounded");
            w.register_workflow("unbounded", unbounded);
            w.register_activity("hello", |who: String| async move { Ok(format!("hello {who}")) });
            let worker = spawn(w);
            let arn = client.start(&machine, "u1", &"ada").await.unwrap();
            let failure = eventually("the refused task", || async {
                let d = client.call("DescribeWorkflowExecution", json!({"executionArn": arn})).await.unwrap();
                d.get("lastWorkflowTaskFailure").cloned()
            })
            .await;
            assert_eq!(failure["error"], "Stepwise.ActivityTimeoutMissing");
            assert!(failure["cause"].as_str().unwrap().contains("\"hello\""), "{failure}");
            let h = client.history(&arn).await.unwrap();
            assert_eq!(count(&h, |e| matches!(e, Event::ActivityScheduled { .. })), 0);
            worker.stop().await;
        })
        .await;
}
