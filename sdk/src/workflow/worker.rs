//! A worker: polls one task queue of a Stepwise API for workflow tasks
//! (replays the history through the registered code and answers with its
//! commands), query tasks (queries and update validators on the replayed
//! state) and activity tasks (runs the registered function). It keeps no
//! state between tasks: killed at any point, another worker carries on.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::activity::{ActivityContext, ActivityFn, activity_fn, activity_fn_with_context};
use super::history::{ActivityError, Event};
use super::{
    WorkflowContext, WorkflowError, WorkflowFn, workflow_fn, workflow_query, workflow_task_with_locals,
    workflow_validate,
};
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
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// Tries at reporting a task's outcome while the API cannot be reached
/// (about 30 s with the backoff above): the work is done, so it is not
/// given up lightly. The token stays valid across a restart of the API.
const REPORT_ATTEMPTS_MAX: u32 = 20;

pub struct Worker {
    client: Client,
    task_queue: String,
    name: String,
    workflows: HashMap<String, WorkflowFn>,
    activities: HashMap<String, ActivityFn>,
    workflow_pollers: usize,
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
        }
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
        let stopping = Cell::new(false);
        let pollers = (0..self.workflow_pollers).map(|_| self.serve_workflows(&stopping));
        let both = futures::future::join(futures::future::join_all(pollers), self.serve_activities(&stopping));
        tokio::pin!(both);
        tokio::select! {
            () = stop => {}
            _ = &mut both => return,
        }
        stopping.set(true);
        let _ = self.client.call("ShutdownWorker", json!({"workerName": self.name})).await;
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, both).await;
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
        loop {
            if poll.is_none() && !stopping.get() && running.len() < ACTIVITIES_CONCURRENT_MAX {
                let body = json!({"taskQueue": self.task_queue, "workerName": self.name});
                poll = Some(Box::pin(self.client.call("PollActivityTask", body)));
            }
            let Some(p) = poll.as_mut() else {
                if running.is_empty() {
                    return; // stopping, and nothing left to finish
                }
                running.next().await;
                continue;
            };
            tokio::select! {
                r = p => {
                    poll = None;
                    match r {
                        Ok(t) if t.get("taskToken").is_some() => running.push(self.run_activity(t)),
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
            }
        }
    }

    /// Long-polls for one workflow or query task and answers it; false if none came.
    pub async fn workflow_task_once(&self) -> Result<bool, Error> {
        let body = json!({"taskQueue": self.task_queue, "workerName": self.name});
        let t = self.client.call("PollWorkflowTask", body).await?;
        let history: Vec<Event> = match t.get("history") {
            Some(h) => serde_json::from_value(h.clone()).map_err(|e| Error::History(e.to_string()))?,
            None => return Ok(false),
        };
        let code = t["workflowType"].as_str().and_then(|w| self.workflows.get(w));
        if let Some(id) = t["queryId"].as_str() {
            let answer = match code {
                None => Err(Error::Unknown(format!("workflow type {} on this worker", t["workflowType"]))),
                Some(code) => self.answer_query(code, &history, &t),
            };
            let body = match answer {
                Ok(output) => json!({"queryId": id, "output": output}),
                Err(Error::UpdateRejected(reason)) => {
                    json!({"queryId": id, "error": "UpdateRejected", "cause": reason})
                }
                Err(e) => json!({"queryId": id, "error": "QueryFailed", "cause": e.to_string()}),
            };
            self.report("RespondQueryTaskCompleted", body).await?;
            return Ok(true);
        }
        let token = t["taskToken"].as_str().unwrap_or_default();
        let now = now_ms();
        let done = match code {
            None => Err(Error::Unknown(format!("workflow type {} on this worker", t["workflowType"]))),
            Some(code) => workflow_task_with_locals(code, &history, now, &self.activities).await,
        };
        match done {
            Ok(commands) => {
                let body = json!({"taskToken": token, "commands": commands, "timeMs": now});
                self.report("RespondWorkflowTaskCompleted", body).await?;
            }
            Err(e) => {
                let error = match e {
                    Error::NonDeterminism { .. } => "Stepwise.NonDeterminism",
                    _ => "Stepwise.WorkflowTaskFailed",
                };
                let body = json!({"taskToken": token, "error": error, "cause": e.to_string()});
                self.report("RespondWorkflowTaskFailed", body).await?;
            }
        }
        Ok(true)
    }

    /// Reports an outcome, trying again while the API cannot be reached.
    async fn report(&self, operation: &str, body: Value) -> Result<Value, Error> {
        let mut pause = RETRY_MIN;
        for _ in 1..REPORT_ATTEMPTS_MAX {
            match self.client.call(operation, body.clone()).await {
                Err(Error::Transport(_)) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY_MAX);
                }
                other => return other,
            }
        }
        self.client.call(operation, body).await
    }

    fn answer_query(&self, code: &WorkflowFn, history: &[Event], t: &Value) -> Result<Value, Error> {
        let name = t["queryName"].as_str().unwrap_or_default();
        match t["queryType"].as_str() {
            Some("VALIDATE_UPDATE") => workflow_validate(code, history, name, &t["queryInput"]).map(|()| Value::Null),
            _ => workflow_query(code, history, name),
        }
    }

    /// Long-polls for one activity task and runs it; false if none came.
    pub async fn activity_task_once(&self) -> Result<bool, Error> {
        let body = json!({"taskQueue": self.task_queue, "workerName": self.name});
        let t = self.client.call("PollActivityTask", body).await?;
        if t.get("taskToken").is_none() {
            return Ok(false);
        }
        self.run_activity(t).await;
        Ok(true)
    }

    /// Runs a polled activity task and reports its outcome. A report the API
    /// refuses (the attempt timed out meanwhile) or cannot take is dropped:
    /// the server's timeouts retry the activity.
    async fn run_activity(&self, t: Value) {
        let token = t["taskToken"].as_str().unwrap_or_default();
        let name = t["activityType"].as_str().unwrap_or_default();
        let outcome = match self.activities.get(name) {
            Some(f) => {
                let attempt = t["attempt"].as_u64().unwrap_or(1) as u32;
                let (client, beat_token) = (self.client.clone(), token.to_string());
                let beat = Rc::new(move || {
                    let (client, body) = (client.clone(), json!({"taskToken": beat_token}));
                    async move {
                        // Refused (TaskTimedOut): the attempt is over; unreachable: carry on.
                        !matches!(client.call("SendTaskHeartbeat", body).await, Err(Error::Service { .. }))
                    }
                    .boxed_local()
                });
                f(ActivityContext::with_heartbeat(attempt, beat), t["input"].clone()).await
            }
            None => Err(ActivityError::non_retryable(
                "Stepwise.ActivityNotRegistered",
                format!("no activity {name:?} on the workers of this task queue"),
            )),
        };
        let _ = match outcome {
            Ok(output) => {
                let body = json!({"taskToken": token, "output": output.to_string()});
                self.report("SendTaskSuccess", body).await
            }
            Err(e) => {
                let cause = json!({"message": e.message, "nonRetryable": e.non_retryable}).to_string();
                let body = json!({"taskToken": token, "error": e.error_type, "cause": cause});
                self.report("SendTaskFailure", body).await
            }
        };
    }
}

/// A name no other worker has: the API ends this worker's polls by it.
fn worker_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let salt = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("worker-{}-{salt:016x}", std::process::id())
}

/// The worker's clock: the time its workflow tasks run at (the server keeps it in order).
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
