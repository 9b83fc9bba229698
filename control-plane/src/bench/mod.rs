//! `stepwise bench`: a load generator for the embedded server. It starts a
//! server process on a fresh data dir, drives it over HTTP with a workload
//! (`map`: a 5-state workflow around a 10-item Map; `activities`: three
//! activity Tasks answered by workers that long-poll GetActivityTask), and
//! reports executions per second, start-to-finish latency percentiles and
//! the server's memory over time.

// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]

mod conn;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::Error;
use conn::Conn;

/// The benchmark workflow: five top-level states, one a Map over ten items.
pub const WORKFLOW: &str = r#"{"StartAt":"Prepare","States":{
 "Prepare":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 10, 1)","id.$":"$.id"},"Next":"Each"},
 "Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Square","States":{
   "Square":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($, $)"},"End":true}}},"ResultPath":"$.squares","Next":"Check"},
 "Check":{"Type":"Choice","Choices":[{"Variable":"$.squares[9].n","NumericEquals":20,"Next":"Shape"}],"Default":"Bad"},
 "Shape":{"Type":"Pass","Parameters":{"id.$":"$.id","count.$":"States.ArrayLength($.squares)"},"Next":"Done"},
 "Bad":{"Type":"Fail","Error":"Wrong"},
 "Done":{"Type":"Succeed"}}}"#;

/// The activities workload: three activity Tasks in a row.
fn activities_workflow(activity: &str) -> String {
    let task = |next: &str| {
        let end = if next.is_empty() { json!({"End": true}) } else { json!({"Next": next}) };
        let mut t = json!({"Type": "Task", "Resource": activity, "Parameters": {"id.$": "$.id"}});
        t.as_object_mut().expect("a state is an object").extend(end.as_object().cloned().expect("an object"));
        t
    };
    json!({"StartAt": "One", "States": {"One": task("Two"), "Two": task("Three"), "Three": task("")}}).to_string()
}

/// What the benchmark's executions run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Five states around a 10-item inline Map, all internal.
    Map,
    /// Three activity Tasks, answered by the benchmark's own workers.
    Activities,
}

/// How a benchmark client waits for its execution to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Wait {
    /// AwaitExecution (the server's default wait): one long poll, answered at the close.
    Await,
    /// DescribeExecution back to back, as the first harness did: the polls
    /// then load the server as much as the work does.
    Poll,
}

/// How long an execution may take before it counts as stuck.
const EXECUTION_WAIT_MAX: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Options {
    pub executions: usize,
    pub concurrency: usize,
    pub data_dir: PathBuf,
    pub server_binary: PathBuf,
    pub workload: Workload,
    /// Activity workers (the activities workload), each on its own connection.
    pub workers: usize,
    pub wait: Wait,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs the benchmark and prints its report; gives the report as JSON.
pub async fn run(opts: Options) -> Result<Value, Error> {
    let _ = std::fs::remove_dir_all(&opts.data_dir);
    let mut child = tokio::process::Command::new(&opts.server_binary)
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--log-json",
            "--log-level",
            "warn,stepwise_control_plane::server=info",
            "--data-dir",
        ])
        .arg(&opts.data_dir)
        .stderr(std::process::Stdio::piped())
        // Its banner is for people; the report on this process's stdout is JSON.
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().unwrap_or(0);
    let mut lines = BufReader::new(child.stderr.take().ok_or_else(|| Error::Store("no stderr".into()))?).lines();
    let mut addr = None;
    while let Some(line) = lines.next_line().await? {
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["fields"]["message"] == "stepwise server ready"
        {
            addr = v["fields"]["listen"].as_str().map(str::to_string);
            break;
        }
    }
    let addr = addr.ok_or_else(|| Error::Store("the server did not start".into()))?;
    // The server logs warnings and errors only: pass them on, the report stays on stdout.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("server: {line}");
        }
    });

    let (machine, workers) = setup(&addr, &opts).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let rss_start = rss_kib(pid);
    let mut rss_samples = vec![(0usize, rss_start)];
    let mut clients = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (addr, machine, next, total, wait) =
            (addr.clone(), machine.clone(), next.clone(), opts.executions, opts.wait);
        clients.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await?;
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, Error>(lat);
                }
                let t0 = Instant::now();
                let s = conn.call("StartExecution", &json!({"stateMachineArn": machine, "name": format!("e{i}"), "input": json!({"id": i}).to_string()})).await?;
                let arn = s["executionArn"].as_str().unwrap_or_default().to_string();
                let (operation, request) = match wait {
                    Wait::Await => ("AwaitExecution", json!({"executionArn": arn})),
                    Wait::Poll => ("DescribeExecution", json!({"executionArn": arn})),
                };
                loop {
                    let d = conn.call(operation, &request).await?;
                    WAITS.fetch_add(1, Ordering::Relaxed);
                    match d["status"].as_str() {
                        Some("SUCCEEDED") => break,
                        Some("RUNNING") if t0.elapsed() < EXECUTION_WAIT_MAX => {}
                        other => return Err(Error::Store(format!("{arn} ended {other:?}"))),
                    }
                }
                lat.push(t0.elapsed());
            }
        }));
    }
    // Sample memory while the load runs.
    let sampler = {
        let next = next.clone();
        let total = opts.executions;
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut mark = total / 10;
            while next.load(Ordering::Relaxed) < total {
                let done = next.load(Ordering::Relaxed);
                if done >= mark {
                    samples.push((done, rss_kib(pid)));
                    mark += total / 10;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            samples
        })
    };
    let mut lat = Vec::with_capacity(opts.executions);
    for c in clients {
        lat.extend(c.await.map_err(|e| Error::Store(e.to_string()))??);
    }
    let elapsed = started.elapsed();
    let answered = stop_workers(workers).await?;
    rss_samples.extend(sampler.await.unwrap_or_default());
    rss_samples.push((opts.executions, rss_kib(pid)));
    lat.sort();
    let report = json!({
        "workload": format!("{:?}", opts.workload).to_lowercase(),
        "activity_tasks_answered": answered,
        "executions": opts.executions,
        "concurrency": opts.concurrency,
        "seconds": elapsed.as_secs_f64(),
        "executions_per_second": opts.executions as f64 / elapsed.as_secs_f64(),
        "wait": format!("{:?}", opts.wait).to_lowercase(),
        // Polling back to back, this is how much of the server's load is the clients' waiting.
        "wait_calls_per_execution": WAITS.load(Ordering::Relaxed) as f64 / opts.executions as f64,
        "latency_ms": {
            "p50": percentile(&lat, 0.50).as_secs_f64() * 1000.0,
            "p99": percentile(&lat, 0.99).as_secs_f64() * 1000.0,
            "max": lat.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        },
        "server_rss_kib": rss_samples.iter().map(|(n, r)| json!({"after": n, "kib": r})).collect::<Vec<_>>(),
    });
    let _ = child.kill().await;
    Ok(report)
}

/// Creates the workload's state machine (and activity, with its workers).
async fn setup(addr: &str, opts: &Options) -> Result<(String, Vec<Worker>), Error> {
    let mut c = Conn::open(addr).await?;
    let (definition, workers) = match opts.workload {
        Workload::Map => (WORKFLOW.to_string(), Vec::new()),
        Workload::Activities => {
            let act = c.call("CreateActivity", &json!({"name": "bench-work"})).await?;
            let act = act["activityArn"].as_str().ok_or_else(|| Error::Store("no activity ARN".into()))?.to_string();
            let workers = (0..opts.workers.max(1)).map(|i| worker(addr.to_string(), act.clone(), i)).collect();
            (activities_workflow(&act), workers)
        }
    };
    let created = c
        .call(
            "CreateStateMachine",
            &json!({"name": "bench", "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/bench"}),
        )
        .await?;
    let machine = created["stateMachineArn"].as_str().ok_or_else(|| Error::Store("no state machine ARN".into()))?;
    Ok((machine.to_string(), workers))
}

type Worker = tokio::task::JoinHandle<Result<(), Error>>;

/// Calls the clients made while waiting (AwaitExecution or DescribeExecution).
static WAITS: AtomicUsize = AtomicUsize::new(0);

/// Tasks the workers answered, shared by them all.
static ANSWERED: AtomicUsize = AtomicUsize::new(0);

/// An activity worker: long-polls GetActivityTask and answers each task at once.
fn worker(addr: String, activity: String, i: usize) -> Worker {
    tokio::spawn(async move {
        let mut conn = Conn::open(&addr).await?;
        let poll = json!({"activityArn": activity, "workerName": format!("bench-{i}")});
        loop {
            let task = conn.call("GetActivityTask", &poll).await?;
            let Some(token) = task["taskToken"].as_str() else { continue };
            let output = task["input"].as_str().unwrap_or("{}");
            // Counted before the call: the server applies an answer before it
            // responds, so a client can see the last execution succeed and the
            // workers be stopped while this one still waits for its response
            // (CI saw 179 of 180). An answer that fails fails the benchmark.
            ANSWERED.fetch_add(1, Ordering::Relaxed);
            conn.call("SendTaskSuccess", &json!({"taskToken": token, "output": output})).await?;
        }
    })
}

/// Stops the workers (they would wait in a long poll) and gives how many
/// tasks they answered; a worker that failed fails the benchmark.
async fn stop_workers(workers: Vec<Worker>) -> Result<usize, Error> {
    for w in workers {
        if w.is_finished() {
            w.await.map_err(|e| Error::Store(e.to_string()))??;
        } else {
            w.abort();
        }
    }
    Ok(ANSWERED.load(Ordering::Relaxed))
}
