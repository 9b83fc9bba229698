//! Code workflows: Stepwise's extension of the Step Functions API (same
//! AWS JSON 1.0 protocol, same `AWSStepFunctions.` target prefix). A code
//! workflow type is a state machine (CreateStateMachine with a
//! `{"StepwiseWorkflow": {"TaskQueue": …}}` definition); its executions are
//! started, described, listed, stopped and read with the usual operations.
//! These add what only code workflows have: workers' task polls and
//! answers, signals, cancellation requests, queries and updates.

use crate::AwsError;
use crate::model::ExecutionStatus;
use serde_json::{Value, json};

use super::activities::OUTPUT_BYTES_MAX;
use super::{Req, ts};
use crate::Error;
use crate::engine::Engine;
use crate::engine::code::check_task_queue;
use crate::engine::code_tasks::{Answer, Polled, activity_queue, workflow_queue};
use crate::model::InboxEntry;
use stepwise_workflow_core::host::WORKFLOW_TASK_RESOURCE;

/// A SignalExecution's `requestId` (a client's idempotency key), at most.
const REQUEST_ID_CHARS_MAX: usize = 128;
/// Names of signals, queries and updates: as long as a state name.
const NAME_CHARS_MAX: usize = 80;

/// The extension's operations, for the router.
/// A task queue message's body: a token hash or a query id, in JSON.
const TAKE_MESSAGE_CHARS_MAX: usize = 1024;

pub const OPERATIONS: [&str; 12] = [
    "TakeTask",
    "ShutdownWorker",
    "PollWorkflowTask",
    "RespondWorkflowTaskCompleted",
    "RespondWorkflowTaskFailed",
    "RespondQueryTaskCompleted",
    "PollActivityTask",
    "SignalExecution",
    "RequestCancelExecution",
    "QueryExecution",
    "UpdateExecution",
    "DescribeWorkflowExecution",
];

pub(super) async fn call(engine: &Engine, operation: &str, r: Req<'_>) -> Result<Value, Error> {
    match operation {
        "PollWorkflowTask" => poll_workflow(engine, r).await,
        "RespondWorkflowTaskCompleted" => {
            let commands = r.get("commands").cloned().unwrap_or_else(|| json!([]));
            let time_ms = r.get("timeMs").and_then(Value::as_i64).unwrap_or_default();
            let output = json!({"commands": commands, "timeMs": time_ms});
            check_size("commands", &output)?;
            engine.report(r.str("taskToken")?, InboxEntry::Succeeded { output }).await?;
            Ok(json!({}))
        }
        "RespondWorkflowTaskFailed" => {
            let error = r.bounded("error", 256)?.unwrap_or("").to_string();
            let cause = r.bounded("cause", 32768)?.unwrap_or("").to_string();
            let failed = error.clone();
            engine.report(r.str("taskToken")?, InboxEntry::Failed { error, cause }).await?;
            crate::telemetry::workflow_task_failed(&failed);
            Ok(json!({}))
        }
        "RespondQueryTaskCompleted" => {
            let output = r.get("output").cloned();
            if let Some(o) = &output {
                check_size("output", o)?;
            }
            let error = r.bounded("error", 256)?.map(str::to_string);
            let cause = r.bounded("cause", 32768)?.map(str::to_string);
            engine.answer(r.str("queryId")?, Answer { output, error, cause }).await?;
            Ok(json!({}))
        }
        "PollActivityTask" => poll_activity(engine, r).await,
        "TakeTask" => {
            let worker = r.bounded("workerName", 80)?.map(str::to_string);
            let message = r.bounded("message", TAKE_MESSAGE_CHARS_MAX)?.ok_or_else(|| {
                Error::validation("1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null")
            })?;
            let polled = engine.take_code_task(message, worker).await?;
            render(engine, polled).await
        }
        "ShutdownWorker" => {
            let worker = r.bounded("workerName", 80)?.ok_or_else(|| Error::validation("1 validation error detected: Value null at 'workerName' failed to satisfy constraint: Member must not be null"))?;
            engine.shutdowns.shut_down(worker);
            Ok(json!({}))
        }
        "SignalExecution" => {
            let name = name(r, "signalName")?;
            let payload = payload(r)?;
            let request_id = r.bounded("requestId", REQUEST_ID_CHARS_MAX)?;
            engine.deliver(r.str("executionArn")?, InboxEntry::Signal { name, payload }, request_id).await?;
            Ok(json!({}))
        }
        "RequestCancelExecution" => {
            engine.deliver(r.str("executionArn")?, InboxEntry::CancelRequest, None).await?;
            Ok(json!({}))
        }
        "QueryExecution" => {
            let rec = engine.code_execution(r.str("executionArn")?).await?;
            let answer = engine.ask(&rec, "QUERY", &name(r, "queryName")?, payload(r)?).await?;
            match answer.error {
                Some(e) => Err(Error::api(AwsError::QueryFailed, format!("{e}: {}", answer.cause.unwrap_or_default()))),
                None => Ok(json!({"output": answer.output.unwrap_or(Value::Null)})),
            }
        }
        "UpdateExecution" => update(engine, r).await,
        "DescribeWorkflowExecution" => {
            let rec = engine.code_execution(r.str("executionArn")?).await?;
            let run = rec.code().ok_or_else(|| Error::Corrupt("not a code run".into()))?;
            let mut out = json!({
                "executionArn": rec.arn,
                "status": rec.status,
                "workflowType": run.workflow_type,
                "taskQueue": run.task_queue,
                "historyLength": run.run_events(),
                "continuedAsNew": run.continued,
                "pendingActivities": run.activities.len(),
                "pendingTimers": run.timers.len(),
                "startDate": ts(rec.start_ms),
            });
            // Stepwise's additions for operators: what the run waits on.
            out["pendingActivityDetails"] = run
                .activities
                .iter()
                .map(|(seq, a)| {
                    json!({"seq": seq, "activityType": a.name, "attempt": a.attempt, "started": a.started,
                        "lastFailure": a.last_failure})
                })
                .collect();
            out["pendingTimerDetails"] = run
                .timers
                .iter()
                .filter_map(|(id, t)| match t.kind {
                    stepwise_workflow_core::host::TimerKind::Workflow { seq } => {
                        Some(json!({"timerId": id, "seq": seq, "fireDate": ts(t.fire_at_ms)}))
                    }
                    _ => None,
                })
                .collect();
            if let Some((error, cause)) = &run.last_task_failure {
                out["lastWorkflowTaskFailure"] = json!({"error": error, "cause": cause});
            }
            Ok(out)
        }
        _ => Err(Error::api(AwsError::UnknownOperationException, format!("Unknown operation: {operation}"))),
    }
}

fn name(r: Req<'_>, field: &str) -> Result<String, Error> {
    let n = r.bounded(field, NAME_CHARS_MAX)?.ok_or_else(|| {
        Error::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })?;
    Ok(n.to_string())
}

/// `input`: JSON text, as StartExecution takes it; absent is null.
fn payload(r: Req<'_>) -> Result<Value, Error> {
    let Some(text) = r.opt_str("input")? else { return Ok(Value::Null) };
    super::executions::check_input(text)?;
    serde_json::from_str(text).map_err(|e| Error::api(AwsError::InvalidExecutionInput, format!("Invalid input: '{e}'")))
}

fn check_size(field: &str, v: &Value) -> Result<(), Error> {
    let n = state_language::json::to_string(v).len();
    if n > OUTPUT_BYTES_MAX {
        return Err(Error::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {OUTPUT_BYTES_MAX}"
        )));
    }
    Ok(())
}

async fn poll_workflow(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let queue = r.str("taskQueue")?;
    check_task_queue(queue)?;
    let worker = r.bounded("workerName", 80)?.map(str::to_string);
    let polled = engine.poll_code_task(&workflow_queue(queue), worker, engine.poll_wait).await?;
    render(engine, polled).await
}

async fn poll_activity(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let queue = r.str("taskQueue")?;
    check_task_queue(queue)?;
    let worker = r.bounded("workerName", 80)?.map(str::to_string);
    let polled = engine.poll_code_task(&activity_queue(queue), worker, engine.poll_wait).await?;
    render(engine, polled).await
}

/// A task as a worker gets it, with its `kind`: `WORKFLOW`, `ACTIVITY` or `QUERY`.
async fn render(engine: &Engine, polled: Option<Polled>) -> Result<Value, Error> {
    match polled {
        None => Ok(json!({})),
        Some(Polled::Task(t)) if t.resource.starts_with(WORKFLOW_TASK_RESOURCE) => {
            let first = t.input["firstEventId"].as_u64().unwrap_or(1);
            let last = t.input["lastEventId"].as_u64().unwrap_or(0);
            let history = engine.code_history(&t.execution_arn, first, last).await?;
            Ok(json!({
                "kind": "WORKFLOW",
                "taskToken": t.token,
                "executionArn": t.execution_arn,
                "workflowType": t.input["workflowType"],
                "history": history,
                "traceparent": t.traceparent,
            }))
        }
        // `traceparent`: the execution's trace, for the worker to continue (null when unknown).
        Some(Polled::Task(t)) => Ok(json!({
            "kind": "ACTIVITY",
            "taskToken": t.token,
            "executionArn": t.execution_arn,
            "activityType": t.input["activity"],
            "input": t.input["input"],
            "attempt": t.input["attempt"],
            "traceparent": t.traceparent,
        })),
        Some(Polled::Query { id, query, rec }) => {
            let Some(run) = rec.code() else { return Err(Error::Corrupt(format!("{} is not a code run", rec.arn))) };
            let history = engine.code_history(&rec.arn, run.run_first_event, run.events).await?;
            Ok(json!({
                "kind": "QUERY",
                "queryId": id,
                "queryType": query.kind,
                "queryName": query.name,
                "queryInput": query.input,
                "executionArn": rec.arn,
                "workflowType": run.workflow_type,
                "history": history,
            }))
        }
    }
}

/// An update: validated by a worker on the replayed state (a rejection
/// records nothing), then accepted into the history and answered by the code.
async fn update(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("executionArn")?;
    let name = name(r, "updateName")?;
    let input = payload(r)?;
    let rec = engine.code_execution(arn).await?;
    if rec.status != ExecutionStatus::Running {
        return Err(Error::api(AwsError::ExecutionNotRunning, format!("Execution is {}: '{arn}'", rec.status)));
    }
    let verdict = engine.ask(&rec, "VALIDATE_UPDATE", &name, input.clone()).await?;
    if let Some(error) = verdict.error {
        return Err(Error::api(AwsError::UpdateRejected, format!("{error}: {}", verdict.cause.unwrap_or_default())));
    }
    let id = format!("u-{:016x}", engine.random_u64());
    engine.deliver(arn, InboxEntry::Update { id: id.clone(), name, payload: input }, None).await?;
    let output = engine.update_result(arn, &id).await?;
    Ok(json!({"updateId": id, "output": output}))
}
