//! Sticky workflow tasks on a real server: the worker that ran a run's last
//! task keeps its replayed state and gets the next task with only the events
//! since; another worker gets it after the sticky wait, with them all; a
//! worker whose cache lost the run reads the whole history itself.

use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{ActivityError, Event, Worker, WorkflowContext, WorkflowError};

use super::RESULT_WAIT;
use super::common::{Server, temp_dir};

async fn steps(ctx: WorkflowContext, n: u64) -> Result<u64, WorkflowError> {
    let mut v = n;
    for _ in 0..3 {
        v = ctx.activity("add", &v).await?;
    }
    let _: () = ctx.signal("go").await?;
    Ok(ctx.activity("add", &v).await?)
}

fn worker(endpoint: &str, runs: usize) -> Worker {
    let mut w = Worker::new(Client::new(endpoint), "sticky").sticky_cache(runs, 1 << 20);
    w.register_workflow("steps", steps);
    w.register_activity("add", |n: u64| async move { Ok::<_, ActivityError>(n + 1) });
    w
}

/// Runs `w` on the local set until `stop` is sent.
fn serve(local: &tokio::task::LocalSet, w: Rc<Worker>) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    local.spawn_local(async move { w.run_until(async move { stopped.await.unwrap_or(()) }).await });
    stop
}

/// Waits until the run waits for its signal: three activities done, and
/// the workflow task after the third answered.
async fn waiting_for_go(client: &Client, arn: &str) {
    for _ in 0..600 {
        let h = client.history(arn).await.expect("history");
        let done = h.iter().filter(|e| matches!(e, Event::ActivityCompleted { .. })).count();
        if done == 3 && matches!(h.last(), Some(Event::WorkflowTaskCompleted {})) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{arn} never came to wait for its signal");
}

/// Messages on workers' own queues of sticky tasks, read from the server's database.
fn sticky_messages(dir: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open_with_flags(dir.join("stepwise.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the server's database");
    db.query_row("SELECT COUNT(*) FROM messages WHERE queue LIKE '%sticky#worker-%'", [], |r| r.get(0))
        .expect("a count")
}

#[tokio::test]
async fn the_worker_that_keeps_a_run_gets_its_next_tasks_and_another_gets_them_after_the_wait() {
    let dir = temp_dir("code-sticky");
    let server = Server::start(&dir);
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("steps", "sticky").await.expect("register");
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let a = Rc::new(worker(&server.endpoint, 100));
            let stop_a = serve(&local, a.clone());
            let arn = client.start(&machine, "s1", &1).await.expect("start");
            waiting_for_go(&client, &arn).await;
            let s = a.sticky_stats();
            assert_eq!((s.misses, s.hits, s.runs), (1, 3, 1), "one whole replay, then three sticky tasks: {s:?}");
            // A goes away keeping the run; B takes its next task after the sticky wait.
            let _ = stop_a.send(());
            let b = Rc::new(worker(&server.endpoint, 100));
            let _stop_b = serve(&local, b.clone());
            client.signal(&arn, "go", &()).await.expect("signal");
            let r = client.result(&arn, RESULT_WAIT).await.expect("result").expect("closed");
            assert_eq!(r.expect("succeeded"), json!(5));
            // B's first task came whole (a miss); it then kept the run, so its last came sticky.
            let s = b.sticky_stats();
            assert_eq!((s.misses, s.hits, s.runs), (1, 1, 0), "a closed run is not kept: {s:?}");
            // The task waiting on A's queue was taken from there, and deleted, once it went stale.
            assert_eq!(sticky_messages(&dir), 0, "no message is left on a worker's own queue");
        })
        .await;
}

#[tokio::test]
async fn a_run_evicted_from_the_cache_is_read_whole_and_runs_on() {
    let server = Server::start(&temp_dir("code-sticky-evict"));
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("steps", "sticky").await.expect("register");
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            // One run kept at most: two runs at once push each other out.
            let w = Rc::new(worker(&server.endpoint, 1));
            let _stop = serve(&local, w.clone());
            let arns = [
                client.start(&machine, "e1", &1).await.expect("start"),
                client.start(&machine, "e2", &10).await.expect("start"),
            ];
            for arn in &arns {
                waiting_for_go(&client, arn).await;
            }
            for arn in &arns {
                client.signal(arn, "go", &()).await.expect("signal");
            }
            let results: Vec<_> = futures::future::join_all(arns.iter().map(|a| client.result(a, RESULT_WAIT))).await;
            let outputs: Vec<_> =
                results.into_iter().map(|r| r.expect("result").expect("closed").expect("ok")).collect();
            assert_eq!(outputs, [json!(5), json!(14)]);
            let s = w.sticky_stats();
            assert!(s.runs <= 1, "{s:?}");
            assert!(s.misses >= 2, "each run replayed whole at least once: {s:?}");
        })
        .await;
}

#[tokio::test]
async fn a_worker_restarted_under_its_name_reads_the_history_whole_and_runs_on() {
    let server = Server::start(&temp_dir("code-sticky-restart"));
    let client = Client::new(&server.endpoint);
    let machine = client.register_workflow_type("steps", "sticky").await.expect("register");
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let a = Rc::new(worker(&server.endpoint, 100).named("w-fixed"));
            let stop_a = serve(&local, a.clone());
            let arn = client.start(&machine, "r1", &1).await.expect("start");
            waiting_for_go(&client, &arn).await;
            let _ = stop_a.send(());
            // The same name, nothing kept: the next task comes to it sticky,
            // with only the events since, and it reads the rest itself.
            let again = Rc::new(worker(&server.endpoint, 100).named("w-fixed"));
            let _stop = serve(&local, again.clone());
            client.signal(&arn, "go", &()).await.expect("signal");
            let r = client.result(&arn, RESULT_WAIT).await.expect("result").expect("closed");
            assert_eq!(r.expect("succeeded"), json!(5), "the payloads read back from the history are values");
            let s = again.sticky_stats();
            assert!(s.misses >= 1 && s.hits >= 1, "a miss read whole, then kept: {s:?}");
            let h = client.history(&arn).await.expect("history");
            let failed: Vec<_> = h.iter().filter(|e| matches!(e, Event::WorkflowTaskFailed { .. })).collect();
            assert!(failed.is_empty(), "the history read whole replays as the task's would: {failed:?}");
        })
        .await;
}
