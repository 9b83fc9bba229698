//! Execution operations.

use crate::AwsError;
use crate::model::ExecutionStatus;
use std::time::Duration;

use serde_json::{Value, json};
use state_language::interpreter::Input;

use super::machines::no_machine;
use super::{Req, decode_token, encode_token, ts};
use crate::Error;
use crate::arn::{Arn, check_name};
use crate::engine::{Engine, decode};
use crate::model::{ExecutionRecord, ExecutionSummary, keys};
use crate::store::Query;

/// AWS's limit on an execution's input, in bytes.
pub const INPUT_BYTES_MAX: usize = 256 * 1024;
/// How long StartSyncExecution waits: an Express execution's limit.
const SYNC_WAIT: Duration = Duration::from_secs(5 * 60);
/// Index pages one filtered ListExecutions call reads at most.
const LIST_PAGES_MAX: usize = 20;

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
        return Err(Error::validation(format!(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to {INPUT_BYTES_MAX}"
        )));
    }
    serde_json::from_str::<Value>(input).map(|_| ()).map_err(|e| {
        Error::api(AwsError::InvalidExecutionInput, format!("Invalid State Machine Execution Input: '{e}'"))
    })
}

pub(super) async fn start(engine: &Engine, r: Req<'_>, sync: bool) -> Result<Value, Error> {
    let arn = r.str("stateMachineArn")?;
    let mut req = engine.resolve_for_start(arn).await?;
    if sync && !req.express {
        return Err(Error::api(
            AwsError::StateMachineTypeNotSupported,
            "This operation is not supported by this type of StateMachine",
        ));
    }
    req.name = match r.opt_str("name")? {
        Some(n) => {
            check_name(n)?;
            n.to_string()
        }
        None => engine.uuid(),
    };
    req.input = r.opt_str("input")?.unwrap_or("{}").to_string();
    check_input(&req.input)?;
    req.trace_header = r.bounded("traceHeader", 256)?.map(str::to_string);
    let (rec, _) = engine.start(req).await?;
    if !sync {
        return Ok(json!({"executionArn": rec.arn, "startDate": ts(rec.start_ms)}));
    }
    let done = engine.wait_closed(&rec.arn, SYNC_WAIT).await?.unwrap_or(rec);
    let mut out = describe_record(&done, engine.now_ms());
    if let Some(o) = out.as_object_mut() {
        for k in
            ["redriveCount", "redriveStatus", "redriveStatusReason", "stateMachineVersionArn", "stateMachineAliasArn"]
        {
            o.remove(k);
        }
        o.insert("billingDetails".into(), json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}));
    }
    Ok(out)
}

pub(super) async fn stop(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("executionArn")?;
    let error = r.bounded("error", 256)?.map(str::to_string);
    let cause = r.bounded("cause", 32768)?.map(str::to_string);
    let rec = load(engine, arn).await?;
    if rec.status != ExecutionStatus::Running {
        return Ok(json!({"stopDate": ts(rec.stop_ms.unwrap_or(rec.start_ms))}));
    }
    let after = engine.advance(arn, None, &[Input::Stop { error, cause }]).await?.ok_or_else(|| no_execution(arn))?;
    Ok(json!({"stopDate": ts(after.stop_ms.unwrap_or(after.start_ms))}))
}

pub(super) async fn redrive(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("executionArn")?;
    r.bounded("clientToken", 64)?;
    let rec = load(engine, arn).await?;
    rec.redrivable(engine.now_ms()).map_err(|why| Error::api(AwsError::ExecutionNotRedrivable, why))?;
    let after = engine.advance(arn, None, &[Input::Redrive]).await?.ok_or_else(|| no_execution(arn))?;
    let date =
        after.redrive_ms.ok_or_else(|| Error::api(AwsError::ExecutionNotRedrivable, "Execution cannot be redriven"))?;
    Ok(json!({"redriveDate": ts(date)}))
}

fn describe_record(rec: &ExecutionRecord, now: i64) -> Value {
    let mut v = summary(&rec.summary());
    let o = v.as_object_mut().expect("summary builds an object");
    o.insert("input".into(), json!(rec.input));
    o.insert("inputDetails".into(), json!({"included": true}));
    o.insert("redriveCount".into(), json!(rec.redrive_count));
    match rec.redrivable(now) {
        Ok(()) => {
            o.insert("redriveStatus".into(), json!("REDRIVABLE"));
        }
        Err(why) => {
            o.insert("redriveStatus".into(), json!("NOT_REDRIVABLE"));
            o.insert("redriveStatusReason".into(), json!(why));
        }
    }
    if let Some(d) = rec.redrive_ms {
        o.insert("redriveDate".into(), ts(d));
    }
    if let Some(out) = &rec.output {
        o.insert("output".into(), json!(out));
        o.insert("outputDetails".into(), json!({"included": true}));
    }
    // Stepwise's addition (SDKs ignore fields they do not know): the execution
    // that started this one, so the console links a child to its parent.
    let parent = rec.parent.as_ref().map(|p| p.execution_arn.clone());
    for (k, x) in [
        ("error", &rec.error),
        ("cause", &rec.cause),
        ("traceHeader", &rec.trace_header),
        ("parentExecutionArn", &parent),
    ] {
        if let Some(x) = x {
            o.insert(k.into(), json!(x));
        }
    }
    v
}

pub(super) async fn describe(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    Ok(describe_record(&load(engine, r.str("executionArn")?).await?, engine.now_ms()))
}

pub(super) async fn list(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r
        .opt_str("stateMachineArn")?
        .ok_or_else(|| Error::validation("Must provide a StateMachine ARN or MapRun ARN"))?;
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
    let status = match r.opt_str("statusFilter")? {
        None => None,
        Some(s @ ("RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE")) => Some(s),
        Some(s) => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
            )));
        }
    };
    let redrive = match r.opt_str("redriveFilter")? {
        None => None,
        Some(f @ ("REDRIVEN" | "NOT_REDRIVEN")) => Some(f == "REDRIVEN"),
        Some(f) => return Err(Error::validation(format!("Invalid redriveFilter '{f}'"))),
    };
    let limit = r.max_results(100)?;
    let (pk, _) = keys::execution_index(&machine_arn, 0, "");
    let mut after = decode_token(engine, r, "ListExecutions").await?;
    let mut items = Vec::new();
    let mut next = None;
    'pages: for _ in 0..LIST_PAGES_MAX {
        let q = Query { pk: pk.clone(), sk_prefix: String::new(), after: after.clone(), limit, descending: true };
        let page = engine.read_page(q).await?;
        for it in &page.items {
            let s: ExecutionSummary = decode(&it.body)?;
            let keep = status.is_none_or(|st| st == s.status.as_str())
                && redrive.is_none_or(|want| want == (s.redrive_count > 0))
                && qualifier
                    .as_ref()
                    .is_none_or(|q| s.version_arn.as_ref() == Some(q) || s.alias_arn.as_ref() == Some(q));
            if keep {
                items.push(summary(&s));
            }
            if items.len() == limit {
                next = Some(it.sk.clone());
                break 'pages;
            }
        }
        match page.last {
            Some(l) => {
                after = Some(l.clone());
                next = Some(l);
            }
            None => {
                next = None;
                break;
            }
        }
    }
    let mut out = json!({"executions": items});
    if let Some(n) = next {
        out["nextToken"] = json!(encode_token(engine, r, "ListExecutions", &n).await?);
    }
    Ok(out)
}

fn summary(s: &ExecutionSummary) -> Value {
    let mut v = json!({
        "executionArn": s.arn,
        "stateMachineArn": s.version_arn.as_ref().unwrap_or(&s.machine_arn),
        "name": s.name,
        "status": s.status,
        "startDate": ts(s.start_ms),
    });
    if let Some(t) = s.stop_ms {
        v["stopDate"] = ts(t);
    }
    if let Some(a) = &s.version_arn {
        v["stateMachineVersionArn"] = json!(a);
    }
    if let Some(a) = &s.alias_arn {
        v["stateMachineAliasArn"] = json!(a);
    }
    v
}
