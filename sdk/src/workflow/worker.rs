//! A worker: polls one task queue of a Stepwise API for workflow tasks
//! (replays the history through the registered code and answers with its
//! commands), query tasks (queries and update validators on the replayed
//! state) and activity tasks (runs the registered function). It keeps no
//! state between tasks: killed at any point, another worker carries on.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::history::{ActivityError, Event};
use super::testenv::{ActivityFn, activity_fn};
use super::{
    WorkflowContext, WorkflowError, WorkflowFn, workflow_fn, workflow_query, workflow_task, workflow_validate,
};
use crate::Error;
use crate::client::Client;

/// Pause after a failed poll (the API restarting, say), doubling up to the max.
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

pub struct Worker {
    client: Client,
    task_queue: String,
    name: String,
    workflows: HashMap<String, WorkflowFn>,
    activities: HashMap<String, ActivityFn>,
}

impl Worker {
    pub fn new(client: Client, task_queue: &str) -> Worker {
        Worker {
            client,
            task_queue: task_queue.to_string(),
            name: format!("worker-{}", std::process::id()),
            workflows: HashMap::new(),
            activities: HashMap::new(),
        }
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

    pub fn register_activity<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
    {
        self.activities.insert(name.to_string(), activity_fn(f));
    }

    /// Serves workflow and activity tasks until `stop` resolves. The worker's
    /// futures are not `Send` (workflow code is single-threaded): run it on a
    /// current-thread runtime or a `LocalSet`.
    pub async fn run_until(&self, stop: impl Future<Output = ()>) {
        let workflows = self.serve(|| self.workflow_task_once());
        let activities = self.serve(|| self.activity_task_once());
        tokio::select! {
            () = stop => {}
            () = workflows => {}
            () = activities => {}
        }
    }

    async fn serve<F, Fut>(&self, once: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<bool, Error>>,
    {
        let mut pause = RETRY_MIN;
        loop {
            match once().await {
                Ok(_) => pause = RETRY_MIN,
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY_MAX);
                }
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
            self.client.call("RespondQueryTaskCompleted", body).await?;
            return Ok(true);
        }
        let token = t["taskToken"].as_str().unwrap_or_default();
        let now = now_ms();
        let done = match code {
            None => Err(Error::Unknown(format!("workflow type {} on this worker", t["workflowType"]))),
            Some(code) => workflow_task(code, &history, now),
        };
        match done {
            Ok(commands) => {
                let body = json!({"taskToken": token, "commands": commands, "timeMs": now});
                self.client.call("RespondWorkflowTaskCompleted", body).await?;
            }
            Err(e) => {
                let error = match e {
                    Error::NonDeterminism { .. } => "Stepwise.NonDeterminism",
                    _ => "Stepwise.WorkflowTaskFailed",
                };
                let body = json!({"taskToken": token, "error": error, "cause": e.to_string()});
                self.client.call("RespondWorkflowTaskFailed", body).await?;
            }
        }
        Ok(true)
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
        let Some(token) = t["taskToken"].as_str() else { return Ok(false) };
        let name = t["activityType"].as_str().unwrap_or_default();
        let outcome = match self.activities.get(name) {
            Some(f) => f(t["input"].clone()).await,
            None => Err(ActivityError::non_retryable(
                "Stepwise.ActivityNotRegistered",
                format!("no activity {name:?} on the workers of this task queue"),
            )),
        };
        let reported = match outcome {
            Ok(output) => {
                let body = json!({"taskToken": token, "output": output.to_string()});
                self.client.call("SendTaskSuccess", body).await
            }
            Err(e) => {
                let cause = json!({"message": e.message, "nonRetryable": e.non_retryable}).to_string();
                let body = json!({"taskToken": token, "error": e.error_type, "cause": cause});
                self.client.call("SendTaskFailure", body).await
            }
        };
        match reported {
            // The attempt timed out or the run closed meanwhile: nothing to do.
            Err(Error::Service { kind, .. }) if kind == "TaskTimedOut" => Ok(true),
            other => other.map(|_| true),
        }
    }
}

/// The worker's clock: the time its workflow tasks run at (the server keeps it in order).
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
