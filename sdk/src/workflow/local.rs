//! Local activities: run by the worker inside the workflow task that asks
//! for them. The task runs, gives the local activities its code waits on,
//! the worker runs them, and the task runs again with their outcomes, until
//! the code gives commands; each outcome is recorded as a marker.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::activity::{ActivityContext, ActivityFn};
use super::history::{ActivityError, ActivityOptions, Command, Event};
use super::waits::LocalFuture;
use super::{TaskOutcome, WorkflowContext, WorkflowFn, workflow_task_local};
use crate::Error;

/// A local activity for the worker to run within the workflow task.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRequest {
    pub seq: u64,
    pub name: String,
    pub input: Value,
    pub options: ActivityOptions,
}

/// The marker name a local activity's outcome is recorded under.
pub const LOCAL_ACTIVITY_MARKER: &str = "LocalActivity:";

/// How a local activity's marker records its outcome.
#[derive(serde::Deserialize)]
struct LocalOutcome {
    #[serde(default)]
    ok: Option<Value>,
    #[serde(default)]
    err: Option<ActivityError>,
}

impl WorkflowContext {
    /// Runs an activity in the worker itself, within the workflow task:
    /// no task queue round trip, its outcome recorded as a marker (replay
    /// reads it back and does not run it again). For short work: it must end
    /// well within the workflow task's timeout (10 s). The worker retries it
    /// as `options.retry` says, up to 10 attempts, with no timers.
    pub fn local_activity<I: Serialize, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
        options: ActivityOptions,
    ) -> impl Future<Output = Result<O, ActivityError>> + use<I, O> {
        let seq = self.seq();
        let input = serde_json::to_value(input).unwrap_or(Value::Null);
        let mut i = self.inner.borrow_mut();
        let marker = format!("{LOCAL_ACTIVITY_MARKER}{name}");
        let recorded = i.markers.get(&seq).filter(|(n, _)| *n == marker).map(|(_, v)| v.clone());
        let outcome = match recorded {
            Some(v) => Some(match serde_json::from_value::<LocalOutcome>(v) {
                Ok(LocalOutcome { ok: Some(v), .. }) => Ok(v),
                Ok(LocalOutcome { err: Some(e), .. }) => Err(e),
                _ => Err(ActivityError::non_retryable("Stepwise.DecodeError", "a malformed local activity marker")),
            }),
            None if !i.replaying => i.local_results.get(&seq).cloned(),
            None => None, // old code ran no local activity here: the commands will disagree
        };
        let slot = i.locals.entry(seq).or_default();
        match outcome {
            Some(o) => {
                let value = match &o {
                    Ok(v) => serde_json::json!({"ok": v}),
                    Err(e) => serde_json::json!({"err": e}),
                };
                slot.value = Some(o);
                i.commands.push(Command::RecordMarker { seq, name: marker, value });
            }
            None if !i.replaying => {
                i.local_requests.push(LocalRequest { seq, name: name.to_string(), input, options });
            }
            None => {}
        }
        drop(i);
        let fut = LocalFuture { inner: self.inner.clone(), seq };
        async move {
            let v = fut.await?;
            serde_json::from_value(v).map_err(|e| ActivityError::non_retryable("Stepwise.DecodeError", e.to_string()))
        }
    }
}

/// Rounds of local activities one workflow task may run.
pub const LOCAL_ROUNDS_MAX: usize = 100;
/// Attempts at one local activity, whatever its retry policy says.
pub const LOCAL_ATTEMPTS_MAX: u32 = 10;

/// Runs a workflow task to its commands, running the local activities it
/// asks for with the registered `activities`.
pub async fn workflow_task_with_locals(
    code: &WorkflowFn,
    history: &[Event],
    now_ms: i64,
    activities: &HashMap<String, ActivityFn>,
) -> Result<Vec<Command>, Error> {
    let mut results = BTreeMap::new();
    for _ in 0..LOCAL_ROUNDS_MAX {
        match workflow_task_local(code, history, now_ms, &results)? {
            TaskOutcome::Commands(c) => {
                check_commands(&c)?;
                return Ok(c);
            }
            TaskOutcome::LocalActivities(requests) => {
                for r in requests {
                    let outcome = run_local(activities, &r).await;
                    results.insert(r.seq, outcome);
                }
            }
        }
    }
    Err(Error::TooManySteps(LOCAL_ROUNDS_MAX))
}

/// The host would refuse a command that fails its check: say so here,
/// where the code runs (and in TestEnv).
pub fn check_commands(commands: &[Command]) -> Result<(), Error> {
    match commands.iter().find_map(|c| c.check().err()) {
        Some(why) => Err(Error::InvalidCommand(why)),
        None => Ok(()),
    }
}

/// One local activity, retried at once as its policy allows.
async fn run_local(activities: &HashMap<String, ActivityFn>, r: &LocalRequest) -> Result<Value, ActivityError> {
    let Some(f) = activities.get(&r.name) else {
        let why = format!("no activity {:?} on this worker", r.name);
        return Err(ActivityError::non_retryable("Stepwise.ActivityNotRegistered", why));
    };
    let policy = &r.options.retry;
    let max = match policy.max_attempts {
        0 => LOCAL_ATTEMPTS_MAX,
        n => n.min(LOCAL_ATTEMPTS_MAX),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f(ActivityContext::detached(attempt), r.input.clone()).await {
            Ok(v) => return Ok(v),
            Err(e) if attempt >= max || e.non_retryable || policy.non_retryable.contains(&e.error_type) => {
                return Err(e);
            }
            Err(_) => {}
        }
    }
}
