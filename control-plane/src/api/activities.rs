//! Activities and task tokens.

use crate::AwsError;
use serde_json::{Value, json};

use super::{Req, decode_token, encode_token, ts};
use crate::Error;
use crate::arn::{Arn, check_name};
use crate::engine::{Engine, decode, encode};
use crate::model::{ActivityRecord, InboxEntry, keys};
use crate::store::{Condition, Query, Write};

/// AWS's limit on SendTaskSuccess output, in bytes.
pub const OUTPUT_BYTES_MAX: usize = 256 * 1024;

fn no_activity(arn: &str) -> Error {
    Error::api(AwsError::ActivityDoesNotExist, format!("Activity Does Not Exist: '{arn}'"))
}

async fn load(engine: &Engine, arn: &str) -> Result<ActivityRecord, Error> {
    match Arn::parse(arn)? {
        Arn::Activity { .. } => {}
        _ => {
            return Err(Error::api(
                AwsError::InvalidArn,
                format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
            ));
        }
    }
    let (pk, sk) = keys::activity(arn);
    engine.get_record(&(pk, sk)).await?.ok_or_else(|| no_activity(arn))
}

pub(super) async fn create(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let name = r.str("name")?;
    check_name(name)?;
    let arn = engine.scope.activity(name);
    let (pk, sk) = keys::activity(&arn);
    if let Some(a) = engine.get_record::<ActivityRecord>(&(pk.clone(), sk.clone())).await? {
        return Ok(json!({"activityArn": a.arn, "creationDate": ts(a.creation_ms)}));
    }
    let a = ActivityRecord { arn: arn.clone(), name: name.into(), creation_ms: engine.now_ms() };
    let mut writes = vec![
        Write::put((pk, sk), encode(&a), Condition::NotExists),
        Write::put(keys::activities_index(name), encode(&a), Condition::None),
    ];
    if let Some(tags) = r.get("tags") {
        writes.push(Write::put(keys::tags(&arn), encode(&super::tags::parse(tags)?), Condition::None));
    }
    match engine.write_catalog(writes).await {
        Ok(()) | Err(Error::ConditionFailed(_)) => Ok(json!({"activityArn": arn, "creationDate": ts(a.creation_ms)})),
        Err(e) => Err(e),
    }
}

pub(super) async fn describe(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let a = load(engine, r.str("activityArn")?).await?;
    // Stepwise's additions for operators (SDKs ignore fields they do not know):
    // tasks waiting for a worker, and the workers that polled last.
    let pending = engine.activity_backlog(&a.arn).await?;
    let pollers: Vec<Value> = engine
        .pollers
        .latest(&a.arn)
        .into_iter()
        .map(|p| json!({"workerName": p.worker, "lastPollDate": ts(p.at_ms)}))
        .collect();
    Ok(json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.creation_ms),
        "pendingTaskCount": pending, "recentWorkers": pollers}))
}

pub(super) async fn delete(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("activityArn")?;
    let Arn::Activity { name } = Arn::parse(arn)? else {
        return Err(Error::api(
            AwsError::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
        ));
    };
    let writes = vec![
        Write::delete(keys::activity(arn)),
        Write::delete(keys::activities_index(&name)),
        Write::delete(keys::tags(arn)),
    ];
    engine.write_catalog(writes).await?;
    Ok(json!({}))
}

pub(super) async fn list(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let q = Query {
        pk: keys::ACTIVITIES_INDEX.into(),
        sk_prefix: String::new(),
        after: decode_token(engine, r, "ListActivities").await?,
        limit: r.max_results(100)?,
        descending: false,
    };
    let page = engine.read_page(q).await?;
    let mut items = Vec::new();
    for i in &page.items {
        let a: ActivityRecord = decode(&i.body)?;
        items.push(json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.creation_ms)}));
    }
    let mut out = json!({"activities": items});
    if let Some(l) = page.last {
        out["nextToken"] = json!(encode_token(engine, r, "ListActivities", &l).await?);
    }
    Ok(out)
}

pub(super) async fn get_task(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("activityArn")?;
    let worker = r.bounded("workerName", 80)?.map(str::to_string);
    load(engine, arn).await?;
    engine.pollers.record(arn, worker.as_deref().unwrap_or("(unnamed)"), engine.now_ms());
    match engine.take_activity_task(arn, worker, engine.poll_wait).await? {
        // `traceparent` is Stepwise's addition: the worker may continue the execution's trace.
        Some(t) => {
            let mut out = json!({"taskToken": t.token, "input": state_language::json::to_string(&t.input)});
            if let Some(tp) = t.traceparent {
                out["traceparent"] = json!(tp);
            }
            Ok(out)
        }
        None => Ok(json!({})),
    }
}

pub(super) async fn send_success(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let token = r.str("taskToken")?;
    let output = r.str("output")?;
    if output.len() > OUTPUT_BYTES_MAX {
        return Err(Error::validation(format!(
            "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to {OUTPUT_BYTES_MAX}"
        )));
    }
    let output: Value = serde_json::from_str(output)
        .map_err(|e| Error::api(AwsError::InvalidOutput, format!("Invalid Output: '{e}'")))?;
    engine.report(token, InboxEntry::Succeeded { output }).await?;
    Ok(json!({}))
}

pub(super) async fn send_failure(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let token = r.str("taskToken")?;
    let error = r.bounded("error", 256)?.unwrap_or("").to_string();
    let cause = r.bounded("cause", 32768)?.unwrap_or("").to_string();
    engine.report(token, InboxEntry::Failed { error, cause }).await?;
    Ok(json!({}))
}

pub(super) async fn send_heartbeat(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    engine.report(r.str("taskToken")?, InboxEntry::Heartbeat).await?;
    Ok(json!({}))
}
