//! Execution operations.

use crate::AwsError;
use crate::model::ExecutionStatus;
use std::time::Duration;

use serde_json::Value;
use state_language::interpreter::Input;

use super::activities::{CAUSE_CHARS_MAX, ERROR_CHARS_MAX};
use super::machines::no_machine;
use super::shapes::responses::{
    BillingDetails, DescribeExecution, ExecutionItem, Included, ListExecutions, Redriven, Started, Stopped,
};
use super::shapes::{Ts, bounded, max_results, one_of, requests as rq, too_long};
use super::{decode_token, encode_token};
use crate::Error;
use crate::arn::{Arn, check_name};
use crate::engine::{Engine, decode};
use crate::model::{ExecutionRecord, ExecutionSummary, keys};
use crate::store::Query;

/// AWS's limit on an execution's input, in bytes.
pub const INPUT_BYTES_MAX: usize = 256 * 1024;
/// How long StartSyncExecution waits: an Express execution's limit.
const SYNC_WAIT: Duration = Duration::from_secs(5 * 60);

pub(super) fn no_execution(arn: &str) -> Error {
    Error::api(AwsError::ExecutionDoesNotExist, format!("Execution Does Not Exist: '{arn}'"))
}

pub(super) async fn load(engine: &Engine, arn: &str) -> Result<ExecutionRecord, Error> {
    match Arn::parse(arn)? {
        Arn::Execution { .. } => {}
        _ => {
            return Err(Error::api(
                AwsError::InvalidArn,
                format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
            ));
        }
    }
    engine.execution(arn).await?.map(|(r, _)| r).ok_or_else(|| no_execution(arn))
}

/// Checks an input: at most [`INPUT_BYTES_MAX`] and valid JSON.
pub(super) fn check_input(input: &str) -> Result<(), Error> {
    if input.len() > INPUT_BYTES_MAX {
        return Err(too_long("input", INPUT_BYTES_MAX));
    }
    serde_json::from_str::<Value>(input).map(|_| ()).map_err(|e| {
        Error::api(AwsError::InvalidExecutionInput, format!("Invalid State Machine Execution Input: '{e}'"))
    })
}

/// AWS's bound on `traceHeader`, in characters.
const TRACE_HEADER_CHARS_MAX: usize = 256;

/// Starts an execution; `sync` runs an Express machine's to its end.
async fn begin(engine: &Engine, r: rq::StartExecution, sync: bool) -> Result<ExecutionRecord, Error> {
    let mut req = engine.resolve_for_start(&r.state_machine_arn).await?;
    if sync && !req.express {
        return Err(Error::api(
            AwsError::StateMachineTypeNotSupported,
            "This operation is not supported by this type of StateMachine",
        ));
    }
    req.name = match r.name {
        Some(n) => {
            check_name(&n)?;
            n
        }
        None => engine.uuid(),
    };
    req.input = r.input.unwrap_or_else(|| "{}".into());
    check_input(&req.input)?;
    req.trace_header = bounded("traceHeader", r.trace_header.as_deref(), TRACE_HEADER_CHARS_MAX)?.map(str::to_string);
    Ok(engine.start(req).await?.0)
}

pub(super) async fn start(engine: &Engine, r: rq::StartExecution) -> Result<Started, Error> {
    let rec = begin(engine, r, false).await?;
    Ok(Started { execution_arn: rec.arn, start_date: Ts(rec.start_ms) })
}

/// StartSyncExecution: DescribeExecution's answer at the end, without the
/// redrive and version members, with `billingDetails`.
pub(super) async fn start_sync(engine: &Engine, r: rq::StartExecution) -> Result<DescribeExecution, Error> {
    let rec = begin(engine, r, true).await?;
    let done = engine.wait_closed(&rec.arn, SYNC_WAIT).await?.unwrap_or(rec);
    let mut out = describe_record(&done, engine.now_ms());
    out.redrive_count = None;
    out.redrive_status = None;
    out.redrive_status_reason = None;
    out.item.state_machine_version_arn = None;
    out.item.state_machine_alias_arn = None;
    out.billing_details = Some(BillingDetails { billed_memory_used_in_m_b: 64, billed_duration_in_milliseconds: 100 });
    Ok(out)
}

pub(super) async fn stop(engine: &Engine, r: rq::StopExecution) -> Result<Stopped, Error> {
    let arn = r.execution_arn.as_str();
    let error = bounded("error", r.error.as_deref(), ERROR_CHARS_MAX)?.map(str::to_string);
    let cause = bounded("cause", r.cause.as_deref(), CAUSE_CHARS_MAX)?.map(str::to_string);
    let rec = load(engine, arn).await?;
    if rec.status != ExecutionStatus::Running {
        return Ok(Stopped { stop_date: Ts(rec.stop_ms.unwrap_or(rec.start_ms)) });
    }
    let after = engine.advance(arn, None, &[Input::Stop { error, cause }]).await?.ok_or_else(|| no_execution(arn))?;
    Ok(Stopped { stop_date: Ts(after.stop_ms.unwrap_or(after.start_ms)) })
}

/// AWS's bound on RedriveExecution's `clientToken`, in characters.
const CLIENT_TOKEN_CHARS_MAX: usize = 64;

pub(super) async fn redrive(engine: &Engine, r: rq::RedriveExecution) -> Result<Redriven, Error> {
    let arn = r.execution_arn.as_str();
    bounded("clientToken", r.client_token.as_deref(), CLIENT_TOKEN_CHARS_MAX)?;
    let rec = load(engine, arn).await?;
    rec.redrivable(engine.now_ms()).map_err(|why| Error::api(AwsError::ExecutionNotRedrivable, why))?;
    let after = engine.advance(arn, None, &[Input::Redrive]).await?.ok_or_else(|| no_execution(arn))?;
    let date =
        after.redrive_ms.ok_or_else(|| Error::api(AwsError::ExecutionNotRedrivable, "Execution cannot be redriven"))?;
    Ok(Redriven { redrive_date: Ts(date) })
}

fn describe_record(rec: &ExecutionRecord, now: i64) -> DescribeExecution {
    let (redrive_status, redrive_status_reason) = match rec.redrivable(now) {
        Ok(()) => ("REDRIVABLE", None),
        Err(why) => ("NOT_REDRIVABLE", Some(why)),
    };
    // AWS gives `itemCount` in ListExecutions(mapRunArn) only.
    let item = ExecutionItem { item_count: None, ..item(&rec.summary()) };
    DescribeExecution {
        item,
        input: Some(rec.input.clone()),
        input_details: Included { included: true },
        output: rec.output.clone(),
        output_details: rec.output.as_ref().map(|_| Included { included: true }),
        redrive_count: Some(rec.redrive_count),
        redrive_status: Some(redrive_status),
        redrive_status_reason,
        redrive_date: rec.redrive_ms.map(Ts),
        error: rec.error.clone(),
        cause: rec.cause.clone(),
        trace_header: rec.trace_header.clone(),
        parent_execution_arn: rec.parent.as_ref().map(|p| p.execution_arn.clone()),
        billing_details: None,
    }
}

pub(super) async fn describe(engine: &Engine, r: rq::ExecutionArn) -> Result<DescribeExecution, Error> {
    match load(engine, &r.execution_arn).await {
        Ok(rec) => Ok(describe_record(&rec, engine.now_ms())),
        Err(e @ Error::Api { kind: AwsError::ExecutionDoesNotExist, .. }) => {
            super::express_children::describe(engine, &r.execution_arn).await?.ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// AwaitExecution's wait when the request names none, and the most it may
/// name, in seconds: a long poll as long as GetActivityTask's at most.
const AWAIT_SECONDS_DEFAULT: u64 = 20;
const AWAIT_SECONDS_MAX: u64 = 60;

/// AwaitExecution (Stepwise's): DescribeExecution's answer once the
/// execution has closed, or after `waitSeconds` with it still running. A
/// client learns of the close when it happens, without polling.
pub(super) async fn await_closed(engine: &Engine, r: rq::AwaitExecution) -> Result<DescribeExecution, Error> {
    let seconds = r.wait_seconds.unwrap_or(AWAIT_SECONDS_DEFAULT);
    if seconds > AWAIT_SECONDS_MAX {
        return Err(Error::validation(format!(
            "Invalid waitSeconds {seconds}: it must be between 0 and {AWAIT_SECONDS_MAX}"
        )));
    }
    let rec = load(engine, &r.execution_arn).await?;
    let rec = match rec.status {
        ExecutionStatus::Running if seconds > 0 => {
            engine.wait_closed(&rec.arn, Duration::from_secs(seconds)).await?.ok_or_else(|| no_execution(&rec.arn))?
        }
        _ => rec,
    };
    Ok(describe_record(&rec, engine.now_ms()))
}

/// The statuses ListExecutions filters on, in AWS's order.
const STATUS_FILTERS: [&str; 6] = ["SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING"];

pub(super) async fn list(engine: &Engine, r: rq::ListExecutions) -> Result<ListExecutions, Error> {
    let (listed, qualifier) = match (&r.state_machine_arn, &r.map_run_arn) {
        (Some(_), Some(_)) => {
            return Err(Error::validation("Only one of a StateMachine ARN or a MapRun ARN may be given"));
        }
        (None, Some(run)) => (super::map_runs::children_listed_under(engine, run).await?, None),
        (Some(arn), None) => machine_listed_under(engine, arn).await?,
        (None, None) => return Err(Error::validation("Must provide a StateMachine ARN or MapRun ARN")),
    };
    let status = r.status_filter.as_deref().map(|s| one_of("statusFilter", s, &STATUS_FILTERS)).transpose()?;
    let redrive = match r.redrive_filter.as_deref() {
        None => None,
        Some(f @ ("REDRIVEN" | "NOT_REDRIVEN")) => Some(f == "REDRIVEN"),
        Some(f) => return Err(Error::validation(format!("Invalid redriveFilter '{f}'"))),
    };
    let limit = max_results(r.max_results, 100)?;
    let (pk, _) = keys::execution_index(&listed, 0, "");
    let after = decode_token(engine, &r, "ListExecutions").await?;
    let q = Query { pk, sk_prefix: String::new(), after, limit, descending: true };
    let (items, next) = super::pagination::filtered(engine, q, |it| {
        let s: ExecutionSummary = decode(&it.body)?;
        let keep = status.is_none_or(|st| st == s.status.as_str())
            && redrive.is_none_or(|want| want == (s.redrive_count > 0))
            && qualifier.as_ref().is_none_or(|q| s.version_arn.as_ref() == Some(q) || s.alias_arn.as_ref() == Some(q));
        Ok(keep.then(|| item(&s)))
    })
    .await?;
    let next_token = match next {
        Some(n) => Some(encode_token(engine, &r, "ListExecutions", &n).await?),
        None => None,
    };
    Ok(ListExecutions { executions: items, next_token })
}

/// The index key ListExecutions reads for a state machine (or a version or
/// alias of one, which filters), after checking that it exists.
async fn machine_listed_under(engine: &Engine, arn: &str) -> Result<(String, Option<String>), Error> {
    let (base, qualifier) = match Arn::parse(arn)? {
        Arn::StateMachine { machine } => (machine, None),
        Arn::Version { machine, .. } | Arn::Alias { machine, .. } => (machine, Some(arn.to_string())),
        _ => {
            return Err(Error::api(
                AwsError::InvalidArn,
                format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
            ));
        }
    };
    let machine_arn = engine.scope.state_machine(&base);
    engine.machine(&machine_arn).await?.ok_or_else(|| no_machine(arn))?;
    Ok((machine_arn, qualifier))
}

pub(super) fn item(s: &ExecutionSummary) -> ExecutionItem {
    ExecutionItem {
        execution_arn: s.arn.clone(),
        state_machine_arn: s.version_arn.as_ref().unwrap_or(&s.machine_arn).clone(),
        name: s.name.clone(),
        status: s.status,
        start_date: Ts(s.start_ms),
        stop_date: s.stop_ms.map(Ts),
        state_machine_version_arn: s.version_arn.clone(),
        state_machine_alias_arn: s.alias_arn.clone(),
        map_run_arn: s.map_run_arn.clone(),
        item_count: s.item_count,
    }
}
