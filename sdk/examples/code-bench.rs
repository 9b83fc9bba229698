//! Code workflows on a running Stepwise API: how many workflow tasks a
//! second, and how long a 3-activity workflow takes from start to end.
//!
//! `cargo run --release -p stepwise-sdk --features worker --example code-bench -- \
//!     http://127.0.0.1:8083 [EXECUTIONS] [CONCURRENCY] [remote|local] [STEPS] [sticky|whole]`
//!
//! One process runs the worker (its activities return at once) and the
//! load: CONCURRENCY executions in flight, each started, then awaited.
//! Latency is the server's own: DescribeExecution's stopDate − startDate.
//! `remote` (the default) runs the three steps as activities through the
//! task queue; `local` runs them as local activities inside the workflow
//! task, recorded as markers: the like-for-like shape of Restate's `ctx.run`.
//! STEPS (default 3) makes the run longer: its history grows by a few events
//! a step, which is where the worker's sticky cache pays. `whole` turns the
//! cache off, so every workflow task replays the whole history.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{ActivityError, ActivityOptions, Worker, WorkflowContext, WorkflowError};

/// How long one execution may take before the run is called off.
const EXECUTION_WAIT: Duration = Duration::from_secs(60);

async fn three_steps(ctx: WorkflowContext, n: u64) -> Result<u64, WorkflowError> {
    let a: u64 = ctx.activity("add", &n).await?;
    let b: u64 = ctx.activity("add", &a).await?;
    Ok(ctx.activity("add", &b).await?)
}

async fn three_local_steps(ctx: WorkflowContext, n: u64) -> Result<u64, WorkflowError> {
    let a: u64 = ctx.local_activity("add", &n, ActivityOptions::default()).await?;
    let b: u64 = ctx.local_activity("add", &a, ActivityOptions::default()).await?;
    Ok(ctx.local_activity("add", &b, ActivityOptions::default()).await?)
}

/// `steps` remote activities in a row: a history that grows with each.
async fn many_steps(ctx: WorkflowContext, (n, steps): (u64, u64)) -> Result<u64, WorkflowError> {
    let mut v = n;
    for _ in 0..steps {
        v = ctx.activity("add", &v).await?;
    }
    Ok(v)
}

/// How many steps a run takes at most (its history stays under the server's bound).
const STEPS_MAX: u64 = 1_000;

/// Where the three steps run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Steps {
    Remote,
    Local,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8083".into());
    let executions: usize = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let concurrency: usize = args.get(3).map_or(Ok(16), |s| s.parse())?;
    let steps = match args.get(4).map(String::as_str) {
        None | Some("remote") => Steps::Remote,
        Some("local") => Steps::Local,
        Some(other) => return Err(format!("the fourth argument is remote or local, not {other}").into()),
    };
    let length: u64 = args.get(5).map_or(Ok(3), |s| s.parse())?;
    if !(1..=STEPS_MAX).contains(&length) || (length != 3 && steps == Steps::Local) {
        return Err(format!("STEPS is 1 to {STEPS_MAX}, and other than 3 only for remote steps").into());
    }
    let sticky = match args.get(6).map(String::as_str) {
        None | Some("sticky") => true,
        Some("whole") => false,
        Some(other) => return Err(format!("the sixth argument is sticky or whole, not {other}").into()),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, run(endpoint, executions, concurrency, steps, length, sticky))
}

async fn run(
    endpoint: String,
    executions: usize,
    concurrency: usize,
    steps: Steps,
    length: u64,
    sticky: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new(&endpoint);
    let (kind, queue) = match steps {
        Steps::Remote if length != 3 => ("bench-long", "bench-long"),
        Steps::Remote => ("bench3", "bench"),
        Steps::Local => ("bench3-local", "bench-local"),
    };
    let machine = client.register_workflow_type(kind, queue).await?;
    let mut worker = Worker::new(Client::new(&endpoint), queue).workflow_pollers(8);
    if !sticky {
        worker = worker.sticky_cache(0, 0);
    }
    match steps {
        Steps::Remote if length != 3 => worker.register_workflow(kind, many_steps),
        Steps::Remote => worker.register_workflow(kind, three_steps),
        Steps::Local => worker.register_workflow(kind, three_local_steps),
    }
    worker.register_activity("add", |n: u64| async move { Ok::<_, ActivityError>(n + 1) });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving =
        tokio::task::spawn_local(async move { worker.run_until(async move { stopped.await.unwrap_or(()) }).await });
    let run_id = std::process::id();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(executions);
    // The client's own time: StartExecution's round trip, and start to result seen.
    let mut client_ms = (0.0, 0.0, 0.0);
    let mut next = 0usize;
    let mut running = futures::stream::FuturesUnordered::new();
    use futures::StreamExt;
    while next < executions || !running.is_empty() {
        while next < executions && running.len() < concurrency {
            let c = client.clone();
            let (m, name) = (machine.clone(), format!("b{run_id}-{next}"));
            running.push(async move {
                let t0 = Instant::now();
                let arn = if length == 3 {
                    c.start(&m, &name, &next).await?
                } else {
                    c.start(&m, &name, &(next, length)).await?
                };
                let t1 = Instant::now();
                match c.result(&arn, EXECUTION_WAIT).await? {
                    Some(Ok(_)) => {}
                    other => return Err(format!("{arn}: {other:?}").into()),
                }
                let t2 = Instant::now();
                let d: Value = c.describe(&arn).await?;
                let ms = (d["stopDate"].as_f64().unwrap_or(0.0) - d["startDate"].as_f64().unwrap_or(0.0)) * 1000.0;
                let client = (
                    (t1 - t0).as_secs_f64() * 1000.0,
                    (t2 - t1).as_secs_f64() * 1000.0,
                    t2.elapsed().as_secs_f64() * 1000.0,
                );
                Ok::<(f64, (f64, f64, f64)), Box<dyn std::error::Error>>((ms, client))
            });
            next += 1;
        }
        if let Some(r) = running.next().await {
            let (ms, (start_ms, wait_ms, describe_ms)) = r?;
            latencies.push(ms);
            client_ms.0 += start_ms;
            client_ms.1 += wait_ms;
            client_ms.2 += describe_ms;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = serving.await;
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    // Remote: a workflow task for the start and one per activity's result; local: one.
    let tasks_per_execution = if steps == Steps::Local { 1.0 } else { length as f64 + 1.0 };
    let report = json!({
        "executions": executions,
        "concurrency": concurrency,
        "activities": if steps == Steps::Local { "local" } else { "remote" },
        "steps": length,
        "cache": if sticky { "sticky" } else { "whole" },
        "seconds": secs,
        "executions_per_s": executions as f64 / secs,
        "workflow_tasks_per_s": tasks_per_execution * executions as f64 / secs,
        "p50_ms": at(0.5),
        "p99_ms": at(0.99),
        "client_start_ms_avg": client_ms.0 / executions as f64,
        "client_wait_ms_avg": client_ms.1 / executions as f64,
        "client_describe_ms_avg": client_ms.2 / executions as f64,
    });
    println!("{report}");
    Ok(())
}
