//! A code workflow's history: what happened, in order. The worker replays
//! it to rebuild the workflow's state; commands the code gives must match
//! the command events recorded for them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How an activity is retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub initial_interval_ms: u64,
    pub backoff_rate: f64,
    pub max_interval_ms: u64,
    /// Attempts in all, the first included; 0 means unlimited.
    pub max_attempts: u32,
    /// Error types that fail the activity at once.
    pub non_retryable: Vec<String>,
}

impl Default for RetryPolicy {
    /// Temporal's default: 1 s, doubling, at most 100 s apart, unlimited attempts.
    fn default() -> Self {
        RetryPolicy {
            initial_interval_ms: 1_000,
            backoff_rate: 2.0,
            max_interval_ms: 100_000,
            max_attempts: 0,
            non_retryable: Vec::new(),
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let d = self.initial_interval_ms as f64 * self.backoff_rate.powi(attempt.saturating_sub(1) as i32);
        (d as u64).min(self.max_interval_ms)
    }
}

/// How long one attempt of an activity may take when its options say nothing
/// else: every activity is bounded, as Temporal requires, so one handed to a
/// worker that died is retried instead of waited on for ever.
pub const ACTIVITY_START_TO_CLOSE_MS_DEFAULT: u64 = 10 * 60 * 1000;

/// Options of one activity. [`Default`] bounds each attempt by
/// [`ACTIVITY_START_TO_CLOSE_MS_DEFAULT`]; options with neither a
/// start-to-close nor a schedule-to-close timeout are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityOptions {
    pub retry: RetryPolicy,
    pub start_to_close_ms: Option<u64>,
    pub schedule_to_close_ms: Option<u64>,
    pub heartbeat_ms: Option<u64>,
}

impl Default for ActivityOptions {
    fn default() -> Self {
        ActivityOptions {
            retry: RetryPolicy::default(),
            start_to_close_ms: Some(ACTIVITY_START_TO_CLOSE_MS_DEFAULT),
            schedule_to_close_ms: None,
            heartbeat_ms: None,
        }
    }
}

/// An activity's failure, by type, as ASL names errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct ActivityError {
    pub error_type: String,
    pub message: String,
    /// Fails the activity at once, whatever the retry policy says.
    #[serde(default)]
    pub non_retryable: bool,
}

impl ActivityError {
    pub fn new(error_type: &str, message: impl Into<String>) -> Self {
        ActivityError { error_type: error_type.into(), message: message.into(), non_retryable: false }
    }

    pub fn non_retryable(error_type: &str, message: impl Into<String>) -> Self {
        ActivityError { non_retryable: true, ..ActivityError::new(error_type, message) }
    }
}

/// What a run knows about itself (`WorkflowContext::info`): recorded in its
/// `WorkflowStarted`, so a replay sees the same.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub execution_arn: String,
    pub execution_name: String,
    pub workflow_type: String,
    pub task_queue: String,
    /// 1 for an execution's first run; each continue-as-new starts the next.
    pub run: u32,
    /// `<execution ARN>/run/<run>`.
    pub run_id: String,
    pub previous_run_id: Option<String>,
    /// When the run started (ms since the epoch).
    pub started_ms: i64,
    /// Always 1: a run is not retried as a whole (its workflow tasks are).
    pub attempt: u32,
    /// The execution that started this one as its child.
    pub parent_execution_arn: Option<String>,
}

impl RunInfo {
    pub fn run_id(execution_arn: &str, run: u32) -> String {
        format!("{execution_arn}/run/{run}")
    }
}

/// One history event. Command events (the ones a workflow task's code
/// gives) carry the `seq` the code numbered them with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    WorkflowStarted {
        workflow_type: String,
        input: Value,
        seed: u64,
        /// What the run knows about itself (absent from histories recorded before it was).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        info: Option<RunInfo>,
    },
    /// The server queued a workflow task (bookkeeping: replay skips it).
    WorkflowTaskScheduled {},
    /// A workflow task ran at `time_ms`; the command events it gave follow.
    WorkflowTaskStarted {
        time_ms: i64,
    },
    /// The worker answered the task (bookkeeping).
    WorkflowTaskCompleted {},
    /// The worker could not run the task, say for a non-determinism; it is
    /// handed out again later (bookkeeping).
    WorkflowTaskFailed {
        error: String,
        cause: String,
    },
    /// No answer came in time; the task is handed out again (bookkeeping).
    WorkflowTaskTimedOut {},
    ActivityScheduled {
        seq: u64,
        name: String,
        input: Value,
        options: ActivityOptions,
    },
    /// The attempt that ended the activity had started (bookkeeping).
    ActivityStarted {
        seq: u64,
        attempt: u32,
    },
    ActivityCompleted {
        seq: u64,
        result: Value,
        attempts: u32,
    },
    /// The activity's last attempt (or its schedule-to-close) ran out of time.
    ActivityTimedOut {
        seq: u64,
        error: ActivityError,
        attempts: u32,
    },
    /// The code gave up on the activity (its future was dropped, say by a
    /// cancelled scope).
    ActivityCancelRequested {
        seq: u64,
    },
    /// The server stopped the activity's attempts (bookkeeping).
    ActivityCancelled {
        seq: u64,
    },
    ActivityFailed {
        seq: u64,
        error: ActivityError,
        attempts: u32,
    },
    TimerStarted {
        seq: u64,
        fire_at_ms: i64,
    },
    TimerFired {
        seq: u64,
    },
    TimerCancelled {
        seq: u64,
    },
    SignalReceived {
        name: String,
        payload: Value,
    },
    MarkerRecorded {
        seq: u64,
        name: String,
        value: Value,
    },
    ChildStarted {
        seq: u64,
        workflow_type: String,
        id: String,
        input: Value,
    },
    ChildCompleted {
        seq: u64,
        result: Value,
    },
    ChildFailed {
        seq: u64,
        error: String,
        cause: String,
    },
    /// Someone asked the workflow to stop; its code decides how.
    CancelRequested {},
    /// An update its validator accepted, for the code to handle.
    UpdateAccepted {
        id: String,
        name: String,
        payload: Value,
    },
    /// The code's answer to an update.
    UpdateCompleted {
        id: String,
        result: Value,
    },
    WorkflowCompleted {
        result: Value,
    },
    WorkflowFailed {
        error: String,
        cause: String,
    },
    /// The run closed and a new run of the same workflow started on `input`.
    WorkflowContinuedAsNew {
        input: Value,
    },
    /// The run ended on a cancellation request (RequestCancelExecution): the
    /// code let the cancellation end it. The execution closes ABORTED.
    WorkflowCancelled {
        cause: String,
    },
    /// Someone stopped the run from outside (StopExecution); the code had no say.
    WorkflowTerminated {
        error: String,
        cause: String,
    },
}

/// What a workflow task's code asks for; a worker sends them to the server as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Command {
    ScheduleActivity {
        seq: u64,
        name: String,
        input: Value,
        options: ActivityOptions,
    },
    CancelActivity {
        seq: u64,
    },
    StartTimer {
        seq: u64,
        fire_at_ms: i64,
    },
    CancelTimer {
        seq: u64,
    },
    RecordMarker {
        seq: u64,
        name: String,
        value: Value,
    },
    StartChild {
        seq: u64,
        workflow_type: String,
        id: String,
        input: Value,
    },
    CompleteUpdate {
        id: String,
        result: Value,
    },
    CompleteWorkflow {
        result: Value,
    },
    FailWorkflow {
        error: String,
        cause: String,
    },
    /// Ends the run as cancelled by request (the execution closes ABORTED).
    CancelWorkflow {
        cause: String,
    },
    ContinueAsNew {
        input: Value,
    },
}

/// The error of a workflow task whose commands schedule an unbounded activity.
pub const ACTIVITY_TIMEOUT_MISSING: &str = "Stepwise.ActivityTimeoutMissing";

impl Command {
    /// Refuses what no host should carry out: an activity with neither a
    /// start-to-close nor a schedule-to-close timeout (a worker that died
    /// holding it would be waited on for ever). Names the activity.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Command::ScheduleActivity { seq, name, options, .. }
                if options.start_to_close_ms.is_none() && options.schedule_to_close_ms.is_none() =>
            {
                Err(format!(
                    "the activity {name:?} (seq {seq}) has neither a start-to-close nor a schedule-to-close timeout; give it one (ActivityOptions::default() bounds each attempt by {} s)",
                    ACTIVITY_START_TO_CLOSE_MS_DEFAULT / 1000
                ))
            }
            _ => Ok(()),
        }
    }

    /// The event that records this command.
    pub fn event(&self) -> Event {
        match self.clone() {
            Command::ScheduleActivity { seq, name, input, options } => {
                Event::ActivityScheduled { seq, name, input, options }
            }
            Command::CancelActivity { seq } => Event::ActivityCancelRequested { seq },
            Command::StartTimer { seq, fire_at_ms } => Event::TimerStarted { seq, fire_at_ms },
            Command::CancelTimer { seq } => Event::TimerCancelled { seq },
            Command::RecordMarker { seq, name, value } => Event::MarkerRecorded { seq, name, value },
            Command::StartChild { seq, workflow_type, id, input } => {
                Event::ChildStarted { seq, workflow_type, id, input }
            }
            Command::ContinueAsNew { input } => Event::WorkflowContinuedAsNew { input },
            Command::CompleteUpdate { id, result } => Event::UpdateCompleted { id, result },
            Command::CompleteWorkflow { result } => Event::WorkflowCompleted { result },
            Command::FailWorkflow { error, cause } => Event::WorkflowFailed { error, cause },
            Command::CancelWorkflow { cause } => Event::WorkflowCancelled { cause },
        }
    }

    /// Whether `e` records this command: the same kind, seq and name.
    /// Inputs may differ (a fixed bug in how an input is built is not a
    /// different workflow), as in Temporal.
    pub fn matches(&self, e: &Event) -> bool {
        match (self, e) {
            (Command::ScheduleActivity { seq, name, .. }, Event::ActivityScheduled { seq: s, name: n, .. }) => {
                seq == s && name == n
            }
            (Command::CancelActivity { seq }, Event::ActivityCancelRequested { seq: s }) => seq == s,
            (Command::StartTimer { seq, .. }, Event::TimerStarted { seq: s, .. }) => seq == s,
            (Command::CancelTimer { seq }, Event::TimerCancelled { seq: s }) => seq == s,
            (Command::RecordMarker { seq, name, .. }, Event::MarkerRecorded { seq: s, name: n, .. }) => {
                seq == s && name == n
            }
            (Command::StartChild { seq, workflow_type, .. }, Event::ChildStarted { seq: s, workflow_type: t, .. }) => {
                seq == s && workflow_type == t
            }
            (Command::ContinueAsNew { .. }, Event::WorkflowContinuedAsNew { .. }) => true,
            (Command::CompleteUpdate { id, .. }, Event::UpdateCompleted { id: i, .. }) => id == i,
            (Command::CompleteWorkflow { .. }, Event::WorkflowCompleted { .. }) => true,
            (Command::FailWorkflow { .. }, Event::WorkflowFailed { .. }) => true,
            (Command::CancelWorkflow { .. }, Event::WorkflowCancelled { .. }) => true,
            _ => false,
        }
    }
}

impl Event {
    /// Whether a workflow task's code gives this event (vs the outside world).
    pub fn is_command(&self) -> bool {
        matches!(
            self,
            Event::ActivityScheduled { .. }
                | Event::ActivityCancelRequested { .. }
                | Event::TimerStarted { .. }
                | Event::TimerCancelled { .. }
                | Event::MarkerRecorded { .. }
                | Event::ChildStarted { .. }
                | Event::UpdateCompleted { .. }
                | Event::WorkflowCompleted { .. }
                | Event::WorkflowFailed { .. }
                | Event::WorkflowCancelled { .. }
                | Event::WorkflowContinuedAsNew { .. }
        )
    }

    /// The server's own records, which replay passes over.
    pub fn is_bookkeeping(&self) -> bool {
        matches!(
            self,
            Event::WorkflowTaskScheduled {}
                | Event::WorkflowTaskCompleted {}
                | Event::WorkflowTaskFailed { .. }
                | Event::WorkflowTaskTimedOut {}
                | Event::ActivityStarted { .. }
                | Event::ActivityCancelled { .. }
        )
    }

    /// Whether the event gives the code something new to run on.
    pub fn wakes_workflow(&self) -> bool {
        !self.is_command() && !self.is_bookkeeping()
    }

    /// A short description for errors: the kind, seq and name.
    pub fn describe(&self) -> String {
        match self {
            Event::ActivityScheduled { seq, name, .. } => format!("ActivityScheduled #{seq} {name:?}"),
            Event::TimerStarted { seq, .. } => format!("TimerStarted #{seq}"),
            Event::TimerCancelled { seq } => format!("TimerCancelled #{seq}"),
            Event::MarkerRecorded { seq, name, .. } => format!("MarkerRecorded #{seq} {name:?}"),
            Event::ChildStarted { seq, workflow_type, .. } => format!("ChildStarted #{seq} {workflow_type:?}"),
            Event::UpdateCompleted { id, .. } => format!("UpdateCompleted {id:?}"),
            other => format!("{other:?}").split_whitespace().next().unwrap_or_default().to_string(),
        }
    }
}

/// A code event as GetExecutionHistory gives it: its `type`, and its fields
/// as `workflowEventDetails`, whose payloads (`input`, `output`) are JSON
/// text on the wire, as every Step Functions history payload is.
pub fn event_from_history(e: &Value) -> Result<Event, serde_json::Error> {
    let mut d = e["workflowEventDetails"].clone();
    if let Some(o) = d.as_object_mut() {
        for f in ["input", "output"] {
            if let Some(Value::String(text)) = o.get(f) {
                let v: Value = serde_json::from_str(text)?;
                o.insert(f.to_string(), v);
            }
        }
    }
    d["type"] = e["type"].clone();
    serde_json::from_value(d)
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn a_history_event_payload_is_read_from_its_json_text() {
        let wire = serde_json::json!({"type": "WorkflowStarted", "workflowEventDetails": {
            "workflow_type": "w", "input": "{\"round\":0}", "seed": 1}});
        match event_from_history(&wire).expect("an event") {
            Event::WorkflowStarted { input, .. } => assert_eq!(input, serde_json::json!({"round": 0})),
            other => panic!("{other:?}"),
        }
    }
}
