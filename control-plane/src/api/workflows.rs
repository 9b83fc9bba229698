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

use super::activities::{CAUSE_CHARS_MAX, ERROR_CHARS_MAX, OUTPUT_BYTES_MAX};
use super::shapes::responses::{
    CodeTask, DescribeWorkflowExecution, Empty, PendingActivity, PendingTimer, Queried, TaskFailure, UpdateAnswered,
};
use super::shapes::{Ts, bounded, bounded_required, parse, reply, requests as rq, too_long};
use crate::Error;
use crate::engine::code::check_task_queue;
use crate::engine::code_tasks::{Answer, Polled, activity_queue, workflow_queue};
use crate::engine::{EAGER_ACTIVITIES_MAX, EagerRequest, Engine};
use crate::model::{InboxEntry, TokenRecord};
use stepwise_workflow_core::host::{TimerKind, WORKFLOW_TASK_RESOURCE};

/// A SignalExecution's `requestId` (a client's idempotency key), at most.
const REQUEST_ID_CHARS_MAX: usize = 128;
/// Names of signals, queries and updates: as long as a state name.
const NAME_CHARS_MAX: usize = 80;
/// A worker's name, as GetActivityTask bounds it.
const WORKER_NAME_CHARS_MAX: usize = 80;

/// A task queue message's body: a token hash or a query id, in JSON.
const TAKE_MESSAGE_CHARS_MAX: usize = 1024;

/// The extension's operations, for the router: code workflows' and AwaitExecution.
pub const OPERATIONS: [&str; 13] = [
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
    "AwaitExecution",
];

pub(super) async fn call(engine: &Engine, operation: &str, request: Value) -> Result<Value, Error> {
    match operation {
        "PollWorkflowTask" => Ok(task_reply(poll(engine, parse(request)?, workflow_queue).await?)),
        "PollActivityTask" => Ok(task_reply(poll(engine, parse(request)?, activity_queue).await?)),
        "RespondWorkflowTaskCompleted" => {
            let r: rq::RespondWorkflowTaskCompleted = parse(request)?;
            let worker = bounded("workerName", r.worker_name.as_deref(), WORKER_NAME_CHARS_MAX)?;
            let commands = r.commands.unwrap_or_else(|| json!([]));
            // The worker that ran it keeps the run's state: the next task goes to it first.
            let output = json!({"commands": commands, "timeMs": r.time_ms.unwrap_or(0), "worker": worker});
            check_size("commands", &output)?;
            let max = r.eager_activities.unwrap_or(0);
            if max > EAGER_ACTIVITIES_MAX as u64 {
                return Err(Error::api(
                    AwsError::ValidationException,
                    format!("Invalid eagerActivities {max}: it must be between 0 and {EAGER_ACTIVITIES_MAX}"),
                ));
            }
            let eager = EagerRequest { worker: worker.map(str::to_string), max: max as usize };
            let taken = engine.report_workflow_task(&r.task_token, InboxEntry::Succeeded { output }, eager).await?;
            Ok(json!({"activityTasks": taken.into_iter().map(activity_task).collect::<Vec<_>>()}))
        }
        "RespondWorkflowTaskFailed" => {
            let r: rq::SendTaskFailure = parse(request)?;
            let error = bounded("error", r.error.as_deref(), ERROR_CHARS_MAX)?.unwrap_or("").to_string();
            let cause = bounded("cause", r.cause.as_deref(), CAUSE_CHARS_MAX)?.unwrap_or("").to_string();
            let failed = error.clone();
            engine.report(&r.task_token, InboxEntry::Failed { error, cause }).await?;
            crate::telemetry::workflow_task_failed(&failed);
            Ok(reply(Empty {}))
        }
        "RespondQueryTaskCompleted" => {
            let r: rq::RespondQueryTaskCompleted = parse(request)?;
            if let Some(o) = &r.output {
                check_size("output", o)?;
            }
            let error = bounded("error", r.error.as_deref(), ERROR_CHARS_MAX)?.map(str::to_string);
            let cause = bounded("cause", r.cause.as_deref(), CAUSE_CHARS_MAX)?.map(str::to_string);
            engine.answer(&r.query_id, Answer { output: r.output, error, cause }).await?;
            Ok(reply(Empty {}))
        }
        "TakeTask" => {
            let r: rq::TakeTask = parse(request)?;
            let worker = bounded("workerName", r.worker_name.as_deref(), WORKER_NAME_CHARS_MAX)?.map(str::to_string);
            let message = bounded_required("message", Some(&r.message), TAKE_MESSAGE_CHARS_MAX)?;
            let polled = engine.take_code_task(message, worker.clone()).await?;
            Ok(task_reply(render(engine, polled, worker.as_deref()).await?))
        }
        "ShutdownWorker" => {
            let r: rq::ShutdownWorker = parse(request)?;
            engine.shutdowns.shut_down(bounded_required("workerName", Some(&r.worker_name), WORKER_NAME_CHARS_MAX)?);
            Ok(reply(Empty {}))
        }
        "SignalExecution" => {
            let r: rq::SignalExecution = parse(request)?;
            let name = name("signalName", &r.signal_name)?;
            let payload = payload(r.input.as_deref())?;
            let request_id = bounded("requestId", r.request_id.as_deref(), REQUEST_ID_CHARS_MAX)?;
            engine.deliver(&r.execution_arn, InboxEntry::Signal { name, payload }, request_id).await?;
            Ok(reply(Empty {}))
        }
        "RequestCancelExecution" => {
            let r: rq::ExecutionArn = parse(request)?;
            engine.deliver(&r.execution_arn, InboxEntry::CancelRequest, None).await?;
            Ok(reply(Empty {}))
        }
        "QueryExecution" => {
            let r: rq::QueryExecution = parse(request)?;
            let rec = engine.code_execution(&r.execution_arn).await?;
            let answer =
                engine.ask(&rec, "QUERY", &name("queryName", &r.query_name)?, payload(r.input.as_deref())?).await?;
            match answer.error {
                Some(e) => Err(Error::api(AwsError::QueryFailed, format!("{e}: {}", answer.cause.unwrap_or_default()))),
                None => Ok(reply(Queried { output: answer.output.unwrap_or(Value::Null) })),
            }
        }
        "UpdateExecution" => Ok(reply(update(engine, parse(request)?).await?)),
        "DescribeWorkflowExecution" => Ok(reply(describe(engine, parse(request)?).await?)),
        // Of ASL executions too: it is here as a Stepwise operation, not for code alone.
        "AwaitExecution" => Ok(reply(super::executions::await_closed(engine, parse(request)?).await?)),
        _ => Err(Error::api(AwsError::UnknownOperationException, format!("Unknown operation: {operation}"))),
    }
}

/// A poll's answer: the task, or `{}` when the poll found none (never `null`,
/// which a worker would read as a malformed answer).
fn task_reply(task: Option<CodeTask>) -> Value {
    match task {
        Some(t) => reply(t),
        None => reply(Empty {}),
    }
}

async fn describe(engine: &Engine, r: rq::ExecutionArn) -> Result<DescribeWorkflowExecution, Error> {
    let rec = engine.code_execution(&r.execution_arn).await?;
    let run = rec.code().ok_or_else(|| Error::Corrupt("not a code run".into()))?;
    // Stepwise's additions for operators: what the run waits on.
    let pending_activity_details = run
        .activities
        .iter()
        .map(|(seq, a)| PendingActivity {
            seq: *seq,
            activity_type: a.name.clone(),
            attempt: a.attempt,
            started: a.started,
            last_failure: a.last_failure.clone(),
        })
        .collect();
    let pending_timer_details = run
        .timers
        .iter()
        .filter_map(|(id, t)| match t.kind {
            TimerKind::Workflow { seq } => Some(PendingTimer { timer_id: *id, seq, fire_date: Ts(t.fire_at_ms) }),
            _ => None,
        })
        .collect();
    Ok(DescribeWorkflowExecution {
        execution_arn: rec.arn.clone(),
        status: rec.status,
        workflow_type: run.workflow_type.clone(),
        task_queue: run.task_queue.clone(),
        history_length: run.run_events(),
        continued_as_new: run.continued,
        pending_activities: run.activities.len(),
        pending_timers: run.timers.len(),
        start_date: Ts(rec.start_ms),
        pending_activity_details,
        pending_timer_details,
        last_workflow_task_failure: run
            .last_task_failure
            .as_ref()
            .map(|(error, cause)| TaskFailure { error: error.clone(), cause: cause.clone() }),
    })
}

fn name(field: &str, value: &str) -> Result<String, Error> {
    Ok(bounded_required(field, Some(value), NAME_CHARS_MAX)?.to_string())
}

/// `input`: JSON text, as StartExecution takes it; absent is null.
fn payload(text: Option<&str>) -> Result<Value, Error> {
    let Some(text) = text else { return Ok(Value::Null) };
    super::executions::check_input(text)?;
    serde_json::from_str(text).map_err(|e| Error::api(AwsError::InvalidExecutionInput, format!("Invalid input: '{e}'")))
}

fn check_size(field: &str, v: &Value) -> Result<(), Error> {
    if state_language::json::to_string(v).len() > OUTPUT_BYTES_MAX {
        return Err(too_long(field, OUTPUT_BYTES_MAX));
    }
    Ok(())
}

/// A long poll of a task queue's workflow or activity tasks.
async fn poll(engine: &Engine, r: rq::PollTasks, queue: fn(&str) -> String) -> Result<Option<CodeTask>, Error> {
    check_task_queue(&r.task_queue)?;
    let worker = bounded("workerName", r.worker_name.as_deref(), WORKER_NAME_CHARS_MAX)?.map(str::to_string);
    let shared = queue(&r.task_queue);
    // Only workflow tasks are sticky. A worker with no name has no queue of
    // its own, but it still takes the sticky tasks other workers left waiting.
    let sticky = engine.sticky_wait_ms > 0 && shared == workflow_queue(&r.task_queue);
    let polled = engine.poll_code_task(&shared, sticky, worker.clone(), engine.poll_wait).await?;
    render(engine, polled, worker.as_deref()).await
}

/// An activity task as a worker gets it. `traceparent`: the execution's
/// trace, for the worker to continue (null when unknown).
fn activity_task(t: TokenRecord) -> CodeTask {
    CodeTask::Activity {
        task_token: t.token,
        execution_arn: t.execution_arn,
        activity_type: t.input["activity"].clone(),
        input: t.input["input"].clone(),
        attempt: t.input["attempt"].clone(),
        traceparent: t.traceparent,
    }
}

/// A task as a worker gets it, with its `kind`: `WORKFLOW`, `ACTIVITY` or
/// `QUERY`; `None` (answered as `{}`) when the poll found nothing.
///
/// A sticky workflow task given to the worker it waits for carries only the
/// events since that worker's last task (`historyFrom`: the index in the
/// run's history of the first one); any other worker gets them all.
async fn render(engine: &Engine, polled: Option<Polled>, worker: Option<&str>) -> Result<Option<CodeTask>, Error> {
    Ok(Some(match polled {
        None => return Ok(None),
        Some(Polled::Task(t)) if t.resource.starts_with(WORKFLOW_TASK_RESOURCE) => {
            let run_first = t.input["firstEventId"].as_u64().unwrap_or(1);
            let last = t.input["lastEventId"].as_u64().unwrap_or(0);
            let first = match t.input["stickyFirstEventId"].as_u64() {
                Some(f) if worker.is_some() && t.input["stickyWorker"].as_str() == worker && f > run_first => f,
                _ => run_first,
            };
            let history = engine.code_history(&t.execution_arn, first, last).await?;
            CodeTask::Workflow {
                task_token: t.token,
                execution_arn: t.execution_arn,
                workflow_type: t.input["workflowType"].clone(),
                history,
                history_from: first - run_first,
                traceparent: t.traceparent,
            }
        }
        Some(Polled::Task(t)) => activity_task(t),
        Some(Polled::Query { id, query, rec }) => {
            let Some(run) = rec.code() else { return Err(Error::Corrupt(format!("{} is not a code run", rec.arn))) };
            let history = engine.code_history(&rec.arn, run.run_first_event, run.events).await?;
            CodeTask::Query {
                query_id: id,
                query_type: query.kind,
                query_name: query.name,
                query_input: query.input,
                execution_arn: rec.arn.clone(),
                workflow_type: run.workflow_type.clone(),
                history,
            }
        }
    }))
}

/// An update: validated by a worker on the replayed state (a rejection
/// records nothing), then accepted into the history and answered by the code.
async fn update(engine: &Engine, r: rq::UpdateExecution) -> Result<UpdateAnswered, Error> {
    let arn = r.execution_arn.as_str();
    let name = name("updateName", &r.update_name)?;
    let input = payload(r.input.as_deref())?;
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
    Ok(UpdateAnswered { update_id: id, output })
}
