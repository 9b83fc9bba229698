//! The execution state: a serializable value a host can store and resume.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::StartContext;
use super::events::EventType;
use crate::definition::{MachineId, StateId};
use crate::entropy::Entropy;

/// Bumped whenever the serialized shape changes; hosts refuse unknown versions.
pub const EXECUTION_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

/// One execution's whole state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub version: u32,
    pub status: Status,
    pub context: Option<StartContext>,
    pub input: Value,
    pub start_ms: i64,
    pub last_event_id: u64,
    pub entropy: Entropy,
    pub next_id: u64,
    pub frames: BTreeMap<u64, Frame>,
    pub ready: VecDeque<u64>,
    pub tasks: BTreeMap<u64, PendingTask>,
    pub timers: BTreeMap<u64, Timer>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// A whole `$$` given by the host instead of the one built from the
    /// execution (TestState's `context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_override: Option<Value>,
    /// Where a redrive restarts: the top-level state the execution stopped
    /// in, with that state's input and the variables then in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_point: Option<RedrivePoint>,
    /// The distributed Maps' Map Runs, oldest first (at most
    /// [`crate::limits::MAP_RUNS_PER_EXECUTION_MAX`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map_runs: Vec<super::map_run::MapRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedrivePoint {
    pub state: StateId,
    pub input: Value,
    pub vars: Map<String, Value>,
    /// The stopped state was a Parallel or Map: what its children finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<Box<Kept>>,
}

/// What a stopped Parallel or Map keeps for its redrive: the results of the
/// branches or iterations that succeeded (by index), which a redrive does not
/// run again, and a distributed Map's Map Run, which the redrive continues.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub results: BTreeMap<u64, Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub map_run_arn: String,
    /// A streamed Map Run: the items that succeeded and the result parts written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<Box<super::stream::Stream>>,
}

impl Default for Execution {
    fn default() -> Self {
        Execution {
            version: EXECUTION_FORMAT_VERSION,
            status: Status::Running,
            context: None,
            input: Value::Null,
            start_ms: 0,
            last_event_id: 0,
            entropy: Entropy::new(0),
            next_id: 1,
            frames: BTreeMap::new(),
            ready: VecDeque::new(),
            tasks: BTreeMap::new(),
            timers: BTreeMap::new(),
            output: None,
            error: None,
            cause: None,
            context_override: None,
            redrive_point: None,
            map_runs: Vec::new(),
        }
    }
}

impl Execution {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Pending task ids with their tokens, for hosts that route callbacks.
    pub fn pending_tasks(&self) -> impl Iterator<Item = (u64, &PendingTask)> {
        self.tasks.iter().map(|(k, v)| (*k, v))
    }
}

/// A thread of control inside one machine: the top level, a Parallel branch or a Map iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub machine: MachineId,
    pub parent: Option<Parent>,
    pub state: StateId,
    /// The raw input of the current state.
    pub input: Value,
    /// Variables visible here: copied from the parent at spawn, so inner writes stay inner.
    pub vars: Map<String, Value>,
    pub entered_event_id: u64,
    /// The event the entered event follows: `EvaluationFailed` is chained to it, as on AWS.
    #[serde(default)]
    pub entered_previous_event_id: u64,
    pub entered_ms: i64,
    pub last_event_id: u64,
    /// Attempts used per retrier of the current state.
    pub attempts: Vec<u64>,
    pub wait: Wait,
    /// `$$.Map.Item` for iteration frames.
    pub map_item: Option<(u64, Value)>,
    /// Set when the frame is entering its current state (vs resuming it).
    pub entering: bool,
    /// Inside a distributed Map: its events belong to a child execution's history, not this one.
    #[serde(default)]
    pub silent: bool,
    /// Top level only: set when the current Parallel or Map stops (what its
    /// children finished, for the redrive point), and given back to it by a
    /// redrive. A retry or a move to another state drops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<Box<Kept>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    pub frame: u64,
    pub index: u64,
}

/// What a frame is blocked on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Wait {
    Ready,
    Task {
        task_id: u64,
    },
    Timer {
        timer_id: u64,
        output: Value,
        /// Variables to assign when the Wait exits.
        assigned: Option<Value>,
    },
    Backoff {
        timer_id: u64,
    },
    Join(Box<Join>),
    /// A task, Parallel or Map finished with this result; apply output processing next.
    Completed {
        result: Value,
    },
    /// A task, Parallel or Map failed; apply Retry/Catch next.
    Errored {
        error: String,
        cause: String,
        /// `MapStateFailed`/`ParallelStateFailed`, emitted only if no retrier takes the error.
        #[serde(default)]
        failed_event: Option<EventType>,
        /// The task reported it (see `definition::error_matches`).
        #[serde(default)]
        from_task: bool,
    },
    /// A Wait state's timer fired; leave with this output next.
    Elapsed {
        output: Value,
        assigned: Option<Value>,
    },
}

/// Bookkeeping of a Parallel or Map state waiting for its children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Join {
    pub is_map: bool,
    /// A distributed Map: record a Map Run, not iterations.
    #[serde(default)]
    pub distributed: bool,
    pub effective_input: Value,
    pub results: Vec<Value>,
    pub children: BTreeMap<u64, u64>,
    /// Map items not started yet, in order: (index, input).
    pub queued: VecDeque<(u64, Value)>,
    pub max_concurrency: u64,
    pub failures: u64,
    pub tolerated_count: Option<u64>,
    pub tolerated_percentage: Option<f64>,
    /// A distributed Map's Map Run.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub map_run_arn: String,
    /// With a `ResultWriter`: each iteration's input, for the result files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Value>,
    /// Indexes of iterations that failed within the tolerated threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_items: Vec<u64>,
    /// A redriven Map's results kept from before, applied once the items are known.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub redrive_kept: BTreeMap<u64, Value>,
    /// With an ItemBatcher: the items in each batch, for the Map Run's item counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_sizes: Vec<u64>,
    /// A JSON Lines ItemReader read in slices, with the results written in
    /// parts: neither the items nor (with a ResultWriter) the results are held whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<Box<super::stream::Stream>>,
    /// An EXPRESS Map Run's children, run inline: item index → start time, for their listing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub express_started: BTreeMap<u64, i64>,
    /// A distributed Map with `ExecutionType: EXPRESS`: its children are named as such.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub express: bool,
}

impl Join {
    /// Children that may run at once: `MaxConcurrency`, where 0 means no
    /// limit inline and AWS's 10,000 in a distributed Map.
    pub fn running_max(&self) -> u64 {
        match (self.distributed, self.max_concurrency) {
            (false, 0) => u64::MAX,
            (false, m) => m,
            (true, 0) => crate::limits::DISTRIBUTED_MAP_CHILDREN_RUNNING_MAX,
            (true, m) => m.min(crate::limits::DISTRIBUTED_MAP_CHILDREN_RUNNING_MAX),
        }
    }

    /// The ARN of the Map Run child of item `index`, run as an execution or inline.
    pub fn child_arn(&self, index: u64) -> String {
        if self.express {
            super::children::express_child_execution_arn(&self.map_run_arn, index)
        } else {
            super::children::child_execution_arn(&self.map_run_arn, index)
        }
    }

    /// What a failing Map or Parallel keeps for its redrive.
    pub fn kept(&self) -> Kept {
        let stream = self.stream.as_ref().map(|s| Box::new(s.kept()));
        Kept { results: self.succeeded(), map_run_arn: self.map_run_arn.clone(), stream }
    }

    /// Every child has finished and nothing more is to be read or written.
    pub fn is_done(&self) -> bool {
        self.children.is_empty() && self.queued.is_empty() && self.stream.as_ref().is_none_or(|s| s.is_idle())
    }

    /// How many children there are in all; unknown while a stream is still being read.
    pub fn children_total(&self) -> Option<u64> {
        match &self.stream {
            Some(s) if !s.ended => None,
            Some(s) => Some(s.children_formed),
            None => Some(self.results.len() as u64),
        }
    }

    /// The children that finished successfully, with their results: every
    /// index neither running, queued nor failed.
    pub fn succeeded(&self) -> BTreeMap<u64, Value> {
        let mut open: std::collections::BTreeSet<u64> = self.children.values().copied().collect();
        open.extend(self.queued.iter().map(|(i, _)| *i));
        open.extend(self.failed_items.iter().copied());
        let done = self.results.iter().enumerate().map(|(i, v)| (i as u64, v));
        done.filter(|(i, _)| !open.contains(i)).map(|(i, v)| (i, v.clone())).collect()
    }

    /// The items in child `index` (1 unless batched).
    pub fn items_in(&self, index: u64) -> u64 {
        if let Some(s) = &self.stream {
            return s.batch_items.get(&index).copied().unwrap_or(1);
        }
        self.batch_sizes.get(index as usize).copied().unwrap_or(1)
    }
}

/// Why a task runs: a Task state, or a distributed Map's S3 reader or writer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Purpose {
    #[default]
    State,
    /// The Map's items, once read, fill this join.
    ItemReader(Box<Join>),
    /// The Map's output once its results are written.
    ResultWriter { output: Value },
    /// The next slice of a streamed ItemReader; the Map's frame waits on its join.
    ItemSlice,
    /// A part of a streamed Map Run's results; the Map's frame waits on its join.
    ResultPart(Vec<super::stream::Part>),
    /// A Map Run's child execution, which the host starts; its frame stands
    /// for it in the join until it closes.
    MapChild { execution_arn: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingTask {
    pub frame: u64,
    pub token: String,
    pub resource: String,
    pub started: bool,
    pub timeout_timer: Option<u64>,
    pub heartbeat_timer: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "is_state")]
    pub purpose: Purpose,
}

fn is_state(p: &Purpose) -> bool {
    *p == Purpose::State
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Timer {
    /// A Wait state or a retry backoff of this frame.
    Frame(u64),
    TaskTimeout(u64),
    HeartbeatTimeout(u64),
    ExecutionTimeout,
}
