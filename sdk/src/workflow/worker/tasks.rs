//! What a worker does with one task, however it got it (a poll, or an SQS
//! message given to a worker Lambda): replay and answer a workflow task,
//! answer a query, run an activity; and how it reports, retrying while the
//! API cannot be reached.

use std::rc::Rc;

use futures::FutureExt;
use serde_json::{Value, json};

use super::{REPORT_ATTEMPTS_MAX, RETRY_MAX, RETRY_MIN, Worker, now_ms};
use crate::Error;
use crate::workflow::activity::ActivityContext;
use crate::workflow::history::Command;
use crate::workflow::history::{ActivityError, Event};
use crate::workflow::{
    TaskOutcome, WorkflowFn, check_commands, workflow_query, workflow_task_kept, workflow_task_with_locals,
    workflow_validate,
};

impl Worker {
    /// Long-polls for one workflow or query task and answers it; false if none came.
    pub async fn workflow_task_once(&self) -> Result<bool, Error> {
        let body = json!({"taskQueue": self.task_queue, "workerName": self.name});
        let t = self.client.call("PollWorkflowTask", body).await?;
        if t.get("kind").is_none() {
            return Ok(false);
        }
        self.handle(t).await?;
        Ok(true)
    }

    /// Long-polls for one activity task and runs it; false if none came.
    pub async fn activity_task_once(&self) -> Result<bool, Error> {
        let body = json!({"taskQueue": self.task_queue, "workerName": self.name});
        let t = self.client.call("PollActivityTask", body).await?;
        if t.get("kind").is_none() {
            return Ok(false);
        }
        self.handle(t).await?;
        Ok(true)
    }

    /// Does a task of any kind (`WORKFLOW`, `QUERY`, `ACTIVITY`).
    pub(super) async fn handle(&self, t: Value) -> Result<(), Error> {
        match t["kind"].as_str() {
            Some("WORKFLOW") => self.workflow_task(&t).await,
            Some("QUERY") => self.query_task(&t).await,
            Some("ACTIVITY") => {
                self.run_activity(t).await;
                Ok(())
            }
            _ => Err(Error::History(format!("a task of no known kind: {}", t["kind"]))),
        }
    }

    fn code(&self, t: &Value) -> Result<(&WorkflowFn, Vec<Event>), Error> {
        let code = t["workflowType"]
            .as_str()
            .and_then(|w| self.workflows.get(w))
            .ok_or_else(|| Error::Unknown(format!("workflow type {} on this worker", t["workflowType"])))?;
        let history = serde_json::from_value(t["history"].clone()).map_err(|e| Error::History(e.to_string()))?;
        Ok((code, history))
    }

    async fn workflow_task(&self, t: &Value) -> Result<(), Error> {
        let token = t["taskToken"].as_str().unwrap_or_default();
        let now = now_ms();
        let done = self.run_workflow_task(t, now).await;
        match done {
            Ok((commands, kept)) => {
                let mut body = json!({"taskToken": token, "commands": commands, "timeMs": now});
                // Named only when this worker keeps the run: then its next task comes here first.
                if kept {
                    body["workerName"] = json!(self.name);
                }
                let asking = self.eager.ask();
                if asking.slots > 0 {
                    body["eagerActivities"] = json!(asking.slots);
                }
                let answer = self.report("RespondWorkflowTaskCompleted", body).await?;
                let tasks = answer["activityTasks"].as_array().map_or(&[][..], Vec::as_slice);
                self.eager.push(&asking, tasks);
            }
            Err(e) => {
                let error = match e {
                    Error::NonDeterminism { .. } => "Stepwise.NonDeterminism",
                    Error::InvalidCommand(_) => crate::workflow::history::ACTIVITY_TIMEOUT_MISSING,
                    _ => "Stepwise.WorkflowTaskFailed",
                };
                let body = json!({"taskToken": token, "error": error, "cause": e.to_string()});
                self.report("RespondWorkflowTaskFailed", body).await?;
            }
        }
        Ok(())
    }

    /// A workflow task's commands: from the run's kept state when the task
    /// brings only the events since it (`historyFrom` > 0, a sticky task),
    /// else from the whole history (read from the API when the task brought
    /// only its tail and nothing is kept). The new state is kept for the next.
    async fn run_workflow_task(&self, t: &Value, now: i64) -> Result<(Vec<Command>, bool), Error> {
        let (code, history) = self.code(t)?;
        let arn = t["executionArn"].as_str().unwrap_or_default();
        let from = t["historyFrom"].as_u64().unwrap_or(0) as usize;
        let bytes = serde_json::to_vec(&t["history"]).map_or(0, |v| v.len());
        let kept = self.sticky.borrow_mut().take(arn);
        if let Some((replayed, kept_bytes)) = kept
            && from > 0
            && replayed.seen() == from
            // A history that does not follow the kept state (a lost answer) is replayed whole.
            && let Ok((TaskOutcome::Commands(commands), next)) = replayed.advance(&history, now)
        {
            self.sticky.borrow_mut().hits += 1;
            check_commands(&commands)?;
            let kept = next.is_some_and(|next| self.sticky.borrow_mut().put(arn, next, kept_bytes + bytes));
            return Ok((commands, kept));
        }
        let history = if from == 0 { history } else { self.run_history(arn, from + history.len()).await? };
        self.sticky.borrow_mut().misses += 1;
        match workflow_task_kept(code, &history, now)? {
            (TaskOutcome::Commands(commands), next) => {
                check_commands(&commands)?;
                let kept = next.is_some_and(|next| {
                    let bytes = serde_json::to_vec(&history).map_or(0, |v| v.len());
                    self.sticky.borrow_mut().put(arn, next, bytes)
                });
                Ok((commands, kept))
            }
            (TaskOutcome::LocalActivities(_), _) => {
                Ok((workflow_task_with_locals(code, &history, now, &self.activities).await?, false))
            }
        }
    }

    /// The current run's first `len` events, read from the API.
    async fn run_history(&self, arn: &str, len: usize) -> Result<Vec<Event>, Error> {
        let all = self.client.history(arn).await?;
        let start = all.iter().rposition(|e| matches!(e, Event::WorkflowStarted { .. })).unwrap_or(0);
        let mut run: Vec<Event> = all.into_iter().skip(start).collect();
        if run.len() < len {
            return Err(Error::History(format!("{arn}'s history has {} events, the task needs {len}", run.len())));
        }
        run.truncate(len);
        Ok(run)
    }

    async fn query_task(&self, t: &Value) -> Result<(), Error> {
        let id = t["queryId"].as_str().unwrap_or_default();
        let name = t["queryName"].as_str().unwrap_or_default();
        let answer = self.code(t).and_then(|(code, history)| match t["queryType"].as_str() {
            Some("VALIDATE_UPDATE") => workflow_validate(code, &history, name, &t["queryInput"]).map(|()| Value::Null),
            _ => workflow_query(code, &history, name),
        });
        let body = match answer {
            Ok(output) => json!({"queryId": id, "output": output}),
            Err(Error::UpdateRejected(reason)) => json!({"queryId": id, "error": "UpdateRejected", "cause": reason}),
            Err(e) => json!({"queryId": id, "error": "QueryFailed", "cause": e.to_string()}),
        };
        self.report("RespondQueryTaskCompleted", body).await.map(|_| ())
    }

    /// Runs an activity task and reports its outcome. A report the API
    /// refuses (the attempt timed out meanwhile) or cannot take is dropped:
    /// the server's timeouts retry the activity.
    pub(super) async fn run_activity(&self, t: Value) {
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
                let traceparent = t["traceparent"].as_str().map(str::to_string);
                f(ActivityContext::with_heartbeat(attempt, traceparent, beat), t["input"].clone()).await
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

    /// Handles an SQS event of a task queue, as a worker Lambda with an
    /// event source mapping on the queues gets it: each message names a
    /// task, which the API hands to this worker (once, however often the
    /// message comes). Gives the event's `batchItemFailures` (messages whose
    /// task could not be taken, to come again).
    pub async fn handle_sqs_event(&self, event: &Value) -> Value {
        let mut failures = Vec::new();
        for record in event["Records"].as_array().into_iter().flatten() {
            let body = json!({"message": record["body"], "workerName": self.name});
            let taken = match self.client.call("TakeTask", body).await {
                Ok(t) if t.get("kind").is_some() => self.handle(t).await,
                Ok(_) => Ok(()), // handed out already, or over: nothing to do
                Err(e) => Err(e),
            };
            if taken.is_err() {
                failures.push(json!({"itemIdentifier": record["messageId"]}));
            }
        }
        json!({"batchItemFailures": failures})
    }
}
