//! Task tokens: callbacks (SendTask*), activity hand-out (GetActivityTask)
//! and results of the server's own integrations, each applied exactly once.
//!
//! A token's record is keyed by the token's SHA-256, created when the task
//! is scheduled and closed, in the same transaction, with the inbox entry
//! that carries its result. A second result finds it closed.

// A long poll's deadline is real waiting time; it does not enter an execution's state.
#![allow(clippy::disallowed_methods)]

use crate::AwsError;
use std::time::Duration;

use super::commit::wake;
use super::run::{Attempt, Direct};
use super::{COMMIT_ATTEMPTS_MAX, Engine, decode, encode, sha256_hex};
use crate::Error;
use crate::model::{InboxEntry, TaskMessage, TokenRecord, keys, queues};
use crate::store::{Condition, Write, blob};

/// The interpreter's tokens: a 16-hex-digit task id and 32 hex digits.
pub const TOKEN_CHARS: usize = 48;
/// AWS's limit on a task token given to the API.
pub const TOKEN_CHARS_MAX: usize = 2048;
/// How long a handed-out activity message stays hidden before it could be
/// handed out again (only if the hand-out itself did not commit).
const ACTIVITY_VISIBILITY: Duration = Duration::from_secs(30);

pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Checks a token's shape; a malformed one is `InvalidToken`.
pub fn parse_token(token: &str) -> Result<(), Error> {
    if token.is_empty() || token.len() > TOKEN_CHARS_MAX {
        return Err(Error::validation(
            "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 2048",
        ));
    }
    if token.len() != TOKEN_CHARS || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::api(AwsError::InvalidToken, "Invalid token"));
    }
    Ok(())
}

fn closed() -> Error {
    Error::api(AwsError::TaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'")
}

/// The wake-up a task's start needs. An ASL task's start is an event of
/// its own (`ActivityStarted`), applied now. A code workflow's task start
/// only arms its timeouts, measured from the hand-out: the wake comes when
/// the first could pass (its answer usually comes first and takes the
/// start along), or not at all for a task with no timeout.
pub(super) fn started_wake(rec: &TokenRecord) -> Vec<crate::store::OutMessage> {
    if !rec.resource.starts_with("stepwise:") {
        return vec![wake(&rec.execution_arn, None, 0)];
    }
    match rec.input.get("startTimeoutMs").and_then(serde_json::Value::as_u64) {
        Some(ms) => vec![wake(&rec.execution_arn, None, ms)],
        None => Vec::new(),
    }
}

/// Bytes an inbox item's keys take beside its body (an execution ARN and a task id).
const INBOX_KEY_BYTES_MAX: usize = 1024;

impl Engine {
    /// Applies a callback. Results close the token; heartbeats only check it.
    pub async fn report(&self, token: &str, entry: InboxEntry) -> Result<(), Error> {
        parse_token(token)?;
        self.report_hashed(&hash_token(token), entry).await
    }

    /// A code worker's answer to a workflow task, with the activity tasks
    /// it schedules on the worker's task queue handed to it at once, up to
    /// `eager.max` (see [`Eager`](super::new_tasks::Eager)).
    pub async fn report_workflow_task(
        &self,
        token: &str,
        entry: InboxEntry,
        eager: EagerRequest,
    ) -> Result<Vec<TokenRecord>, Error> {
        parse_token(token)?;
        self.report_with(&hash_token(token), entry, Some(eager)).await
    }

    pub(super) async fn report_hashed(&self, hash: &str, entry: InboxEntry) -> Result<(), Error> {
        self.report_with(hash, entry, None).await.map(|_| ())
    }

    async fn report_with(
        &self,
        hash: &str,
        entry: InboxEntry,
        eager: Option<EagerRequest>,
    ) -> Result<Vec<TokenRecord>, Error> {
        let (pk, sk) = keys::token(hash);
        let mut direct = true;
        // An answer too big for an inbox item (a distributed Map's items, read
        // whole) can only be applied by a step: it keeps trying that.
        let inbox_fits = encode(&entry).len() + INBOX_KEY_BYTES_MAX <= crate::store::ITEM_BYTES_MAX;
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            let b = blob::get(&*self.store, &pk, &sk)
                .await?
                .ok_or_else(|| Error::api(AwsError::InvalidToken, "Invalid token"))?;
            let mut rec: TokenRecord = decode(&b.bytes)?;
            if rec.closed {
                return Err(closed());
            }
            let (kind, close) = match entry {
                InboxEntry::Started { .. } => ("1s", false),
                InboxEntry::Heartbeat => ("2h", false),
                InboxEntry::Succeeded { .. } | InboxEntry::Failed { .. } | InboxEntry::ChildNotRedrivable { .. } => {
                    ("3r", true)
                }
                // Not task results: they come to an execution, not through a token.
                InboxEntry::Signal { .. }
                | InboxEntry::CancelRequest
                | InboxEntry::Abort { .. }
                | InboxEntry::Update { .. } => ("4e", false),
            };
            let mut writes = Vec::new();
            let now = self.now_ms();
            let answered = |rec: &TokenRecord| {
                let succeeded = matches!(entry, InboxEntry::Succeeded { .. });
                let run_ms = rec.started_ms.or(rec.scheduled_ms).map(|s| now - s);
                crate::telemetry::task_answered(&rec.resource, succeeded, run_ms, rec.scheduled_ms.map(|s| now - s));
            };
            if close {
                rec.closed = true;
                rec.closed_ms = Some(now);
                rec.input = serde_json::Value::Null;
                writes.extend(blob::puts(&pk, &sk, &encode(&rec), Condition::Version(b.version), b.parts)?);
                // A task's answer is applied by a step right here, in one commit
                // with the token's closing: no inbox entry, no wake-up, no second
                // commit. A code workflow's execution is seldom busy with others;
                // an ASL one often is (a Map's other tasks), so after one lost
                // race its answer goes through the inbox instead.
                if direct {
                    let (taker, mut taken) = eager_taker(&rec, eager.as_ref());
                    let d = Direct {
                        entries: vec![(rec.task_id, entry.clone())],
                        writes: writes.clone(),
                        eager: taker,
                        parent: None,
                    };
                    match self.step_once(&rec.execution_arn, None, &[], Some(d)).await {
                        Ok(Attempt::Done(_)) => {
                            answered(&rec);
                            return Ok(taken.try_recv().unwrap_or_default());
                        }
                        Ok(Attempt::Raced) => {
                            direct = rec.resource.starts_with("stepwise:") || !inbox_fits;
                            continue;
                        }
                        // A step too big to take the token along: through the inbox, then.
                        Err(Error::Limit(_)) => direct = false,
                        Err(e) => return Err(e),
                    }
                }
            } else {
                writes.push(Write::Check { pk: pk.clone(), sk: sk.clone(), condition: Condition::Version(b.version) });
            }
            writes.push(Write::put(
                keys::inbox(&rec.execution_arn, rec.task_id, kind),
                encode(&entry),
                Condition::None,
            ));
            match self.store.transact(writes, vec![wake(&rec.execution_arn, None, 0)]).await {
                Ok(()) => {
                    match (&entry, close) {
                        (_, true) => answered(&rec),
                        // An integration took its task (activities are counted at hand-out).
                        (InboxEntry::Started { .. }, false) => {
                            crate::telemetry::task_started(&rec.resource, rec.scheduled_ms.map(|s| now - s))
                        }
                        _ => {}
                    }
                    return Ok(Vec::new());
                }
                Err(Error::ConditionFailed(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Store("a task token changed too often to update".into()))
    }

    /// Hands one activity task to a worker: waits up to `wait` for one that
    /// is still open, marks it started, and gives its token and input.
    pub async fn take_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<String>,
        wait: Duration,
    ) -> Result<Option<TokenRecord>, Error> {
        let queue = queues::activity(activity_arn);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let poll = left.min(Duration::from_millis(crate::store::RECEIVE_WAIT_MS_MAX));
            let got = self.queue.receive(&queue, 1, poll, ACTIVITY_VISIBILITY).await?;
            for m in got {
                let msg: TaskMessage = decode(m.body.as_bytes())?;
                let handed = self.hand_out(&msg.token_hash, worker_name.clone()).await?;
                self.queue.delete(&queue, &m.receipt).await?;
                if let Some(rec) = handed {
                    return Ok(Some(rec));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Marks an open, unstarted task started; `None` if it closed or was handed out already.
    pub(super) async fn hand_out(&self, hash: &str, worker_name: Option<String>) -> Result<Option<TokenRecord>, Error> {
        let (pk, sk) = keys::token(hash);
        let mut direct = true;
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            let Some(b) = blob::get(&*self.store, &pk, &sk).await? else { return Ok(None) };
            let mut rec: TokenRecord = decode(&b.bytes)?;
            if rec.closed || rec.started {
                return Ok(None);
            }
            rec.started = true;
            let now = self.now_ms();
            rec.started_ms = Some(now);
            let mut writes = blob::puts(&pk, &sk, &encode(&rec), Condition::Version(b.version), b.parts)?;
            let entry = InboxEntry::Started { worker_name: worker_name.clone(), at_ms: Some(now) };
            // An ASL activity's start (`ActivityStarted`, the heartbeat clock) is
            // applied by its execution's step in the hand-out's own commit, as an
            // answer is: no inbox entry, no wake-up, no second commit. After one
            // lost race (a busy execution) it goes through the inbox.
            if direct && !rec.resource.starts_with("stepwise:") {
                let d = Direct {
                    entries: vec![(rec.task_id, entry.clone())],
                    writes: writes.clone(),
                    eager: None,
                    parent: None,
                };
                match self.step_once(&rec.execution_arn, None, &[], Some(d)).await {
                    // No such execution: nothing was written, and there is no task.
                    Ok(Attempt::Done(None)) => return Ok(None),
                    Ok(Attempt::Done(Some(_))) => {
                        crate::telemetry::task_started(&rec.resource, rec.scheduled_ms.map(|s| now - s));
                        return Ok(Some(rec));
                    }
                    Ok(Attempt::Raced) => {
                        direct = false;
                        continue;
                    }
                    // The execution closed: its tasks are no one's to take.
                    Err(Error::Api { kind: AwsError::TaskTimedOut, .. }) => return Ok(None),
                    // A step too big to take the token along: through the inbox, then.
                    Err(Error::Limit(_)) => direct = false,
                    Err(e) => return Err(e),
                }
            }
            writes.push(Write::put(
                keys::inbox(&rec.execution_arn, rec.task_id, "1s"),
                encode(&entry),
                Condition::None,
            ));
            // A code workflow's task handed out again after a power loss is run
            // twice at worst, which its model allows (at least once, answered
            // once): its hand-out need not wait for the disk. An ASL activity's does.
            let committed = if rec.resource.starts_with("stepwise:") {
                self.store.transact_relaxed(writes, started_wake(&rec)).await
            } else {
                self.store.transact(writes, started_wake(&rec)).await
            };
            match committed {
                Ok(()) => {
                    crate::telemetry::task_started(&rec.resource, rec.scheduled_ms.map(|s| now - s));
                    return Ok(Some(rec));
                }
                Err(Error::ConditionFailed(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The open token record behind a tasks-queue message.
    pub(super) async fn open_task(&self, hash: &str) -> Result<Option<TokenRecord>, Error> {
        let (pk, sk) = keys::token(hash);
        let Some(b) = blob::get(&*self.store, &pk, &sk).await? else { return Ok(None) };
        let rec: TokenRecord = decode(&b.bytes)?;
        Ok((!rec.closed).then_some(rec))
    }
}

/// What a worker asks for with its answer to a workflow task (see
/// [`Engine::report_workflow_task`]).
#[derive(Debug, Clone)]
pub struct EagerRequest {
    pub worker: Option<String>,
    /// At most this many activity tasks, and at most [`EAGER_ACTIVITIES_MAX`].
    pub max: usize,
}

/// Activity tasks one answer takes at once at most.
pub const EAGER_ACTIVITIES_MAX: usize = 16;

/// The step's taker of eager activity tasks, for an answer to a code
/// workflow task that asked for some, and where the step gives them back.
fn eager_taker(
    rec: &TokenRecord,
    eager: Option<&EagerRequest>,
) -> (Option<super::new_tasks::Eager>, tokio::sync::oneshot::Receiver<Vec<TokenRecord>>) {
    let (reply, taken) = tokio::sync::oneshot::channel();
    let task_queue = rec.resource.strip_prefix(stepwise_workflow_core::host::WORKFLOW_TASK_RESOURCE);
    let taker = match (eager, task_queue) {
        (Some(e), Some(tq)) if e.max > 0 => Some(super::new_tasks::Eager {
            queue: super::code_tasks::activity_queue(tq),
            worker: e.worker.clone(),
            max: e.max.min(EAGER_ACTIVITIES_MAX),
            taken: Vec::new(),
            reply,
        }),
        _ => None,
    };
    (taker, taken)
}
