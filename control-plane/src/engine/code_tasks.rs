//! What workers and clients do with code workflows: poll a task queue for
//! workflow tasks, queries and activity tasks; signal, cancel, query and
//! update executions. Queries and update validations run workflow code,
//! which only workers have: they go to the task queue as query tasks, and
//! the caller waits for the worker's answer in a query record.

// Long polls wait real time (their deadlines) and remember shut-down workers
// for a real while; neither enters an execution's state.
#![allow(clippy::disallowed_methods)]

use crate::AwsError;
use crate::model::ExecutionStatus;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepwise_workflow_core::host::{ACTIVITY_TASK_RESOURCE, WORKFLOW_TASK_RESOURCE};

use super::commit::wake;
use super::{Engine, decode, encode};
use crate::Error;
use crate::model::{ExecutionRecord, InboxEntry, TokenRecord, keys, queues};
use crate::store::{Condition, OutMessage, RECEIVE_WAIT_MS_MAX, Source, Write, blob};

/// How long a handed-out message stays hidden if its hand-out did not commit.
const POLL_VISIBILITY: Duration = Duration::from_secs(30);
/// How long a query or an update waits for a worker, and an update for its answer.
pub const QUERY_WAIT: Duration = Duration::from_secs(30);
/// Query records outlive their caller's wait by this much, then TTL removes them.
const QUERY_TTL_S: i64 = 3_600;
/// How long a signal's request id is remembered: a client's retries come
/// within seconds; a week covers any outage the client waited out.
pub const SIGNAL_RECEIPT_TTL_S: i64 = 7 * 86_400;
const ANSWER_POLL_MIN: Duration = Duration::from_millis(5);
const ANSWER_POLL_MAX: Duration = Duration::from_millis(500);

/// Workers shutting down, by name, with when they said so: a poll of
/// theirs that is waiting in this process ends empty, so no task is handed
/// to a worker that will not read the answer.
#[derive(Default)]
pub struct Shutdowns {
    workers: std::sync::Mutex<std::collections::HashMap<String, tokio::time::Instant>>,
    changed: tokio::sync::Notify,
}

/// Shutting-down workers remembered at once; older ones are forgotten first.
const SHUTDOWNS_MAX: usize = 1024;

impl Shutdowns {
    pub fn shut_down(&self, worker: &str) {
        let mut m = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        let cutoff = tokio::time::Instant::now() - POLL_SHUTDOWN_MEMORY;
        m.retain(|_, at| *at > cutoff);
        if m.len() < SHUTDOWNS_MAX {
            m.insert(worker.to_string(), tokio::time::Instant::now());
        }
        drop(m);
        self.changed.notify_waiters();
    }

    /// Whether a poll that `began` then is one of a shut-down worker's: it
    /// began before the shutdown, or just after (a request sent before it),
    /// with when to answer it: at once if it was waiting at the shutdown,
    /// when the doubt ends if not. A poll that begins later is a new worker
    /// under the same name.
    fn shut_down_answer_at(&self, worker: Option<&str>, began: tokio::time::Instant) -> Option<tokio::time::Instant> {
        let w = worker?;
        let m = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        let at = *m.get(w)?;
        (began < at + POLL_SHUTDOWN_LATE).then_some(if began < at { began } else { at + POLL_SHUTDOWN_LATE })
    }
}

/// How late a poll a worker sent before its shutdown may reach the server
/// and still be ended as that worker's.
const POLL_SHUTDOWN_LATE: Duration = Duration::from_secs(1);

/// How long a worker's shutdown is remembered: longer than any poll.
const POLL_SHUTDOWN_MEMORY: Duration = Duration::from_secs(120);

/// What a task queue's messages carry: a task token's hash, or a query's id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query_id: Option<String>,
}

/// A query or an update's validation, waiting for a worker's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRecord {
    pub execution_arn: String,
    /// `QUERY` or `VALIDATE_UPDATE`.
    pub kind: String,
    pub name: String,
    pub input: Value,
    #[serde(default)]
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// A task a poll hands to a worker.
pub enum Polled {
    Task(TokenRecord),
    Query { id: String, query: QueryRecord, rec: Box<ExecutionRecord> },
}

pub fn workflow_queue(task_queue: &str) -> String {
    queues::activity(&format!("{WORKFLOW_TASK_RESOURCE}{task_queue}"))
}

/// A worker's own queue of sticky workflow tasks, beside the shared queue
/// `shared` of its task queue (embedded store only: see `Engine::sticky_wait_ms`).
pub fn sticky_queue(shared: &str, worker: &str) -> String {
    format!("{shared}#{worker}")
}

pub fn activity_queue(task_queue: &str) -> String {
    queues::activity(&format!("{ACTIVITY_TASK_RESOURCE}{task_queue}"))
}

impl Engine {
    /// Waits up to `wait` for a task on `queue` that is still open (or a
    /// query not yet answered), marks a task started, and gives it.
    ///
    /// With `sticky` (workflow tasks, when the engine keeps sticky tasks),
    /// the poll reads first the worker's own queue, whose tasks come with
    /// the events since its last task of the run; then sticky tasks that
    /// waited longer than the sticky wait for another worker (gone or busy);
    /// then `queue`. That second source is the fall-back: it costs nothing
    /// while workers answer their own tasks in time.
    pub async fn poll_code_task(
        &self,
        queue: &str,
        sticky: bool,
        worker: Option<String>,
        wait: Duration,
    ) -> Result<Option<Polled>, Error> {
        let began = tokio::time::Instant::now();
        let deadline = began + wait;
        let own = worker.as_deref().filter(|_| sticky).map(|w| sticky_queue(queue, w));
        let stale = sticky_queue(queue, "");
        let mut sources = Vec::with_capacity(3);
        sources.extend(own.as_deref().map(Source::Queue));
        sources.push(Source::Stale { prefix: &stale, age_ms: self.sticky_wait_ms });
        sources.push(Source::Queue(queue));
        loop {
            // Listening before looking, so a shutdown between the two is not missed.
            let shutdown = self.shutdowns.changed.notified();
            tokio::pin!(shutdown);
            shutdown.as_mut().enable();
            if let Some(late) = self.shutdowns.shut_down_answer_at(worker.as_deref(), began) {
                // A poll that came after the shutdown may be a restarted
                // worker's: it ends empty once the doubt is over, so such a
                // worker does not spin through empty polls meanwhile.
                tokio::time::sleep_until(late.min(deadline)).await;
                return Ok(None);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let poll = left.min(Duration::from_millis(RECEIVE_WAIT_MS_MAX));
            let receive = async {
                if sticky {
                    return Ok(self.queue.receive_first(&sources, poll, POLL_VISIBILITY).await?.into_iter().collect());
                }
                let got = self.queue.receive(queue, 1, poll, POLL_VISIBILITY).await?;
                Ok::<Vec<_>, Error>(got.into_iter().map(|m| (queue.to_string(), m)).collect())
            };
            let received = tokio::select! {
                r = receive => r?,
                // A message a receive given up here had taken reappears after its visibility.
                () = &mut shutdown => continue,
            };
            for (from, m) in received {
                let msg: QueueMessage = decode(m.body.as_bytes())?;
                let polled = match (msg.token_hash, msg.query_id) {
                    (Some(hash), _) => self.hand_out(&hash, worker.clone()).await?.map(Polled::Task),
                    (None, Some(id)) => self.open_query(&id).await?,
                    (None, None) => None,
                };
                self.queue.delete(&from, &m.receipt).await?;
                if polled.is_some() {
                    return Ok(polled);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// The task a task queue's message names, as a poll would hand it out:
    /// for a worker that got the message itself (an SQS event source).
    pub async fn take_code_task(&self, body: &str, worker: Option<String>) -> Result<Option<Polled>, Error> {
        let msg: QueueMessage = serde_json::from_str(body)
            .map_err(|e| Error::api(AwsError::InvalidParameterValue, format!("Not a task queue message: '{e}'")))?;
        match (msg.token_hash, msg.query_id) {
            (Some(hash), _) => Ok(self.hand_out(&hash, worker).await?.map(Polled::Task)),
            (None, Some(id)) => self.open_query(&id).await,
            (None, None) => Ok(None),
        }
    }

    async fn open_query(&self, id: &str) -> Result<Option<Polled>, Error> {
        let (pk, sk) = keys::query(id);
        let Some(b) = blob::get(&*self.store, &pk, &sk).await? else { return Ok(None) };
        let query: QueryRecord = decode(&b.bytes)?;
        if query.answer.is_some() {
            return Ok(None);
        }
        let Some((rec, _)) = self.execution(&query.execution_arn).await? else { return Ok(None) };
        Ok(Some(Polled::Query { id: id.to_string(), query, rec: Box::new(rec) }))
    }

    /// A code execution, or the error a client gets for anything else.
    pub async fn code_execution(&self, arn: &str) -> Result<ExecutionRecord, Error> {
        let rec =
            self.execution(arn).await?.map(|(r, _)| r).ok_or_else(|| {
                Error::api(AwsError::ExecutionDoesNotExist, format!("Execution Does Not Exist: '{arn}'"))
            })?;
        if rec.code().is_none() {
            return Err(Error::api(AwsError::InvalidArn, format!("'{arn}' is not an execution of a code workflow")));
        }
        Ok(rec)
    }

    /// Puts a signal, cancellation request or update in a running code
    /// execution's inbox and wakes it. With a `request_id`, a repeat of a
    /// delivery that was made (its answer lost, the client retrying) is
    /// acknowledged and applied no second time, for [`SIGNAL_RECEIPT_TTL_S`].
    pub async fn deliver(&self, arn: &str, entry: InboxEntry, request_id: Option<&str>) -> Result<(), Error> {
        let receipt = request_id.map(|id| keys::signal_receipt(arn, id));
        if let Some((pk, sk)) = &receipt
            && self.store.get(pk, sk).await?.is_some()
        {
            return Ok(()); // delivered before, perhaps before the execution closed
        }
        let rec = self.code_execution(arn).await?;
        if rec.status != ExecutionStatus::Running {
            return Err(Error::api(AwsError::ExecutionNotRunning, format!("Execution is {}: '{arn}'", rec.status)));
        }
        // Task id 0 never names a task; the time keeps arrivals in order.
        let kind = format!("4e#{:015}#{:016x}", self.now_ms(), self.random_u64());
        let mut writes = vec![Write::put(keys::inbox(arn, 0, &kind), encode(&entry), Condition::None)];
        if let Some(key) = receipt.clone() {
            let expires = self.now_ms() / 1000 + SIGNAL_RECEIPT_TTL_S;
            writes.push(Write::put(key, Vec::new(), Condition::NotExists).expiring(expires));
        }
        match self.store.transact(writes, vec![wake(arn, None, 0)]).await {
            // A concurrent repeat of the same request got there first.
            Err(Error::ConditionFailed(_)) if receipt.is_some() => Ok(()),
            done => done,
        }
    }

    /// Asks a worker to run a query (or an update's validator) on the
    /// execution's replayed state; waits for its answer.
    pub async fn ask(&self, rec: &ExecutionRecord, kind: &str, name: &str, input: Value) -> Result<Answer, Error> {
        let Some(run) = rec.code() else { return Err(Error::Corrupt("not a code run".into())) };
        let id = format!("{:016x}{:016x}", self.random_u64(), self.random_u64());
        let query =
            QueryRecord { execution_arn: rec.arn.clone(), kind: kind.into(), name: name.into(), input, answer: None };
        let (pk, sk) = keys::query(&id);
        let expires = self.now_ms() / 1000 + QUERY_TTL_S;
        let writes = blob::puts(&pk, &sk, &encode(&query), Condition::NotExists, 0)?;
        let body = serde_json::to_string(&QueueMessage { query_id: Some(id.clone()), ..Default::default() })
            .unwrap_or_default();
        let message = OutMessage { queue: workflow_queue(&run.task_queue), body, delay_ms: 0 };
        self.store.transact(writes.into_iter().map(|w| w.expiring(expires)).collect(), vec![message]).await?;
        let deadline = self.env.monotonic_ms() + QUERY_WAIT.as_millis() as i64;
        let mut poll = ANSWER_POLL_MIN;
        loop {
            if let Some(b) = blob::get(&*self.store, &pk, &sk).await? {
                let q: QueryRecord = decode(&b.bytes)?;
                if let Some(a) = q.answer {
                    self.store.transact(vec![Write::delete((pk, sk))], Vec::new()).await?;
                    return Ok(a);
                }
            }
            if self.env.monotonic_ms() >= deadline {
                let _ = self.store.transact(vec![Write::delete((pk, sk))], Vec::new()).await;
                return Err(Error::api(
                    AwsError::QueryTimedOut,
                    format!("No worker of task queue '{}' answered within {QUERY_WAIT:?}", run.task_queue),
                ));
            }
            self.env.sleep(poll).await;
            poll = (poll * 2).min(ANSWER_POLL_MAX);
        }
    }

    /// A worker's answer to a query task; the first answer counts.
    pub async fn answer(&self, id: &str, answer: Answer) -> Result<(), Error> {
        let (pk, sk) = keys::query(id);
        let b = blob::get(&*self.store, &pk, &sk)
            .await?
            .ok_or_else(|| Error::api(AwsError::InvalidToken, format!("No query is waiting with id '{id}'")))?;
        let mut q: QueryRecord = decode(&b.bytes)?;
        if q.answer.is_some() {
            return Ok(());
        }
        q.answer = Some(answer);
        let writes = blob::puts(&pk, &sk, &encode(&q), Condition::Version(b.version), b.parts)?;
        match self.store.transact(writes, Vec::new()).await {
            Ok(()) | Err(Error::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits until the execution's code answers update `id`; gives the answer.
    pub async fn update_result(&self, arn: &str, id: &str) -> Result<Value, Error> {
        let deadline = self.env.monotonic_ms() + QUERY_WAIT.as_millis() as i64;
        let mut poll = ANSWER_POLL_MIN;
        loop {
            let rec = self.code_execution(arn).await?;
            let answered = rec.code().and_then(|r| r.update_results.iter().find(|(u, _)| u == id));
            if let Some((_, result)) = answered {
                let result = result.clone();
                return Ok(result);
            }
            if rec.status != ExecutionStatus::Running {
                return Err(Error::api(
                    AwsError::ExecutionNotRunning,
                    format!("The execution closed ({}) before answering the update", rec.status),
                ));
            }
            if self.env.monotonic_ms() >= deadline {
                return Err(Error::api(
                    AwsError::UpdateTimedOut,
                    format!("The workflow did not answer update '{id}' within {QUERY_WAIT:?}"),
                ));
            }
            self.env.sleep(poll).await;
            poll = (poll * 2).min(ANSWER_POLL_MAX);
        }
    }
}
