//! Code workflows (Rust durable workflows, `stepwise-sdk`) on the control
//! plane. A code workflow type is a state machine whose definition names a
//! task queue instead of states; its executions keep a `host::Run` instead
//! of the ASL interpreter's state, and step through the same inbox, timers,
//! token records, commits and outbox as ASL executions. Workers poll the
//! task queue for workflow tasks (the history to replay) and activity tasks.

use crate::AwsError;
use serde::Deserialize;
use serde_json::Value;
use state_language::interpreter::{Input, StartContext};
use stepwise_workflow_core::host::{Effects, HostError, HostInput, Origin, Recorded, Run};

use super::commit::Changes;

use crate::Error;
use crate::arn::Scope;
use crate::model::{ExecutionRecord, InboxEntry, TimerRef};

/// The definition of a code workflow type:
/// `{"StepwiseWorkflow": {"TaskQueue": "orders"}}` (a `Comment` may sit beside it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeDefinitionText {
    #[serde(rename = "StepwiseWorkflow")]
    workflow: CodeDefinition,
    #[serde(rename = "Comment", default)]
    _comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeDefinition {
    #[serde(rename = "TaskQueue")]
    pub task_queue: String,
}

/// Task queue names: 1 to 60 of `[A-Za-z0-9_-]`, so that the SQS queues
/// named after them (`<prefix>wf-<name>`) stay within SQS's 80 characters.
pub const TASK_QUEUE_CHARS_MAX: usize = 60;

/// The code workflow a definition text declares, if it declares one.
pub fn definition(text: &str) -> Option<CodeDefinition> {
    let d = serde_json::from_str::<CodeDefinitionText>(text).ok()?.workflow;
    check_task_queue(&d.task_queue).ok()?;
    Some(d)
}

/// Whether `text` looks like a code workflow's definition; `Err` says what is wrong with it.
pub fn check_definition(text: &str) -> Option<Result<(), Error>> {
    let v: Value = serde_json::from_str(text).ok()?;
    v.get("StepwiseWorkflow")?;
    Some(match serde_json::from_value::<CodeDefinitionText>(v) {
        Ok(d) => check_task_queue(&d.workflow.task_queue),
        Err(e) => Err(Error::api(AwsError::InvalidDefinition, format!("Invalid State Machine Definition: '{e}'"))),
    })
}

pub fn check_task_queue(q: &str) -> Result<(), Error> {
    let ok = !q.is_empty()
        && q.len() <= TASK_QUEUE_CHARS_MAX
        && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "1 validation error detected: Value '{q}' at 'taskQueue' failed to satisfy constraint: Member must be 1 to {TASK_QUEUE_CHARS_MAX} characters of [A-Za-z0-9_-]"
        )))
    }
}

/// A new run and its first step.
pub fn start(
    d: &CodeDefinition,
    scope: &Scope,
    input: Value,
    context: &StartContext,
    now: i64,
    parent: Option<&str>,
    sticky_wait_ms: i64,
) -> Result<(Run, Changes), Error> {
    let prefix = scope.state_machine("");
    let mut run = Run::new(&context.state_machine_name, &d.task_queue, &prefix, context.seed, &context.token_key);
    run.origin = Some(Origin {
        execution_arn: context.execution_arn.clone(),
        execution_name: context.execution_name.clone(),
        parent_execution_arn: parent.map(str::to_string),
    });
    // Workers run in real time: under test-only scaled time, their 10 s is longer here.
    run.task_timeout_ms = stepwise_workflow_core::host::WORKFLOW_TASK_TIMEOUT_MS * crate::clock::time_scale() as i64;
    // So are their activities' timeouts (and the 10-minute default would be under a second).
    run.worker_time_scale = crate::clock::time_scale() as i64;
    run.sticky_wait_ms = sticky_wait_ms;
    let effects = run.step(HostInput::Start { input }, now).map_err(host_error)?;
    Ok((run, changes(effects)))
}

/// A code event in AWS's history shape: id, previous id, timestamp (ms,
/// as the ASL interpreter's events) and type, its fields as `workflowEventDetails`.
pub fn event_json(r: &Recorded) -> Value {
    let mut details = serde_json::to_value(&r.event).unwrap_or_default();
    let kind = details.as_object_mut().and_then(|o| o.remove("type")).unwrap_or_default();
    serde_json::json!({
        "id": r.id,
        "previousEventId": r.id - 1,
        "timestamp": r.time_ms,
        "type": kind,
        "workflowEventDetails": details,
    })
}

/// The code event a stored history event holds.
pub fn event_of(v: &Value) -> Result<stepwise_workflow_core::history::Event, Error> {
    let mut d = v["workflowEventDetails"].clone();
    d["type"] = v["type"].clone();
    serde_json::from_value(d).map_err(|e| Error::Corrupt(format!("a code workflow event: {e}")))
}

fn changes(effects: Effects) -> Changes {
    let events = effects.events.iter().map(|r| (r.id, serde_json::to_vec(&event_json(r)).unwrap_or_default()));
    Changes { events: events.collect(), commands: effects.commands, counts: Default::default(), map_runs: Vec::new() }
}

/// Applies a timer, a stop and inbox entries to a code execution's run.
pub fn apply(
    rec: &mut ExecutionRecord,
    timer: Option<TimerRef>,
    extra: &[Input],
    entries: Vec<(u64, InboxEntry)>,
    now: i64,
) -> Result<Changes, Error> {
    let Some(run) = rec.code_mut() else { return Err(Error::Corrupt(format!("{} is not a code run", rec.arn))) };
    let mut inputs: Vec<HostInput> = Vec::new();
    if let Some(t) = timer {
        inputs.push(HostInput::TimerFired { timer_id: t.id });
    }
    for e in extra {
        if let Input::Stop { error, cause } = e {
            inputs.push(HostInput::Terminate { error: error.clone(), cause: cause.clone() });
        }
    }
    inputs.extend(entries.into_iter().map(|(task_id, e)| match e {
        InboxEntry::Started { at_ms, .. } => HostInput::TaskStarted { task_id, at_ms: at_ms.unwrap_or(now) },
        InboxEntry::Heartbeat => HostInput::TaskHeartbeat { task_id },
        InboxEntry::Succeeded { output } => HostInput::TaskSucceeded { task_id, output },
        // Only Map Run children get the second; a code run is never one.
        InboxEntry::Failed { error, cause } | InboxEntry::ChildNotRedrivable { error, cause } => {
            HostInput::TaskFailed { task_id, error, cause }
        }
        InboxEntry::Signal { name, payload } => HostInput::Signal { name, payload },
        InboxEntry::CancelRequest => HostInput::CancelRequested,
        // Only Map Runs send aborts, to ASL children; were one to reach a code run, it stops it.
        InboxEntry::Abort { .. } => HostInput::Terminate { error: None, cause: None },
        InboxEntry::Update { id, name, payload } => HostInput::Update { id, name, payload },
    }));
    let mut all = Effects::default();
    for input in inputs {
        match run.step(input, now) {
            Ok(e) => {
                all.events.extend(e.events);
                all.commands.extend(e.commands);
            }
            Err(HostError::Closed) => break,
            Err(e @ HostError::Version { .. }) => return Err(host_error(e)),
        }
    }
    Ok(changes(all))
}

fn host_error(e: HostError) -> Error {
    Error::Corrupt(e.to_string())
}
