//! What the server keeps of a code workflow's run, and what it applies.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use state_language::interpreter::Command;

use crate::history::{ActivityOptions, Event};

/// Why a step could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    #[error("the run is closed")]
    Closed,
    /// A run stored by another format version is refused, never misread.
    #[error("a run stored in format {found}; this server reads format {expected}")]
    Version { found: u32, expected: u32 },
}

/// One execution of a code workflow, as the server keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The stored format ([`super::RUN_FORMAT_VERSION`]); runs stored before
    /// it was recorded are format 1.
    #[serde(default = "first_format")]
    pub format: u32,
    pub workflow_type: String,
    pub task_queue: String,
    /// ARNs of state machines start with this; a child's type follows it.
    pub machine_arn_prefix: String,
    /// Events recorded so far, in every run: the last event's id.
    pub events: u64,
    /// The id of this run's `WorkflowStarted` (runs that continued as new came before it).
    pub run_first_event: u64,
    /// When the last event was recorded (ms since the epoch).
    pub last_time_ms: i64,
    /// Events that came while a workflow task was out, with their times.
    pub buffered: Vec<(Event, i64)>,
    /// Secret that makes task tokens unguessable.
    pub token_key: String,
    pub seed: u64,
    pub next_id: u64,
    pub tasks: BTreeMap<u64, Task>,
    pub timers: BTreeMap<u64, Timer>,
    /// Activities scheduled and not ended, by seq.
    pub activities: BTreeMap<u64, Activity>,
    /// Runs that continued as new before this one.
    pub continued: u32,
    /// The latest updates answered in this run, oldest first: (id, answer),
    /// for their callers, who wait for them.
    pub update_results: VecDeque<(String, Value)>,
    /// Failed (or timed-out) workflow tasks in a row, and the last failure.
    pub task_failures: u32,
    pub last_task_failure: Option<(String, String)>,
    pub closed: bool,
    /// How long a worker may hold a workflow task, in the host's time (a host
    /// whose clock runs faster than real time gives a longer one).
    #[serde(default = "default_task_timeout_ms")]
    pub task_timeout_ms: i64,
    /// How many times faster than the workers' (real) time the host's time
    /// runs: 1, except under the tests' scaled time. Activity timeouts are
    /// the workers' time, so their deadlines are scaled by it.
    #[serde(default = "default_worker_time_scale")]
    pub worker_time_scale: i64,
    /// The execution this run belongs to, for [`RunInfo`](crate::history::RunInfo).
    #[serde(default)]
    pub origin: Option<Origin>,
    /// The worker that answered the last workflow task, which keeps the
    /// run's replayed state: the next task goes to it first, with only the
    /// events since (a sticky task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<Sticky>,
    /// The host's sticky wait when the run started (ms). Only whether it is
    /// above 0 is read here: 0 means no sticky tasks (a host whose queues
    /// cannot be made per worker). The wait itself is the host's poll's.
    #[serde(default)]
    pub sticky_wait_ms: i64,
}

/// Who keeps a run's replayed state, and how far it has seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sticky {
    pub worker: String,
    /// The last event (id) of the history its last task replayed.
    pub seen_event: u64,
}

fn first_format() -> u32 {
    1
}

fn default_worker_time_scale() -> i64 {
    1
}

fn default_task_timeout_ms() -> i64 {
    super::WORKFLOW_TASK_TIMEOUT_MS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub token: String,
    pub kind: TaskKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskKind {
    /// Replay the history up to `history_len` events and give commands.
    Workflow {
        history_len: usize,
    },
    Activity {
        seq: u64,
        attempt: u32,
    },
    Child {
        seq: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    pub fire_at_ms: i64,
    pub kind: TimerKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TimerKind {
    /// The code's `sleep`.
    Workflow {
        seq: u64,
    },
    /// The next attempt of an activity.
    Retry {
        seq: u64,
    },
    /// An attempt ran out of time: start-to-close or heartbeat.
    AttemptTimeout {
        task_id: u64,
        error: String,
    },
    ScheduleToClose {
        seq: u64,
    },
    WorkflowTaskTimeout {
        task_id: u64,
    },
    WorkflowTaskRetry,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub name: String,
    pub input: Value,
    pub options: ActivityOptions,
    pub attempt: u32,
    /// A worker took the current attempt.
    pub started: bool,
    /// Why the previous attempt failed, while a retry waits (for operators:
    /// attempt failures that are retried leave no event in the history).
    #[serde(default)]
    pub last_failure: Option<crate::history::ActivityError>,
}

/// A history event as the host records it: its id (from 1) and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub id: u64,
    pub time_ms: i64,
    pub event: Event,
}

/// What one step gives the host: events to append to the history, and commands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    pub events: Vec<Recorded>,
    pub commands: Vec<Command>,
}

/// What the host applies to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HostInput {
    Start {
        input: Value,
    },
    /// A worker took the task at `at_ms` (its timeouts run from then).
    TaskStarted {
        task_id: u64,
        at_ms: i64,
    },
    TaskHeartbeat {
        task_id: u64,
    },
    TaskSucceeded {
        task_id: u64,
        output: Value,
    },
    TaskFailed {
        task_id: u64,
        error: String,
        cause: String,
    },
    TimerFired {
        timer_id: u64,
    },
    Signal {
        name: String,
        payload: Value,
    },
    CancelRequested,
    Update {
        id: String,
        name: String,
        payload: Value,
    },
    Terminate {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// The execution a run belongs to (set by the host before the run starts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub execution_arn: String,
    pub execution_name: String,
    pub parent_execution_arn: Option<String>,
}
