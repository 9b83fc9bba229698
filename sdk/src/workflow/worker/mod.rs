//! A worker: polls one task queue of a Stepwise API for workflow tasks
//! (replays the history through the registered code and answers with its
//! commands), query tasks (queries and update validators on the replayed
//! state) and activity tasks (runs the registered function). It keeps runs'
//! replayed states between their tasks, as a cache only (`sticky.rs`):
//! killed at any point, another worker carries on from the whole history.

mod eager;
mod sticky;
mod tasks;

pub use sticky::{STICKY_BYTES_MAX_DEFAULT, STICKY_RUNS_MAX_DEFAULT};

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::activity::{ActivityContext, ActivityFn, activity_fn, activity_fn_with_context};
use super::history::ActivityError;
use super::{WorkflowContext, WorkflowError, WorkflowFn, workflow_fn};
use crate::Error;
use crate::client::Client;

/// Workflow-task polls a worker keeps open, by default and at most.
pub const WORKFLOW_POLLERS_DEFAULT: usize = 2;
pub const WORKFLOW_POLLERS_MAX: usize = 32;
/// Activities one worker runs at once.
pub const ACTIVITIES_CONCURRENT_MAX: usize = 64;
/// How long a graceful shutdown waits for polls and activities to end.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(75);
/// Pause after a failed poll (the API restarting, say), doubling up to the max.
pub(super) const RETRY_MIN: Duration = Duration::from_millis(50);
pub(super) const RETRY_MAX: Duration = Duration::from_secs(2);
/// Tries at reporting a task's outcome while the API cannot be reached
/// (about 30 s with the backoff above): the work is done, so it is not
/// given up lightly. The token stays valid across a restart of the API.
pub(super) const REPORT_ATTEMPTS_MAX: u32 = 20;

pub struct Worker {
    client: Client,
    task_queue: String,
    name: String,
    workflows: HashMap<String, WorkflowFn>,
    activities: HashMap<String, ActivityFn>,
    workflow_pollers: usize,
    /// Runs' replayed states between their workflow tasks.
    sticky: RefCell<sticky::StickyCache>,
    /// Activity tasks handed over with answers to workflow tasks.
    eager: eager::EagerTasks,
}

impl Worker {
    pub fn new(client: Client, task_queue: &str) -> Worker {
        Worker {
            client,
            task_queue: task_queue.to_string(),
            name: worker_name(),
            workflows: HashMap::new(),
            activities: HashMap::new(),
            workflow_pollers: WORKFLOW_POLLERS_DEFAULT,
            sticky: RefCell::new(sticky::StickyCache::new(STICKY_RUNS_MAX_DEFAULT, STICKY_BYTES_MAX_DEFAULT)),
            eager: eager::EagerTasks::default(),
        }
    }

    /// Bounds the sticky cache: at most `runs` runs' replayed states and
    /// `bytes` (counted as their histories' JSON); 0 runs turns it off.
    pub fn sticky_cache(self, runs: usize, bytes: usize) -> Worker {
        *self.sticky.borrow_mut() = sticky::StickyCache::new(runs, bytes);
        self
    }

    /// What the sticky cache holds and how often it served.
    pub fn sticky_stats(&self) -> StickyStats {
        let s = self.sticky.borrow();
        StickyStats { hits: s.hits, misses: s.misses, runs: s.len(), bytes: s.bytes() }
    }

    /// Names the worker (by default `worker-<pid>-<random>`): the name the
    /// server records for its tasks, and its queue of sticky tasks. A worker
    /// restarted under the same name gets its runs' sticky tasks with nothing
    /// kept, and reads their histories whole.
    pub fn named(mut self, name: &str) -> Worker {
        self.name = name.to_string();
        self
    }

    /// Activity tasks this worker was handed with its answers to workflow
    /// tasks (eager activities), instead of polling for them.
    pub fn eager_activities(&self) -> u64 {
        self.eager.taken.get()
    }

    /// Talks to the API through `client` (a signed one, say).
    pub fn with_client(mut self, client: Client) -> Worker {
        self.client = client;
        self
    }

    /// How many workflow-task polls the worker keeps open at once (1 to
    /// [`WORKFLOW_POLLERS_MAX`]): tasks are short, so more overlap the
    /// round trips, not the replays.
    pub fn workflow_pollers(mut self, n: usize) -> Worker {
        self.workflow_pollers = n.clamp(1, WORKFLOW_POLLERS_MAX);
        self
    }

    pub fn register_workflow<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(WorkflowContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, WorkflowError>> + 'static,
    {
        self.workflows.insert(name.to_string(), workflow_fn(f));
    }

    /// Registers an activity that takes its [`ActivityContext`] (to heartbeat).
    pub fn register_activity_with_context<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(ActivityContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
    {
        self.activities.insert(name.to_string(), activity_fn_with_context(f));
    }

    pub fn register_activity<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
    {
        self.activities.insert(name.to_string(), activity_fn(f));
    }

    /// Serves workflow and activity tasks until `stop` resolves, then shuts
    /// down gracefully: tells the API (so that no task is handed to a poll
    /// it will not read), lets the polls end and running activities finish,
    /// at most [`SHUTDOWN_WAIT`]. The worker's futures are not `Send`
    /// (workflow code is single-threaded): run it on a current-thread
    /// runtime or a `LocalSet`. Dropping it instead is a crash: its tasks are
    /// handed out again after their timeouts.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        // The types this worker serves exist before it takes a task, so a
        // workflow may start a child of any of them without a separate call.
        tokio::select! {
            () = self.register_types() => {}
            () = &mut stop => return,
        }
        let stopping = Cell::new(false);
        let pollers = (0..self.workflow_pollers).map(|_| self.serve_workflows(&stopping));
        let both = futures::future::join(futures::future::join_all(pollers), self.serve_activities(&stopping));
        tokio::pin!(both);
        tokio::select! {
            () = stop => {}
            _ = &mut both => return,
        }
        stopping.set(true);
        // No more eager tasks: answers from now on ask for none.
        self.eager.open.set(false);
        let _ = self.client.call("ShutdownWorker", json!({"workerName": self.name})).await;
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, both).await;
    }

    /// Registers every workflow type this worker serves on its task queue
    /// (idempotent), retrying while the API cannot be reached. A type the API
    /// refuses (registered on another queue, say) is left as it is: starting
    /// it then fails with the API's error, where the caller sees it.
    pub async fn register_types(&self) {
        let mut names: Vec<&String> = self.workflows.keys().collect();
        names.sort();
        for name in names {
            let mut pause = RETRY_MIN;
            loop {
                match self.client.register_workflow_type(name, &self.task_queue).await {
                    Ok(_) => break,
                    Err(Error::Service { .. }) => break,
                    Err(_) => {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(RETRY_MAX);
                    }
                }
            }
        }
    }

    async fn serve_workflows(&self, stopping: &Cell<bool>) {
        let mut pause = RETRY_MIN;
        while !stopping.get() {
            match self.workflow_task_once().await {
                Ok(_) => pause = RETRY_MIN,
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// Runs up to [`ACTIVITIES_CONCURRENT_MAX`] activities at once, polling
    /// for more while a slot is free.
    async fn serve_activities(&self, stopping: &Cell<bool>) {
        let mut running = FuturesUnordered::new();
        let mut poll: Option<LocalBoxFuture<'_, Result<Value, Error>>> = None;
        let mut pause = RETRY_MIN;
        // Answers to workflow tasks may bring tasks only while this loop runs.
        self.eager.open.set(!stopping.get() && !self.activities.is_empty());
        loop {
            // Tasks handed over eagerly are started already: they go first.
            while running.len() < ACTIVITIES_CONCURRENT_MAX
                && let Some(t) = self.eager.pop()
            {
                running.push(self.run_activity(t));
            }
            self.eager.running.set(running.len());
            if poll.is_none() && !stopping.get() && running.len() < ACTIVITIES_CONCURRENT_MAX {
                let body = json!({"taskQueue": self.task_queue, "workerName": self.name});
                poll = Some(Box::pin(self.client.call("PollActivityTask", body)));
            }
            let Some(p) = poll.as_mut() else {
                if running.is_empty() && self.eager.idle() {
                    return; // stopping, and nothing left to finish
                }
                tokio::select! {
                    Some(()) = running.next(), if !running.is_empty() => {}
                    () = self.eager.ready.notified() => {}
                }
                continue;
            };
            tokio::select! {
                r = p => {
                    poll = None;
                    match r {
                        Ok(t) if t.get("kind").is_some() => running.push(self.run_activity(t)),
                        Ok(_) => {}
                        Err(_) => {
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(RETRY_MAX);
                            continue;
                        }
                    }
                    pause = RETRY_MIN;
                }
                Some(()) = running.next(), if !running.is_empty() => {}
                () = self.eager.ready.notified() => {}
            }
        }
    }
}

/// The sticky cache's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StickyStats {
    /// Workflow tasks run from a kept state.
    pub hits: u64,
    /// Workflow tasks that replayed the whole history.
    pub misses: u64,
    /// Runs kept now, and the bytes they count for.
    pub runs: usize,
    pub bytes: usize,
}

/// A name no other worker has: the API ends this worker's polls by it.
fn worker_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let salt = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("worker-{}-{salt:016x}", std::process::id())
}

/// The worker's clock: the time its workflow tasks run at (the server keeps it in order).
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
