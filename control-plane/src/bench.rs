//! `stepwise bench`: a load generator for the embedded server. It starts a
//! server process on a fresh data dir, drives it over HTTP with a 5-state
//! workflow around a 10-item Map, and reports executions per second,
//! start-to-finish latency percentiles and the server's memory over time.

// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::Error;

/// The benchmark workflow: five top-level states, one a Map over ten items.
pub const WORKFLOW: &str = r#"{"StartAt":"Prepare","States":{
 "Prepare":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 10, 1)","id.$":"$.id"},"Next":"Each"},
 "Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Square","States":{
   "Square":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($, $)"},"End":true}}},"ResultPath":"$.squares","Next":"Check"},
 "Check":{"Type":"Choice","Choices":[{"Variable":"$.squares[9].n","NumericEquals":20,"Next":"Shape"}],"Default":"Bad"},
 "Shape":{"Type":"Pass","Parameters":{"id.$":"$.id","count.$":"States.ArrayLength($.squares)"},"Next":"Done"},
 "Bad":{"Type":"Fail","Error":"Wrong"},
 "Done":{"Type":"Succeed"}}}"#;

/// Bytes of one response the client reads at most.
const RESPONSE_BYTES_MAX: usize = 1024 * 1024;
/// Describe polls per execution before it counts as stuck.
const POLLS_MAX: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Options {
    pub executions: usize,
    pub concurrency: usize,
    pub data_dir: PathBuf,
    pub server_binary: PathBuf,
}

/// One keep-alive HTTP/1.1 connection speaking AWS JSON 1.0.
struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(addr: &str) -> Result<Conn, Error> {
        Ok(Conn { stream: BufReader::new(TcpStream::connect(addr).await?), host: addr.to_string() })
    }

    async fn call(&mut self, op: &str, body: &Value) -> Result<Value, Error> {
        let body = body.to_string();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut len = 0usize;
        let mut status = String::new();
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(Error::Store("the server closed the connection".into()));
            }
            if status.is_empty() {
                status = line.clone();
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        if len > RESPONSE_BYTES_MAX {
            return Err(Error::Limit(format!("a response of {len} bytes")));
        }
        let mut buf = vec![0; len];
        self.stream.read_exact(&mut buf).await?;
        let v: Value = serde_json::from_slice(&buf).map_err(|e| Error::Store(e.to_string()))?;
        if !status.contains(" 200 ") {
            return Err(Error::Store(format!("{op}: {}", v)));
        }
        Ok(v)
    }
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
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let mut c = Conn::open(&addr).await?;
    let machine = c
        .call(
            "CreateStateMachine",
            &json!({"name": "bench", "definition": WORKFLOW, "roleArn": "arn:aws:iam::123456789012:role/bench"}),
        )
        .await?["stateMachineArn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let rss_start = rss_kib(pid);
    let mut rss_samples = vec![(0usize, rss_start)];
    let mut workers = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (addr, machine, next, total) = (addr.clone(), machine.clone(), next.clone(), opts.executions);
        workers.push(tokio::spawn(async move {
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
                let mut polls = 0;
                loop {
                    let d = conn.call("DescribeExecution", &json!({"executionArn": arn})).await?;
                    match d["status"].as_str() {
                        Some("SUCCEEDED") => break,
                        Some("RUNNING") if polls < POLLS_MAX => polls += 1,
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
    for w in workers {
        lat.extend(w.await.map_err(|e| Error::Store(e.to_string()))??);
    }
    let elapsed = started.elapsed();
    rss_samples.extend(sampler.await.unwrap_or_default());
    rss_samples.push((opts.executions, rss_kib(pid)));
    lat.sort();
    let report = json!({
        "executions": opts.executions,
        "concurrency": opts.concurrency,
        "seconds": elapsed.as_secs_f64(),
        "executions_per_second": opts.executions as f64 / elapsed.as_secs_f64(),
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
