//! The interpreter: a pure step function over inputs (quinn-proto style).
//!
//! `step(definition, execution, input, now)` applies one input to the
//! execution state and returns the history events to append and the commands
//! for the host. It never reads a clock or randomness: time comes in with
//! every input, randomness from the seed given at start.

mod amount;
pub mod children;
mod context;
mod distributed;
mod events;
mod express;
mod frame;
mod inputs;
mod io;
mod items;
mod join;
mod jsonata;
pub mod map_run;
mod outcome;
mod run;
mod states;
pub mod stream;
mod task;
pub mod test_state;

pub use events::{
    Details, ErrorDetails, EventType, HistoryEvent, Iteration, StateExited, TaskRef, TaskScheduled, Truncation,
};
pub use express::ExpressChild;
pub use frame::{EXECUTION_FORMAT_VERSION, Execution, Status};
pub use map_run::{MapRun, MapRunStatus, MapRunUpdate};
/// Task tokens, for hosts of other kinds of run (code workflows) that hand out tasks.
pub use task::task_token;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::definition::Definition;

/// Facts about the execution the host decides: names, ARNs, start time and a random seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartContext {
    pub execution_arn: String,
    pub execution_name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    /// Seeds UUIDs, MathRandom, jitter and task tokens; the host draws it once.
    pub seed: u64,
    #[serde(default)]
    pub redrive_count: u64,
    /// `$$.Execution.RedriveCount` is shown; TestState's context has none.
    #[serde(default = "shown")]
    pub redrive_count_in_context: bool,
    /// A host secret mixed into task tokens, so that a worker holding one
    /// token cannot derive another from the public entropy stream. Empty
    /// for hosts whose tokens never leave the process.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_key: String,
    /// More than 0: the host starts a STANDARD distributed Map's iterations as
    /// child executions (`Purpose::MapChild` tasks), and runs at most this
    /// many of a Map Run's children at once, STANDARD or EXPRESS (below its
    /// MaxConcurrency); 0: STANDARD ones run inline too, with no bound of the host's.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub map_children_running_max: u64,
}

fn shown() -> bool {
    true
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl StartContext {
    /// Execution `x` of machine `m` in account 1: the context tests and
    /// benchmarks drive the interpreter with.
    pub fn sample(seed: u64) -> StartContext {
        StartContext {
            execution_arn: "arn:aws:states:us-east-1:1:execution:m:x".into(),
            execution_name: "x".into(),
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:m".into(),
            state_machine_name: "m".into(),
            role_arn: "r".into(),
            seed,
            redrive_count: 0,
            redrive_count_in_context: true,
            token_key: String::new(),
            map_children_running_max: 0,
        }
    }
}

/// Everything that can happen to an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Input {
    Start {
        input: Value,
        context: StartContext,
    },
    /// A worker or integration picked the task up.
    TaskStarted {
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
    /// A Map Run's child failed and cannot be redriven (AWS's NOT_REDRIVABLE):
    /// as `TaskFailed`, and the Map Run counts it in `failuresNotRedrivable`.
    ChildNotRedrivable {
        task_id: u64,
        error: String,
        cause: String,
    },
    TaskHeartbeat {
        task_id: u64,
    },
    TimerFired {
        timer_id: u64,
    },
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
    /// Restarts a failed, timed-out or aborted execution at the top-level
    /// state it stopped in (AWS's RedriveExecution).
    Redrive,
    /// UpdateMapRun: new limits for a running Map Run of this execution.
    UpdateMapRun {
        map_run_arn: String,
        update: MapRunUpdate,
    },
    /// The host cannot carry the execution further (a step outgrew what the
    /// store commits at once): it fails with this error, as AWS fails an
    /// execution that outgrows its quotas.
    Fail {
        error: String,
        cause: String,
    },
}

/// Work for the host. Each carries what the host needs and no more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    RunTask(TaskCommand),
    /// The task will not be waited for any more (timed out, stopped, branch aborted).
    CancelTask {
        task_id: u64,
    },
    StartTimer {
        timer_id: u64,
        fire_at_ms: i64,
    },
    /// A Map Run's child execution is to be aborted (the Map Run failed or
    /// its parent stopped); the task that waited on it is cancelled too.
    AbortChild {
        execution_arn: String,
        /// The task that waited on it: a child started again for a later task ignores this.
        task_id: u64,
    },
    /// An EXPRESS Map Run's child, run inline, closed: the host lists it under its Map Run.
    ListExpressChild(ExpressChild),
    Finish {
        status: Status,
        output: Option<Value>,
        error: Option<String>,
        cause: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCommand {
    pub task_id: u64,
    pub resource: String,
    pub payload: Value,
    pub state_name: String,
    /// The callback token (`$$.Task.Token`); unique and unguessable within this execution.
    pub task_token: String,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    /// 0 for the first attempt, then 1, 2, … for retries.
    pub attempt: u64,
}

/// What one step produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub events: Vec<HistoryEvent>,
    pub commands: Vec<Command>,
}

/// Host-tunable bounds. Defaults are AWS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub history_events_max: u64,
    pub payload_bytes_max: usize,
    /// Transitions one step may take before the execution fails as a runaway loop.
    pub transitions_per_step_max: usize,
    /// When false, event details omit payloads (inputs/outputs), as with
    /// `includeExecutionData: false`; it also makes long runs cheaper.
    pub record_payloads: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            history_events_max: crate::limits::HISTORY_EVENTS_MAX,
            payload_bytes_max: crate::limits::PAYLOAD_BYTES_MAX,
            transitions_per_step_max: crate::limits::TRANSITIONS_PER_STEP_MAX,
            record_payloads: true,
        }
    }
}

/// Starts an execution and fails it before its first state runs: for a host
/// that cannot commit the start's first step (it outgrew the store's limits).
/// The history is `ExecutionStarted` then `ExecutionFailed`; a redrive starts
/// the first state again.
#[allow(clippy::too_many_arguments)]
pub fn start_failed(
    def: &Definition,
    exec: &mut Execution,
    input: Value,
    context: StartContext,
    now_ms: i64,
    limits: Limits,
    error: String,
    cause: String,
) -> Result<Step, crate::Error> {
    let mut rt =
        run::Runtime { def, exec, now_ms, limits, out: Step::default(), transitions: 0, assigned: None, capped: false };
    rt.apply(Input::Start { input, context })?;
    rt.finish(frame::Status::Failed, None, Some(error), Some(cause));
    Ok(rt.out)
}

/// Applies one input at time `now_ms` (milliseconds since the Unix epoch).
pub fn step(def: &Definition, exec: &mut Execution, input: Input, now_ms: i64) -> Result<Step, crate::Error> {
    step_with(def, exec, input, now_ms, Limits::default())
}

/// [`step`] with explicit limits.
pub fn step_with(
    def: &Definition,
    exec: &mut Execution,
    input: Input,
    now_ms: i64,
    limits: Limits,
) -> Result<Step, crate::Error> {
    // A state written by another format version is refused, never misread.
    if exec.version != frame::EXECUTION_FORMAT_VERSION {
        return Err(crate::Error::Version { found: exec.version, expected: frame::EXECUTION_FORMAT_VERSION });
    }
    let mut rt =
        run::Runtime { def, exec, now_ms, limits, out: Step::default(), transitions: 0, assigned: None, capped: false };
    rt.apply(input)?;
    rt.drain()?;
    rt.close_if_capped();
    Ok(rt.out)
}
