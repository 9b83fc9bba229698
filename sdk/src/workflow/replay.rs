//! One workflow task: replay the history through the code, checking that
//! the code gives the commands the history recorded, then run the code on
//! to its next commands. A worker may keep the replayed state for the run's
//! next task ([`Replayed`], the sticky cache), but only as a cache: a crash
//! of the worker loses nothing, the next task replays the whole history.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::future::LocalBoxFuture;
use serde_json::Value;
use state_language::entropy::Entropy;

use super::context::{Inner, WorkflowContext};
use super::history::ActivityError;
use super::history::{Command, Event, RunInfo};
use super::local::LocalRequest;
use super::scope::{CANCELLED, CancellationScope};
use super::{WorkflowError, WorkflowFn};
use crate::Error;

/// Polls of the workflow's code in one activation before it is declared to spin.
pub const ACTIVATION_POLLS_MAX: usize = 10_000;

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Machine {
    inner: Rc<RefCell<Inner>>,
    code: Option<LocalBoxFuture<'static, Result<Value, WorkflowError>>>,
    flag: Arc<Flag>,
}

impl Machine {
    /// Polls the code until it waits on something not yet in the history;
    /// gives the commands it issued meanwhile.
    fn activate(&mut self) -> Result<Vec<Command>, Error> {
        let waker = Waker::from(self.flag.clone());
        let mut cx = Context::from_waker(&waker);
        for _ in 0..ACTIVATION_POLLS_MAX {
            let Some(code) = self.code.as_mut() else { break };
            self.flag.0.store(false, Ordering::SeqCst);
            if let Poll::Ready(result) = code.as_mut().poll(&mut cx) {
                self.code = None;
                let mut inner = self.inner.borrow_mut();
                let continued = inner.commands.iter().any(|c| matches!(c, Command::ContinueAsNew { .. }));
                match result {
                    Ok(result) => inner.commands.push(Command::CompleteWorkflow { result }),
                    // The run already closed by continuing as new.
                    Err(e) if continued && e.error == super::CONTINUE_AS_NEW => {}
                    // The code let a cancellation request end it: ABORTED, not FAILED.
                    Err(e) if inner.cancel_requested && e.error == CANCELLED => {
                        inner.commands.push(Command::CancelWorkflow { cause: e.cause })
                    }
                    Err(e) => inner.commands.push(Command::FailWorkflow { error: e.error, cause: e.cause }),
                }
                break;
            }
            if !self.flag.0.load(Ordering::SeqCst) {
                self.cancel_if_blocked();
                return Ok(std::mem::take(&mut self.inner.borrow_mut().commands));
            }
        }
        if self.code.is_some() && self.flag.0.load(Ordering::SeqCst) {
            return Err(Error::Spinning(ACTIVATION_POLLS_MAX));
        }
        Ok(std::mem::take(&mut self.inner.borrow_mut().commands))
    }

    /// A run asked to cancel whose code waits on nothing but cancelled work
    /// (a timer, a signal: what has no error to give) ends now, as Temporal's
    /// ends when its code lets the cancellation error through. Dropping the
    /// code cancels its timers and activities. Detached work, and local
    /// activities the worker is about to run, keep it going.
    fn cancel_if_blocked(&mut self) {
        let blocked = {
            let i = self.inner.borrow();
            i.cancel_requested && i.detached_live == 0 && i.local_requests.is_empty()
        };
        if blocked && self.code.take().is_some() {
            let cause = super::scope::CANCELLED_BY_REQUEST.to_string();
            self.inner.borrow_mut().commands.push(Command::CancelWorkflow { cause });
        }
    }

    /// Applies an event from the outside world.
    fn resolve(&mut self, e: &Event) {
        let mut i = self.inner.borrow_mut();
        match e {
            Event::ActivityCompleted { seq, result, .. } => {
                i.activities.entry(*seq).or_default().resolve(Ok(result.clone()))
            }
            Event::ActivityFailed { seq, error, .. } | Event::ActivityTimedOut { seq, error, .. } => {
                i.activities.entry(*seq).or_default().resolve(Err(error.clone()))
            }
            Event::TimerFired { seq } => i.timers.entry(*seq).or_default().resolve(()),
            Event::ChildCompleted { seq, result } => i.children.entry(*seq).or_default().resolve(Ok(result.clone())),
            Event::ChildFailed { seq, error, cause } => {
                i.children.entry(*seq).or_default().resolve(Err(WorkflowError::new(error, cause.clone())));
            }
            Event::UpdateAccepted { id, name, payload } => {
                i.updates.entry(name.clone()).or_default().push_back((id.clone(), payload.clone()));
                for w in std::mem::take(&mut i.signal_waiters) {
                    w.wake();
                }
            }
            Event::CancelRequested {} => {
                i.cancel_requested = true;
                i.root.cancel();
                for w in std::mem::take(&mut i.cancel_waiters) {
                    w.wake();
                }
            }
            Event::SignalReceived { name, payload } => {
                i.signals.entry(name.clone()).or_default().push_back(payload.clone());
                for w in std::mem::take(&mut i.signal_waiters) {
                    w.wake();
                }
            }
            _ => {}
        }
    }
}

/// Replays `history` through `code` and runs one new workflow task at
/// `now_ms`; gives the new task's commands (empty if the history ends
/// with the workflow closed). A divergence is [`Error::NonDeterminism`].
pub fn workflow_task(code: &WorkflowFn, history: &[Event], now_ms: i64) -> Result<Vec<Command>, Error> {
    match workflow_task_local(code, history, now_ms, &BTreeMap::new())? {
        TaskOutcome::Commands(c) => Ok(c),
        TaskOutcome::LocalActivities(r) => {
            Err(Error::History(format!("{} local activities need a worker that runs them", r.len())))
        }
    }
}

/// What one run of a workflow task gives: its commands, or local
/// activities to run first (then the task runs again with their outcomes).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    Commands(Vec<Command>),
    LocalActivities(Vec<LocalRequest>),
}

/// Runs a workflow task given the outcomes of the local activities run so
/// far in it, by seq.
pub fn workflow_task_local(
    code: &WorkflowFn,
    history: &[Event],
    now_ms: i64,
    local_results: &BTreeMap<u64, Result<Value, ActivityError>>,
) -> Result<TaskOutcome, Error> {
    let mut m = replayed(code, history)?;
    if m.code.is_none() {
        return Ok(TaskOutcome::Commands(Vec::new())); // closed: nothing more to do
    }
    {
        let mut inner = m.inner.borrow_mut();
        inner.now_ms = now_ms;
        inner.replaying = false;
        inner.local_results = local_results.clone();
    }
    let commands = m.activate()?;
    let requests = std::mem::take(&mut m.inner.borrow_mut().local_requests);
    if requests.is_empty() { Ok(TaskOutcome::Commands(commands)) } else { Ok(TaskOutcome::LocalActivities(requests)) }
}

/// A run's code replayed up to its last workflow task, kept for the next
/// one (a sticky cache's entry): the next task feeds it only the events
/// recorded since, instead of replaying the whole history again.
pub struct Replayed {
    machine: Machine,
    /// Events of the run's history consumed: the next task's events start here.
    seen: usize,
    /// The commands the last task gave, which the history records next.
    given: Vec<Command>,
}

impl Replayed {
    /// How many events of the run's history this state has consumed: the
    /// events a task gives [`advance`](Self::advance) start at this index.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Runs the next workflow task at `now_ms` on this state. `new` are the
    /// run's events from [`seen`](Self::seen) on: the last task's start, its
    /// recorded commands, and what happened since. A history that does not
    /// follow from this state (the last task's answer was lost, another
    /// worker ran a task meanwhile) is an error: the caller replays the whole
    /// history instead, as [`workflow_task_kept`] does.
    pub fn advance(mut self, new: &[Event], now_ms: i64) -> Result<(TaskOutcome, Option<Replayed>), Error> {
        let mut i = 0;
        while new.get(i).is_some_and(Event::is_bookkeeping) {
            i += 1;
        }
        if !matches!(new.get(i), Some(Event::WorkflowTaskStarted { .. })) {
            return Err(Error::History(format!("event {} is not the kept task's start", self.seen + i + 1)));
        }
        {
            let mut inner = self.machine.inner.borrow_mut();
            inner.replaying = true;
            inner.markers.extend(new.iter().filter_map(marker));
        }
        let given = std::mem::take(&mut self.given);
        let mut m = self.machine;
        // The kept task's commands first (its start was run live already), then the rest.
        let mut at = i + 1;
        recorded(new, &mut at, given)?;
        feed(&mut m, new, at, Vec::new())?;
        live(m, self.seen + new.len(), now_ms)
    }
}

/// Runs a workflow task at `now_ms` from the run's whole `history`, as
/// [`workflow_task`] does, and keeps the replayed state for the next task
/// (none once the code has ended, or when the task asks for local
/// activities: they run through [`workflow_task_with_locals`](super::workflow_task_with_locals)).
pub fn workflow_task_kept(
    code: &WorkflowFn,
    history: &[Event],
    now_ms: i64,
) -> Result<(TaskOutcome, Option<Replayed>), Error> {
    live(replayed(code, history)?, history.len(), now_ms)
}

/// The live part of a workflow task: the code runs on at `now_ms`.
fn live(mut m: Machine, seen: usize, now_ms: i64) -> Result<(TaskOutcome, Option<Replayed>), Error> {
    if m.code.is_none() {
        return Ok((TaskOutcome::Commands(Vec::new()), None)); // closed: nothing more to do
    }
    {
        let mut inner = m.inner.borrow_mut();
        inner.now_ms = now_ms;
        inner.replaying = false;
        inner.local_results.clear();
    }
    let commands = m.activate()?;
    let requests = std::mem::take(&mut m.inner.borrow_mut().local_requests);
    if !requests.is_empty() {
        return Ok((TaskOutcome::LocalActivities(requests), None));
    }
    let kept = m.code.is_some().then(|| Replayed { machine: m, seen, given: commands.clone() });
    Ok((TaskOutcome::Commands(commands), kept))
}

/// Answers the query `name` from the state the replayed history rebuilds.
pub fn workflow_query(code: &WorkflowFn, history: &[Event], name: &str) -> Result<Value, Error> {
    let m = replayed(code, history)?;
    let handler = m.inner.borrow().queries.get(name).cloned();
    handler.map(|f| f()).ok_or_else(|| Error::Unknown(format!("query {name:?}")))
}

/// Runs the validator of update `name` on the replayed state; no validator accepts.
pub fn workflow_validate(code: &WorkflowFn, history: &[Event], name: &str, payload: &Value) -> Result<(), Error> {
    let m = replayed(code, history)?;
    let validator = m.inner.borrow().validators.get(name).cloned();
    match validator {
        Some(v) => v(payload).map_err(Error::UpdateRejected),
        None => Ok(()),
    }
}

/// The code, replayed through every recorded workflow task.
fn replayed(code: &WorkflowFn, history: &[Event]) -> Result<Machine, Error> {
    let mut m = begin(code, history)?;
    feed(&mut m, history, 1, Vec::new())?;
    Ok(m)
}

/// The code started from the history's `WorkflowStarted`, before any task.
/// The markers of the whole `history` are there for its replay to read.
fn begin(code: &WorkflowFn, history: &[Event]) -> Result<Machine, Error> {
    let Some(Event::WorkflowStarted { input, seed, info, workflow_type }) = history.first() else {
        return Err(Error::History("a history starts with WorkflowStarted".into()));
    };
    let markers: BTreeMap<u64, (String, Value)> = history.iter().filter_map(marker).collect();
    let info = info.clone().unwrap_or_else(|| RunInfo { workflow_type: workflow_type.clone(), ..RunInfo::default() });
    let inner = Rc::new(RefCell::new(Inner {
        info,
        now_ms: 0,
        entropy: Entropy::new(*seed),
        next_seq: 0,
        commands: Vec::new(),
        activities: BTreeMap::new(),
        timers: BTreeMap::new(),
        signals: BTreeMap::new(),
        signal_waiters: Vec::new(),
        markers,
        replaying: true,
        children: BTreeMap::new(),
        cancel_requested: false,
        cancel_waiters: Vec::new(),
        queries: BTreeMap::new(),
        validators: BTreeMap::new(),
        updates: BTreeMap::new(),
        root: CancellationScope::new(),
        local_results: BTreeMap::new(),
        local_requests: Vec::new(),
        locals: BTreeMap::new(),
        detached_polling: 0,
        detached_live: 0,
    }));
    let ctx = WorkflowContext { inner: inner.clone() };
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    Ok(Machine { inner, code: Some(code(ctx, input.clone())), flag })
}

fn marker(e: &Event) -> Option<(u64, (String, Value))> {
    match e {
        Event::MarkerRecorded { seq, name, value } => Some((*seq, (name.clone(), value.clone()))),
        _ => None,
    }
}

/// Feeds `history[from..]` to the machine: outside events resolve what
/// the code waits on, and each recorded workflow task runs the code again,
/// whose commands must be the events that follow it. `given` are commands
/// the machine gave before `from` (its last live task's), which the history
/// records first.
fn feed(m: &mut Machine, history: &[Event], from: usize, given: Vec<Command>) -> Result<(), Error> {
    let mut i = from;
    recorded(history, &mut i, given)?;
    while i < history.len() {
        let e = &history[i];
        i += 1;
        match e {
            Event::WorkflowTaskStarted { time_ms } => {
                m.inner.borrow_mut().now_ms = *time_ms;
                let commands = m.activate()?;
                recorded(history, &mut i, commands)?;
            }
            e if e.is_command() => {
                return Err(Error::History(format!("event {i} ({}) follows no workflow task", e.describe())));
            }
            e => m.resolve(e),
        }
    }
    Ok(())
}

/// Checks that the events from `i` on record exactly `commands` (past
/// bookkeeping), and moves `i` past them.
fn recorded(history: &[Event], i: &mut usize, commands: Vec<Command>) -> Result<(), Error> {
    for cmd in commands {
        while history.get(*i).is_some_and(Event::is_bookkeeping) {
            *i += 1;
        }
        let Some(event) = history.get(*i).filter(|e| e.is_command()) else {
            let event = history.get(*i).map_or("the end of the history".into(), |e| e.describe());
            return Err(non_determinism(*i + 1, &event, &cmd));
        };
        if !cmd.matches(event) {
            return Err(non_determinism(*i + 1, &event.describe(), &cmd));
        }
        *i += 1;
    }
    while history.get(*i).is_some_and(Event::is_bookkeeping) {
        *i += 1;
    }
    if let Some(extra) = history.get(*i).filter(|e| e.is_command()) {
        return Err(Error::NonDeterminism {
            event_id: *i as u64 + 1,
            event: extra.describe(),
            command: "no command (the code no longer gives it)".into(),
        });
    }
    Ok(())
}

fn non_determinism(event_id: usize, event: &str, cmd: &Command) -> Error {
    Error::NonDeterminism { event_id: event_id as u64, event: event.to_string(), command: cmd.event().describe() }
}
