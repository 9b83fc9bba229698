//! What a workflow's code reaches the world through. Every call that would
//! be nondeterministic (time, randomness, activities, timers, signals,
//! side effects) goes through here, is numbered in call order, and is
//! answered from the history on replay.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use state_language::entropy::Entropy;

use super::WorkflowError;
use super::history::{ActivityError, ActivityOptions, Command, RunInfo};
use super::local::LocalRequest;
use super::scope::{CANCELLED, CANCELLED_BY_REQUEST, CancellationScope, until_cancelled};
pub use super::waits::Sleep;
use super::waits::{ActivityFuture, CancelFuture, ChildFuture, SignalFuture, UpdateFuture};

/// The replay state a context and its futures share (one thread, one task).
pub(super) struct Inner {
    /// From the history's `WorkflowStarted` (default values for histories recorded before it).
    pub info: RunInfo,
    pub now_ms: i64,
    pub entropy: Entropy,
    pub next_seq: u64,
    pub commands: Vec<Command>,
    pub activities: BTreeMap<u64, Slot<Result<Value, ActivityError>>>,
    pub timers: BTreeMap<u64, Slot<()>>,
    pub signals: BTreeMap<String, VecDeque<Value>>,
    pub signal_waiters: Vec<Waker>,
    /// Markers recorded in the history being replayed, by seq.
    pub markers: BTreeMap<u64, (String, Value)>,
    /// Replaying recorded workflow tasks (vs running a new one).
    pub replaying: bool,
    pub children: BTreeMap<u64, Slot<Result<Value, WorkflowError>>>,
    pub cancel_requested: bool,
    pub cancel_waiters: Vec<Waker>,
    /// Read-only handlers a query runs after the history is replayed.
    pub queries: BTreeMap<String, Rc<dyn Fn() -> Value>>,
    /// Update validators, run on the replayed state before an update is accepted.
    pub validators: BTreeMap<String, Validator>,
    /// Accepted updates not yet taken by the code: name → (id, payload).
    pub updates: BTreeMap<String, VecDeque<(String, Value)>>,
    /// Cancelled when the workflow is asked to stop.
    pub root: CancellationScope,
    /// Outcomes of local activities the worker ran for this task, by seq.
    pub local_results: BTreeMap<u64, Result<Value, ActivityError>>,
    /// Local activities the code waits on that the worker has yet to run.
    pub local_requests: Vec<LocalRequest>,
    pub locals: BTreeMap<u64, Slot<Result<Value, ActivityError>>>,
    /// Inside a detached scope's poll: work started now ignores cancellation.
    pub detached_polling: u32,
    /// Detached work still running: a cancelled run waits for it.
    pub detached_live: u32,
}

/// Decides whether an update's payload is accepted; the reason if not.
pub type Validator = Rc<dyn Fn(&Value) -> Result<(), String>>;

/// An accepted update the code is handling; answer it with [`WorkflowContext::respond`].
#[derive(Debug, Clone, PartialEq)]
pub struct Update<T> {
    pub id: String,
    pub payload: T,
}

/// A result that may not have come yet, and who waits for it.
pub(super) struct Slot<T> {
    pub value: Option<T>,
    pub waker: Option<Waker>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot { value: None, waker: None }
    }
}

impl<T> Slot<T> {
    pub fn resolve(&mut self, v: T) {
        self.value = Some(v);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The workflow's handle on the world; cheap to clone.
#[derive(Clone)]
pub struct WorkflowContext {
    pub(super) inner: Rc<RefCell<Inner>>,
}

impl WorkflowContext {
    pub(super) fn seq(&self) -> u64 {
        let mut i = self.inner.borrow_mut();
        i.next_seq += 1;
        i.next_seq
    }

    /// What the run knows about itself: its execution, run number (and the
    /// previous run under continue-as-new), type, task queue, start time and
    /// parent. Read from the history, so the same on replay.
    pub fn info(&self) -> RunInfo {
        self.inner.borrow().info.clone()
    }

    /// The time of the current workflow task, not the clock: the same on replay.
    pub fn now_ms(&self) -> i64 {
        self.inner.borrow().now_ms
    }

    /// A random number from the execution's seed: the same on replay.
    pub fn random_u64(&self) -> u64 {
        self.inner.borrow_mut().entropy.next_u64()
    }

    pub fn uuid(&self) -> String {
        let mut i = self.inner.borrow_mut();
        let (a, b) = (i.entropy.next_u64(), i.entropy.next_u64());
        state_language::entropy::uuid_v4(a, b)
    }

    /// Runs an activity with the default options (Temporal's retry policy).
    pub fn activity<I: Serialize, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> impl Future<Output = Result<O, ActivityError>> + use<I, O> {
        self.activity_with(name, input, ActivityOptions::default())
    }

    /// Runs an activity: retried by the worker's host as `options` say, and
    /// recorded once, with its final outcome.
    pub fn activity_with<I: Serialize, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
        options: ActivityOptions,
    ) -> impl Future<Output = Result<O, ActivityError>> + use<I, O> {
        let seq = self.seq();
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        let mut i = self.inner.borrow_mut();
        i.commands.push(Command::ScheduleActivity { seq, name: name.to_string(), input, options });
        i.activities.entry(seq).or_default();
        drop(i);
        let root = self.watched_root();
        let fut = ActivityFuture { inner: self.inner.clone(), seq, done: false };
        async move {
            let v = until_cancelled(root, fut, || ActivityError::new(CANCELLED, CANCELLED_BY_REQUEST)).await?;
            serde_json::from_value(v).map_err(|e| ActivityError::non_retryable("Stepwise.DecodeError", e.to_string()))
        }
    }

    /// The root scope work started now answers to: none inside a detached scope.
    fn watched_root(&self) -> Option<CancellationScope> {
        let i = self.inner.borrow();
        (i.detached_polling == 0).then(|| i.root.clone())
    }

    /// Runs `work` detached from cancellation: activities, children and
    /// timers it starts are not cancelled by a cancellation request, and a
    /// cancelled run waits for it. For cleanup after a cancellation:
    ///
    /// ```ignore
    /// match ctx.activity::<_, ()>("work", &job).await {
    ///     Err(e) if e.error_type == CANCELLED => {
    ///         ctx.detached(|| ctx.activity::<_, ()>("undo", &job)).await?; // runs to its end
    ///         Err(e.into())                                             // the run ends ABORTED
    ///     }
    ///     other => other.map_err(Into::into),
    /// }
    /// ```
    /// `start` is called at once, detached, and what it gives is polled detached.
    pub fn detached<'a, T: 'a, Fut: Future<Output = T> + 'a>(
        &self,
        start: impl FnOnce() -> Fut,
    ) -> impl Future<Output = T> + 'a {
        self.inner.borrow_mut().detached_polling += 1;
        let work = start();
        self.inner.borrow_mut().detached_polling -= 1;
        super::scope::Detached::new(self.inner.clone(), work)
    }

    /// The workflow's root cancellation scope: cancelled by a cancellation
    /// request. Work run in it, or in its children, stops by itself then.
    pub fn root_scope(&self) -> CancellationScope {
        self.inner.borrow().root.clone()
    }

    /// Sleeps durably: a timer in the history, fired by the host however long it takes.
    pub fn sleep(&self, d: Duration) -> Sleep {
        let seq = self.seq();
        let mut i = self.inner.borrow_mut();
        let fire_at_ms = i.now_ms.saturating_add(d.as_millis().min(i64::MAX as u128) as i64);
        i.commands.push(Command::StartTimer { seq, fire_at_ms });
        i.timers.entry(seq).or_default();
        drop(i);
        Sleep { inner: self.inner.clone(), seq, fired: false }
    }

    /// The next signal named `name`, decoded.
    pub async fn signal<T: DeserializeOwned>(&self, name: &str) -> Result<T, WorkflowError> {
        let v = SignalFuture { inner: self.inner.clone(), name: name.to_string() }.await;
        serde_json::from_value(v).map_err(|e| WorkflowError::new("Stepwise.DecodeError", e.to_string()))
    }

    /// The next signal named `name`, or `None` once `timeout` has passed.
    pub async fn signal_or_timeout<T: DeserializeOwned>(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<Option<T>, WorkflowError> {
        let signal = std::pin::pin!(self.signal::<T>(name));
        let timer = self.sleep(timeout);
        match futures::future::select(signal, timer).await {
            futures::future::Either::Left((v, _timer)) => v.map(Some),
            futures::future::Either::Right(((), _)) => Ok(None),
        }
    }

    /// Runs `f` once and records its value; on replay the recorded value is
    /// returned and `f` is not run.
    pub fn side_effect<T: Serialize + DeserializeOwned>(&self, f: impl FnOnce() -> T) -> Result<T, WorkflowError> {
        let seq = self.seq();
        let recorded = self.inner.borrow().markers.get(&seq).cloned();
        let value = match recorded {
            Some((_, v)) => v,
            None => serde_json::to_value(f()).unwrap_or(Value::Null),
        };
        let cmd = Command::RecordMarker { seq, name: "SideEffect".into(), value: value.clone() };
        self.inner.borrow_mut().commands.push(cmd);
        // A recorded value that no longer decodes means the code changed its type.
        serde_json::from_value(value).map_err(|e| WorkflowError::new("Stepwise.DecodeError", e.to_string()))
    }

    /// Runs a child workflow to its end: its own run, id and history.
    pub fn child_workflow<I: Serialize, O: DeserializeOwned>(
        &self,
        workflow_type: &str,
        id: &str,
        input: &I,
    ) -> impl Future<Output = Result<O, WorkflowError>> + use<I, O> {
        let seq = self.seq();
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        let mut i = self.inner.borrow_mut();
        let (workflow_type, id) = (workflow_type.to_string(), id.to_string());
        i.commands.push(Command::StartChild { seq, workflow_type, id, input });
        i.children.entry(seq).or_default();
        drop(i);
        let root = self.watched_root();
        let fut = ChildFuture { inner: self.inner.clone(), seq };
        async move {
            let v = until_cancelled(root, fut, || WorkflowError::new(CANCELLED, CANCELLED_BY_REQUEST)).await?;
            serde_json::from_value(v).map_err(|e| WorkflowError::new("Stepwise.DecodeError", e.to_string()))
        }
    }

    /// Closes this run and starts a new one of the same workflow on `input`,
    /// with an empty history: return the error this gives from the workflow.
    pub fn continue_as_new<I: Serialize>(&self, input: &I) -> WorkflowError {
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        self.inner.borrow_mut().commands.push(Command::ContinueAsNew { input });
        WorkflowError::new(super::CONTINUE_AS_NEW, "the run continues as a new run")
    }

    /// Resolves once someone asks this workflow to cancel (RequestCancelExecution;
    /// StopExecution ends a run without telling its code). Racing it lets
    /// the code decide what stopping means; cleanup it then starts must run
    /// in [`detached`](Self::detached), or it is cancelled with the run.
    pub fn cancelled(&self) -> impl Future<Output = ()> + use<> {
        CancelFuture { inner: self.inner.clone() }
    }

    /// Answers the query `name` with `f`, which reads the workflow's state
    /// (share it through `Rc<RefCell<_>>`); queries never change history.
    pub fn on_query(&self, name: &str, f: impl Fn() -> Value + 'static) {
        self.inner.borrow_mut().queries.insert(name.to_string(), Rc::new(f));
    }

    /// Checks updates named `name` before they are accepted: a rejected
    /// update leaves no trace in the history.
    pub fn on_update(&self, name: &str, validator: impl Fn(&Value) -> Result<(), String> + 'static) {
        self.inner.borrow_mut().validators.insert(name.to_string(), Rc::new(validator));
    }

    /// The next accepted update named `name`, decoded.
    pub async fn update<T: DeserializeOwned>(&self, name: &str) -> Result<Update<T>, WorkflowError> {
        let (id, v) = UpdateFuture { inner: self.inner.clone(), name: name.to_string() }.await;
        let payload =
            serde_json::from_value(v).map_err(|e| WorkflowError::new("Stepwise.DecodeError", e.to_string()))?;
        Ok(Update { id, payload })
    }

    /// Answers an update; the caller waiting on it gets `result`.
    pub fn respond<T, R: Serialize>(&self, update: &Update<T>, result: &R) {
        let result = serde_json::to_value(result).unwrap_or(Value::Null);
        self.inner.borrow_mut().commands.push(Command::CompleteUpdate { id: update.id.clone(), result });
    }

    /// Whether this execution runs the code after the change named `id`:
    /// true for new executions and for ones that recorded it, false for
    /// executions that passed this point before the change was deployed.
    pub fn patched(&self, id: &str) -> bool {
        let mut i = self.inner.borrow_mut();
        let seq = i.next_seq + 1;
        let name = format!("Patch:{id}");
        let recorded = i.markers.get(&seq).is_some_and(|(n, _)| *n == name);
        if i.replaying && !recorded {
            return false; // old code ran here: no marker, no seq
        }
        i.next_seq = seq;
        i.commands.push(Command::RecordMarker { seq, name, value: Value::Bool(true) });
        true
    }
}
