//! Metrics: every name, label and bucket in one place, recorded through the
//! `metrics` facade (a no-op until a recorder is installed), and rendered as
//! Prometheus text at `stepwise server`'s `GET /metrics`.
//!
//! Labels are bounded: no execution ARN or name is ever a label. A state
//! machine's label is its unqualified ARN and an activity's or task's is its
//! resource, so series grow with the resources a deployment defines, never
//! with its executions; an API operation outside the known ones is `other`.

pub mod emf;
pub mod traces;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::Error;

/// Seconds, for latencies from a millisecond to a day.
const LATENCY_BUCKETS_S: [f64; 14] =
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0, 3_600.0, 86_400.0];
/// Items in one group commit.
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// What one committed step did, counted from its events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepCounts {
    pub transitions: u64,
    pub tasks_scheduled: u64,
    pub tasks_timed_out: u64,
    pub tasks_heartbeat_timed_out: u64,
}

/// The process's side of telemetry: the Prometheus handle (when this
/// process serves /metrics), readiness and open connections.
#[derive(Default)]
pub struct Telemetry {
    prometheus: Option<PrometheusHandle>,
    /// In a Lambda: what each invocation's EMF lines are taken from.
    emf: Option<metrics_util::debugging::Snapshotter>,
    ready: AtomicBool,
    connections: AtomicI64,
}

impl Telemetry {
    /// Installs the Prometheus recorder for this process.
    pub fn prometheus() -> Result<Telemetry, Error> {
        let handle = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS_S)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_batch_size".into()),
                    &BATCH_BUCKETS,
                )
            })
            .map_err(|e| Error::Config(format!("metrics: {e}")))?
            .install_recorder()
            .map_err(|e| Error::Config(format!("metrics: {e}")))?;
        describe();
        gauge!("stepwise_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        Ok(Telemetry { prometheus: Some(handle), ..Telemetry::default() })
    }

    /// Installs the EMF recorder for this process (a Lambda).
    pub fn emf() -> Result<Telemetry, Error> {
        Ok(Telemetry { emf: Some(emf::install()?), ..Telemetry::default() })
    }

    /// Writes what this invocation recorded as EMF lines on stdout, where
    /// Lambda sends them to CloudWatch Logs (and CloudWatch makes metrics).
    pub fn flush_emf(&self, now_ms: i64) {
        let Some(s) = &self.emf else { return };
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        for line in emf::lines(s, now_ms) {
            // A closed stdout loses metrics, never the invocation.
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// A connection opened (`+1`) or closed (`-1`).
    pub fn connection(&self, delta: i64) {
        let now = self.connections.fetch_add(delta, Ordering::AcqRel) + delta;
        gauge!("stepwise_open_connections").set(now as f64);
    }

    /// The Prometheus text, or `None` where this process does not serve it.
    pub fn render(&self, process: &ProcessGauges) -> Option<String> {
        let handle = self.prometheus.as_ref()?;
        gauge!("stepwise_uptime_seconds").set(process.uptime_s);
        if let Some(rss) = process.rss_bytes {
            gauge!("stepwise_resident_memory_bytes").set(rss as f64);
        }
        if let Some(db) = process.database_bytes {
            gauge!("stepwise_store_database_bytes").set(db as f64);
        }
        Some(handle.render())
    }
}

/// What the host measures of its process at scrape time.
pub struct ProcessGauges {
    pub uptime_s: f64,
    pub rss_bytes: Option<u64>,
    pub database_bytes: Option<u64>,
}

/// A metric's kind, for its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric this module records, with its kind and help text
/// (histograms add `_bucket`, `_sum` and `_count` in the exposition): the
/// Grafana dashboard may name only these, and each is described once.
pub const METRICS: [(&str, Kind, &str); 28] = [
    ("stepwise_executions_started_total", Kind::Counter, "Executions started, by state machine"),
    ("stepwise_executions_succeeded_total", Kind::Counter, "Executions that succeeded"),
    ("stepwise_executions_failed_total", Kind::Counter, "Executions that failed"),
    ("stepwise_executions_aborted_total", Kind::Counter, "Executions stopped (aborted)"),
    ("stepwise_executions_timed_out_total", Kind::Counter, "Executions that timed out"),
    ("stepwise_executions_redriven_total", Kind::Counter, "Executions redriven"),
    ("stepwise_execution_duration_seconds", Kind::Histogram, "Start to close of closed executions"),
    ("stepwise_state_transitions_total", Kind::Counter, "States entered"),
    (
        "stepwise_tasks_total",
        Kind::Counter,
        "Task events by event: scheduled, started, succeeded, failed, timed_out, heartbeat_timed_out",
    ),
    ("stepwise_task_schedule_to_start_seconds", Kind::Histogram, "Scheduled to handed out, by resource"),
    ("stepwise_task_run_seconds", Kind::Histogram, "Handed out to answered, by resource"),
    ("stepwise_task_schedule_to_close_seconds", Kind::Histogram, "Scheduled to answered, by resource"),
    ("stepwise_api_requests_total", Kind::Counter, "API requests by operation and error type (none: answered)"),
    ("stepwise_api_request_duration_seconds", Kind::Histogram, "API request latency by operation"),
    ("stepwise_store_commit_seconds", Kind::Histogram, "Latency of one store transaction"),
    ("stepwise_store_commit_conflicts_total", Kind::Counter, "Steps retried after losing a commit race"),
    ("stepwise_store_group_commit_batch_size", Kind::Histogram, "Transactions in one group commit (embedded store)"),
    ("stepwise_queue_messages", Kind::Gauge, "Messages in the embedded store's queues (due, delayed and in flight)"),
    ("stepwise_queue_oldest_due_age_seconds", Kind::Gauge, "How long the oldest due message has waited"),
    ("stepwise_workflow_task_failures_total", Kind::Counter, "Code workflow tasks a worker failed"),
    (
        "stepwise_workflow_task_schedule_to_start_seconds",
        Kind::Histogram,
        "Workflow task scheduled to handed to a worker, by task queue",
    ),
    (
        "stepwise_workflow_task_execution_seconds",
        Kind::Histogram,
        "Workflow task handed out to answered (the worker's replay and code), by task queue",
    ),
    (
        "stepwise_workflow_nondeterminism_total",
        Kind::Counter,
        "Workflow tasks failed because replay found changed code",
    ),
    ("stepwise_uptime_seconds", Kind::Gauge, "Seconds since the process started"),
    ("stepwise_build_info", Kind::Gauge, "The build's version (label), always 1"),
    ("stepwise_resident_memory_bytes", Kind::Gauge, "Resident memory of the process"),
    ("stepwise_open_connections", Kind::Gauge, "Open HTTP connections"),
    ("stepwise_store_database_bytes", Kind::Gauge, "Size of the embedded database files"),
];

pub(crate) fn describe() {
    for (name, kind, help) in METRICS {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

/// The label of a state machine: its ARN without a version or alias qualifier.
fn machine_label(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(8, ':').collect();
    parts.iter().take(7).copied().collect::<Vec<_>>().join(":")
}

pub fn execution_started(machine_arn: &str) {
    counter!("stepwise_executions_started_total", "state_machine_arn" => machine_label(machine_arn)).increment(1);
}

pub fn execution_redriven(machine_arn: &str) {
    counter!("stepwise_executions_redriven_total", "state_machine_arn" => machine_label(machine_arn)).increment(1);
}

/// A step committed: its transitions and task events, and the close if it closed.
pub fn step_committed(machine_arn: &str, counts: StepCounts, closed: Option<(&str, i64)>) {
    if counts.transitions > 0 {
        counter!("stepwise_state_transitions_total").increment(counts.transitions);
    }
    for (event, n) in [
        ("scheduled", counts.tasks_scheduled),
        ("timed_out", counts.tasks_timed_out),
        ("heartbeat_timed_out", counts.tasks_heartbeat_timed_out),
    ] {
        if n > 0 {
            counter!("stepwise_tasks_total", "event" => event).increment(n);
        }
    }
    let Some((status, duration_ms)) = closed else { return };
    let machine = machine_label(machine_arn);
    let name = match status {
        "SUCCEEDED" => "stepwise_executions_succeeded_total",
        "FAILED" => "stepwise_executions_failed_total",
        "ABORTED" => "stepwise_executions_aborted_total",
        "TIMED_OUT" => "stepwise_executions_timed_out_total",
        _ => return,
    };
    counter!(name, "state_machine_arn" => machine.clone()).increment(1);
    histogram!("stepwise_execution_duration_seconds", "state_machine_arn" => machine)
        .record(duration_ms.max(0) as f64 / 1000.0);
}

/// The task queue of a code workflow's workflow task, named by its resource.
fn workflow_task_queue(resource: &str) -> Option<String> {
    resource.strip_prefix(WORKFLOW_TASK_RESOURCE).map(str::to_string)
}

/// Workflow tasks' resources: `stepwise:workflow-task:<queue>` (`workflow-core`'s constant).
const WORKFLOW_TASK_RESOURCE: &str = stepwise_workflow_core::host::WORKFLOW_TASK_RESOURCE;

/// A worker or integration took a task `waited_ms` after it was scheduled.
pub fn task_started(resource: &str, waited_ms: Option<i64>) {
    counter!("stepwise_tasks_total", "event" => "started").increment(1);
    if let (Some(queue), Some(ms)) = (workflow_task_queue(resource), waited_ms) {
        histogram!("stepwise_workflow_task_schedule_to_start_seconds", "task_queue" => queue)
            .record(ms.max(0) as f64 / 1000.0);
    }
    if let Some(ms) = waited_ms {
        histogram!("stepwise_task_schedule_to_start_seconds", "resource" => resource.to_string())
            .record(ms.max(0) as f64 / 1000.0);
    }
}

/// A task was answered: `succeeded`, after `run_ms` handed out and `total_ms` since scheduled.
pub fn task_answered(resource: &str, succeeded: bool, run_ms: Option<i64>, total_ms: Option<i64>) {
    counter!("stepwise_tasks_total", "event" => if succeeded { "succeeded" } else { "failed" }).increment(1);
    if let (Some(queue), Some(ms)) = (workflow_task_queue(resource), run_ms) {
        histogram!("stepwise_workflow_task_execution_seconds", "task_queue" => queue).record(ms.max(0) as f64 / 1000.0);
    }
    if let Some(ms) = run_ms {
        histogram!("stepwise_task_run_seconds", "resource" => resource.to_string()).record(ms.max(0) as f64 / 1000.0);
    }
    if let Some(ms) = total_ms {
        histogram!("stepwise_task_schedule_to_close_seconds", "resource" => resource.to_string())
            .record(ms.max(0) as f64 / 1000.0);
    }
}

/// One API request: its operation (the caller bounds it to the known ones,
/// or `other`), error type and latency.
pub fn api_request(operation: &str, error_type: Option<&str>, seconds: f64) {
    let operation = operation.to_string();
    let error = error_type.unwrap_or("none").to_string();
    counter!("stepwise_api_requests_total", "operation" => operation.clone(), "error" => error).increment(1);
    histogram!("stepwise_api_request_duration_seconds", "operation" => operation).record(seconds);
}

pub fn queue_backlog(messages: u64, oldest_due_age_ms: Option<i64>) {
    gauge!("stepwise_queue_messages").set(messages as f64);
    gauge!("stepwise_queue_oldest_due_age_seconds").set(oldest_due_age_ms.unwrap_or(0) as f64 / 1000.0);
}

/// A workflow task a worker failed; a nondeterminism is counted apart.
pub fn workflow_task_failed(error: &str) {
    counter!("stepwise_workflow_task_failures_total").increment(1);
    if error == NONDETERMINISM_ERROR {
        counter!("stepwise_workflow_nondeterminism_total").increment(1);
    }
}

/// The error a worker reports when replay finds the code changed.
const NONDETERMINISM_ERROR: &str = "Stepwise.NonDeterminism";

pub fn store_commit(seconds: f64) {
    histogram!("stepwise_store_commit_seconds").record(seconds);
}

pub fn store_conflict() {
    counter!("stepwise_store_commit_conflicts_total").increment(1);
}

pub fn group_commit(transactions: usize) {
    histogram!("stepwise_store_group_commit_batch_size").record(transactions as f64);
}

#[cfg(test)]
mod tests {
    #[test]
    fn machine_labels_drop_qualifiers() {
        let base = "arn:aws:states:us-east-1:1:stateMachine:m";
        assert_eq!(super::machine_label(base), base);
        assert_eq!(super::machine_label(&format!("{base}:3")), base);
        assert_eq!(super::machine_label(&format!("{base}:prod")), base);
    }
}
