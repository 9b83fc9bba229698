//! Local activities: run by the worker inside the workflow task that asks
//! for them. The task runs, gives the local activities its code waits on,
//! the worker runs them, and the task runs again with their outcomes, until
//! the code gives commands; each outcome is recorded as a marker.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::activity::{ActivityContext, ActivityFn};
use super::history::{ActivityError, Command, Event};
use super::{LocalRequest, TaskOutcome, WorkflowFn, workflow_task_local};
use crate::Error;

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
            TaskOutcome::Commands(c) => return Ok(c),
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
