//! Runs an execution to completion against a [`Host`]: the loop every simple
//! host needs (the local runner, tests, benchmarks). The host supplies time
//! and performs tasks, so this module stays pure.

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;

use crate::definition::Definition;
use crate::interpreter::{
    Command, Execution, HistoryEvent, Input, Limits, StartContext, Status, TaskCommand, step_with,
};

/// Inputs one run may apply before it is declared stuck.
pub const DRIVER_INPUTS_MAX: usize = 10_000_000;

/// What a task came to.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    Succeeded(Value),
    Failed { error: String, cause: String },
}

/// The side the driver cannot do itself.
pub trait Host {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&mut self) -> i64;
    /// Blocks (really or virtually) until `ms`; returns the time afterwards.
    fn wait_until(&mut self, ms: i64) -> i64;
    fn run_task(&mut self, task: &TaskCommand) -> TaskOutcome;
}

/// A host with virtual time: timers fire at once, tasks are answered by a closure.
pub struct Simulated<F> {
    pub now_ms: i64,
    pub tasks: F,
}

impl<F: FnMut(&TaskCommand) -> TaskOutcome> Host for Simulated<F> {
    fn now_ms(&mut self) -> i64 {
        self.now_ms
    }
    fn wait_until(&mut self, ms: i64) -> i64 {
        self.now_ms = self.now_ms.max(ms);
        self.now_ms
    }
    fn run_task(&mut self, task: &TaskCommand) -> TaskOutcome {
        (self.tasks)(task)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<HistoryEvent>,
}

/// Why a run could not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Engine(#[from] crate::Error),
    #[error("the execution is blocked with no task or timer to wake it")]
    Stuck,
    #[error("the run applied more than {0} inputs")]
    TooManyInputs(usize),
}

/// Runs `def` on `input` to a terminal status.
pub fn run(
    def: &Definition,
    input: Value,
    context: StartContext,
    host: &mut dyn Host,
    limits: Limits,
    keep_history: bool,
) -> Result<Outcome, DriverError> {
    let mut exec = Execution::new();
    let mut history = Vec::new();
    let mut timers: BTreeSet<(i64, u64)> = BTreeSet::new();
    let mut tasks: VecDeque<TaskCommand> = VecDeque::new();
    let mut next = Some(Input::Start { input, context });
    let mut late: VecDeque<Input> = VecDeque::new();
    let mut applied = 0usize;
    loop {
        if let Some(inp) = next.take() {
            applied += 1;
            if applied > DRIVER_INPUTS_MAX {
                return Err(DriverError::TooManyInputs(DRIVER_INPUTS_MAX));
            }
            let now = host.now_ms();
            let out = step_with(def, &mut exec, inp, now, limits)?;
            if keep_history {
                history.extend(out.events);
            }
            if let Some(o) = absorb(out.commands, &mut tasks, &mut timers, &mut history) {
                return Ok(o);
            }
        }
        let now = host.now_ms();
        if timers.first().is_none_or(|(at, _)| *at > now)
            && let Some(result) = late.pop_front()
        {
            applied += 1;
            let out = match step_with(def, &mut exec, result, now, limits) {
                Ok(out) => out,
                Err(crate::Error::UnknownTask(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            if keep_history {
                history.extend(out.events);
            }
            if let Some(o) = absorb(out.commands, &mut tasks, &mut timers, &mut history) {
                return Ok(o);
            }
            continue;
        }
        // Tasks whose deadline passed lose to their timeout timer: fire due timers first.
        if let Some(&(at, id)) = timers.first().filter(|(at, _)| *at <= now || tasks.is_empty()) {
            timers.pop_first();
            if at > now {
                host.wait_until(at);
            }
            next = Some(Input::TimerFired { timer_id: id });
            continue;
        }
        if let Some(t) = tasks.pop_front() {
            // Started and finished back to back: this host performs tasks inline.
            let started = step_with(def, &mut exec, Input::TaskStarted { task_id: t.task_id }, now, limits)?;
            if keep_history {
                history.extend(started.events);
            }
            // Starting a task arms its heartbeat timer.
            if let Some(o) = absorb(started.commands, &mut tasks, &mut timers, &mut history) {
                return Ok(o);
            }
            let result = match host.run_task(&t) {
                TaskOutcome::Succeeded(output) => Input::TaskSucceeded { task_id: t.task_id, output },
                TaskOutcome::Failed { error, cause } => Input::TaskFailed { task_id: t.task_id, error, cause },
            };
            // Time may have passed while the task ran: timers that fell due (its
            // timeout, say) fire first, and a result that arrives late is dropped.
            late.push_back(result);
            continue;
        }
        return Err(DriverError::Stuck);
    }
}

/// Files commands into the task queue and timer set; returns the outcome on `Finish`.
fn absorb(
    commands: Vec<Command>,
    tasks: &mut VecDeque<TaskCommand>,
    timers: &mut BTreeSet<(i64, u64)>,
    history: &mut Vec<HistoryEvent>,
) -> Option<Outcome> {
    for c in commands {
        match c {
            Command::RunTask(t) => tasks.push_back(t),
            Command::CancelTask { task_id } => tasks.retain(|t| t.task_id != task_id),
            // The driver runs no child executions: its contexts never ask for them.
            Command::AbortChild { .. } => {}
            // Nor does it list children: there is no ListExecutions here.
            Command::ListExpressChild(_) => {}
            Command::StartTimer { timer_id, fire_at_ms } => {
                timers.insert((fire_at_ms, timer_id));
            }
            Command::Finish { status, output, error, cause } => {
                return Some(Outcome { status, output, error, cause, history: std::mem::take(history) });
            }
        }
    }
    None
}
