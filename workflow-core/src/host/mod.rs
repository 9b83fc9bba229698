//! The server's side of a code workflow, pure (sans-IO, like the ASL
//! interpreter): a [`Run`] holds one execution's history and the tasks and
//! timers it waits on; [`Run::step`] applies one input (a worker's report,
//! a timer, a signal, …) at a time given by the host and gives the host's
//! commands, in the ASL interpreter's own [`Command`] type, so the control
//! plane stores, dispatches and times them exactly as it does for ASL.
//!
//! The server never runs workflow code. It hands workers *workflow tasks*
//! (the history to replay) and *activity tasks*, and records what they
//! answer. Events that arrive while a workflow task is out are buffered and
//! appended after that task's commands, so the history always shows the
//! commands right after the events the code saw when it gave them.

mod activity;
mod task;

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;
use state_language::interpreter::{Command, Status, TaskCommand, task_token};

use crate::history::Event;

pub use activity::parse_failure;

/// How long a worker may hold a workflow task before another gets it.
pub const WORKFLOW_TASK_TIMEOUT_MS: i64 = 10_000;
/// The longest wait before a failed workflow task (a worker's error, say a
/// non-determinism) is handed out again; retries back off up to it.
pub const WORKFLOW_TASK_RETRY_MS_MAX: i64 = 60_000;
/// Events in one run's history; past it the run fails (use continue-as-new).
pub const HISTORY_EVENTS_MAX: usize = 10_000;
/// Events buffered while a workflow task is out.
pub const BUFFERED_EVENTS_MAX: usize = 1_000;
/// Update answers a run keeps for their callers.
pub const UPDATE_RESULTS_MAX: usize = 64;
/// Commands one workflow task may give.
pub const TASK_COMMANDS_MAX: usize = 1_000;
/// The resource of workflow tasks, followed by the task queue's name.
/// The stored format of a [`Run`]: raised whenever its serialized shape
/// changes in a way an older server could misread.
pub const RUN_FORMAT_VERSION: u32 = 1;
/// The error of an execution whose code let a cancellation request end it
/// (it closes ABORTED, as a stopped execution does).
pub const WORKFLOW_CANCELLED_ERROR: &str = "Stepwise.Cancelled";
pub const WORKFLOW_TASK_RESOURCE: &str = "stepwise:workflow-task:";
/// The resource of activity tasks, followed by the task queue's name.
pub const ACTIVITY_TASK_RESOURCE: &str = "stepwise:activity-task:";
/// The nested-execution integration runs child workflows.
const CHILD_RESOURCE: &str = "arn:aws:states:::states:startExecution.sync:2";

mod model;
pub use model::*;

impl Run {
    pub fn new(workflow_type: &str, task_queue: &str, machine_arn_prefix: &str, seed: u64, token_key: &str) -> Run {
        Run {
            format: RUN_FORMAT_VERSION,
            workflow_type: workflow_type.into(),
            task_queue: task_queue.into(),
            machine_arn_prefix: machine_arn_prefix.into(),
            events: 0,
            run_first_event: 1,
            last_time_ms: 0,
            buffered: Vec::new(),
            token_key: token_key.into(),
            seed,
            next_id: 1,
            tasks: BTreeMap::new(),
            timers: BTreeMap::new(),
            activities: BTreeMap::new(),
            continued: 0,
            update_results: VecDeque::new(),
            task_failures: 0,
            last_task_failure: None,
            closed: false,
            task_timeout_ms: WORKFLOW_TASK_TIMEOUT_MS,
            worker_time_scale: 1,
            origin: None,
            sticky: None,
            sticky_wait_ms: 0,
        }
    }

    /// What the current run knows about itself, at its start (`now`).
    pub(crate) fn info(&self, now: i64) -> Option<crate::history::RunInfo> {
        use crate::history::RunInfo;
        let o = self.origin.as_ref()?;
        let run = self.continued + 1;
        Some(RunInfo {
            execution_arn: o.execution_arn.clone(),
            execution_name: o.execution_name.clone(),
            workflow_type: self.workflow_type.clone(),
            task_queue: self.task_queue.clone(),
            run,
            run_id: RunInfo::run_id(&o.execution_arn, run),
            previous_run_id: (run > 1).then(|| RunInfo::run_id(&o.execution_arn, run - 1)),
            started_ms: now,
            attempt: 1,
            parent_execution_arn: o.parent_execution_arn.clone(),
        })
    }

    /// Applies one input at `now` (ms); gives the events to record and the
    /// host's commands. Stale inputs (a task or timer that already ended)
    /// change nothing.
    pub fn step(&mut self, input: HostInput, now: i64) -> Result<Effects, HostError> {
        if self.format != RUN_FORMAT_VERSION {
            return Err(HostError::Version { found: self.format, expected: RUN_FORMAT_VERSION });
        }
        if self.closed {
            return Err(HostError::Closed);
        }
        let mut out = Effects::default();
        match input {
            HostInput::Start { input } => {
                let (seed, info) = (self.seed, self.info(now));
                self.push(
                    Event::WorkflowStarted { workflow_type: self.workflow_type.clone(), input, seed, info },
                    now,
                    &mut out,
                );
                self.schedule_workflow_task(now, &mut out);
            }
            HostInput::TaskStarted { task_id, at_ms } => self.task_started(task_id, at_ms.min(now), now, &mut out),
            HostInput::TaskHeartbeat { task_id } => self.heartbeat(task_id, now, &mut out),
            HostInput::TaskSucceeded { task_id, output } => match self.tasks.remove(&task_id).map(|t| t.kind) {
                Some(TaskKind::Workflow { history_len }) => {
                    self.workflow_task_completed(task_id, history_len as u64, &output, now, &mut out)
                }
                Some(TaskKind::Activity { seq, attempt }) => {
                    self.drop_attempt_timers(task_id);
                    let e = Event::ActivityCompleted { seq, result: output, attempts: attempt };
                    self.activity_ended(seq, e, now, &mut out);
                }
                Some(TaskKind::Child { seq }) => {
                    let result = output.get("Output").cloned().unwrap_or(Value::Null);
                    self.arrive(Event::ChildCompleted { seq, result }, now, &mut out);
                }
                None => {}
            },
            HostInput::TaskFailed { task_id, error, cause } => match self.tasks.remove(&task_id).map(|t| t.kind) {
                Some(TaskKind::Workflow { .. }) => self.workflow_task_failed(task_id, error, cause, now, &mut out),
                Some(TaskKind::Activity { seq, .. }) => {
                    self.drop_attempt_timers(task_id);
                    self.attempt_failed(seq, error, cause, now, &mut out);
                }
                Some(TaskKind::Child { seq }) => {
                    // The nested-execution integration gives the child's description as the cause.
                    let d: Value = serde_json::from_str(&cause).unwrap_or(Value::Null);
                    let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    let (error, cause) = if d.is_object() { (text("Error"), text("Cause")) } else { (error, cause) };
                    self.arrive(Event::ChildFailed { seq, error, cause }, now, &mut out);
                }
                None => {}
            },
            HostInput::TimerFired { timer_id } => {
                if let Some(t) = self.timers.remove(&timer_id) {
                    self.timer_fired(t.kind, now, &mut out);
                }
            }
            HostInput::Signal { name, payload } => self.arrive(Event::SignalReceived { name, payload }, now, &mut out),
            HostInput::CancelRequested => self.arrive(Event::CancelRequested {}, now, &mut out),
            HostInput::Update { id, name, payload } => {
                self.arrive(Event::UpdateAccepted { id, name, payload }, now, &mut out)
            }
            HostInput::Terminate { error, cause } => {
                let (e, c) = (error.clone().unwrap_or_default(), cause.clone().unwrap_or_default());
                self.push(Event::WorkflowTerminated { error: e, cause: c }, now, &mut out);
                self.close(Status::Aborted, None, error, cause, &mut out);
            }
        }
        if !self.closed && self.run_events() > HISTORY_EVENTS_MAX as u64 {
            let cause = format!("the history passed {HISTORY_EVENTS_MAX} events; continue as new to start afresh");
            self.close(Status::Failed, None, Some("Stepwise.HistoryTooLarge".into()), Some(cause), &mut out);
        }
        Ok(out)
    }

    /// Open tasks and their tokens (their tokens close once they are gone).
    pub fn open_tasks(&self) -> impl Iterator<Item = (u64, &str)> {
        self.tasks.iter().map(|(id, t)| (*id, t.token.as_str()))
    }

    /// Events in the current run's history.
    pub fn run_events(&self) -> u64 {
        (self.events + 1).saturating_sub(self.run_first_event)
    }

    fn timer_fired(&mut self, kind: TimerKind, now: i64, out: &mut Effects) {
        match kind {
            TimerKind::Workflow { seq } => self.arrive(Event::TimerFired { seq }, now, out),
            TimerKind::Retry { seq } => self.next_attempt(seq, now, out),
            TimerKind::AttemptTimeout { task_id, error } => self.attempt_timed_out(task_id, error, now, out),
            TimerKind::ScheduleToClose { seq } => self.schedule_to_close(seq, now, out),
            TimerKind::WorkflowTaskTimeout { task_id } => self.workflow_task_timed_out(task_id, now, out),
            TimerKind::WorkflowTaskRetry => {
                self.flush_buffer(now, out);
                self.schedule_workflow_task(now, out);
            }
        }
    }

    /// An event from outside: recorded now, or after the workflow task that
    /// is out; one that gives the code something new wakes it.
    fn arrive(&mut self, e: Event, now: i64, out: &mut Effects) {
        if self.workflow_task_out() {
            if self.buffered.len() < BUFFERED_EVENTS_MAX {
                self.buffered.push((e, now));
            }
            return;
        }
        let wakes = e.wakes_workflow();
        self.push(e, now, out);
        if wakes && !self.timers.values().any(|t| t.kind == TimerKind::WorkflowTaskRetry) {
            self.schedule_workflow_task(now, out);
        }
    }

    fn workflow_task_out(&self) -> bool {
        self.tasks.values().any(|t| matches!(t.kind, TaskKind::Workflow { .. }))
    }

    fn push(&mut self, event: Event, now: i64, out: &mut Effects) {
        self.events += 1;
        self.last_time_ms = self.last_time_ms.max(now);
        out.events.push(Recorded { id: self.events, time_ms: self.last_time_ms, event });
    }

    fn flush_buffer(&mut self, now: i64, out: &mut Effects) {
        for (e, _) in std::mem::take(&mut self.buffered) {
            self.push(e, now, out);
        }
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A new task: its id and its token, unguessable and stable for this run.
    fn new_task(&mut self, kind: TaskKind) -> (u64, String) {
        let id = self.new_id();
        let token = task_token(id, self.seed, u64::from(self.continued), &self.token_key);
        self.tasks.insert(id, Task { token: token.clone(), kind });
        (id, token)
    }

    fn start_timer(&mut self, fire_at_ms: i64, kind: TimerKind, out: &mut Effects) -> u64 {
        let id = self.new_id();
        self.timers.insert(id, Timer { fire_at_ms, kind });
        out.commands.push(Command::StartTimer { timer_id: id, fire_at_ms });
        id
    }

    fn drop_timers(&mut self, f: impl Fn(&TimerKind) -> bool) {
        self.timers.retain(|_, t| !f(&t.kind));
    }

    fn run_task(
        &self,
        task_id: u64,
        token: String,
        resource: String,
        payload: Value,
        heartbeat_ms: Option<u64>,
    ) -> Command {
        Command::RunTask(TaskCommand {
            task_id,
            resource,
            payload,
            state_name: self.workflow_type.clone(),
            task_token: token,
            timeout_seconds: None,
            heartbeat_seconds: heartbeat_ms.map(|ms| ms.div_ceil(1000)),
            attempt: 0,
        })
    }

    fn task_started(&mut self, task_id: u64, started: i64, now: i64, out: &mut Effects) {
        match self.tasks.get(&task_id).map(|t| t.kind.clone()) {
            Some(TaskKind::Workflow { .. }) => {
                let at = started + self.task_timeout_ms;
                if at <= now {
                    self.workflow_task_timed_out(task_id, now, out);
                } else {
                    self.start_timer(at, TimerKind::WorkflowTaskTimeout { task_id }, out);
                }
            }
            Some(TaskKind::Activity { seq, .. }) => self.attempt_started(task_id, seq, started, now, out),
            _ => {}
        }
    }

    fn close(
        &mut self,
        status: Status,
        output: Option<Value>,
        error: Option<String>,
        cause: Option<String>,
        out: &mut Effects,
    ) {
        for id in std::mem::take(&mut self.tasks).into_keys() {
            out.commands.push(Command::CancelTask { task_id: id });
        }
        self.timers.clear();
        self.activities.clear();
        self.buffered.clear();
        self.closed = true;
        out.commands.push(Command::Finish { status, output, error, cause });
    }
}
