//! Activities and task tokens.

use super::shapes::responses::{
    ActivityCreated, ActivityItem, ActivityTask, DescribeActivity, Empty, ListActivities, Worker,
};
use super::shapes::{Ts, bounded, max_results, requests as rq, too_long};
use super::{decode_token, encode_token};
use crate::AwsError;
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

pub(super) async fn create(engine: &Engine, r: rq::CreateActivity) -> Result<ActivityCreated, Error> {
    let name = r.name.as_str();
    check_name(name)?;
    let arn = engine.scope.activity(name);
    let (pk, sk) = keys::activity(&arn);
    if let Some(a) = engine.get_record::<ActivityRecord>(&(pk.clone(), sk.clone())).await? {
        return Ok(ActivityCreated { activity_arn: a.arn, creation_date: Ts(a.creation_ms) });
    }
    let a = ActivityRecord { arn: arn.clone(), name: name.into(), creation_ms: engine.now_ms() };
    let mut writes = vec![
        Write::put((pk, sk), encode(&a), Condition::NotExists),
        Write::put(keys::activities_index(name), encode(&a), Condition::None),
    ];
    if let Some(tags) = &r.tags {
        super::tags::check(tags)?;
        writes.push(Write::put(keys::tags(&arn), encode(tags), Condition::None));
    }
    match engine.write_catalog(writes).await {
        Ok(()) | Err(Error::ConditionFailed(_)) => {
            Ok(ActivityCreated { activity_arn: arn, creation_date: Ts(a.creation_ms) })
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn describe(engine: &Engine, r: rq::ActivityArn) -> Result<DescribeActivity, Error> {
    let a = load(engine, &r.activity_arn).await?;
    // Stepwise's additions for operators (SDKs ignore fields they do not know):
    // tasks waiting for a worker, and the workers that polled last.
    let pending = engine.activity_backlog(&a.arn).await?;
    let recent_workers = engine
        .pollers
        .latest(&a.arn)
        .into_iter()
        .map(|p| Worker { worker_name: p.worker, last_poll_date: Ts(p.at_ms) })
        .collect();
    Ok(DescribeActivity {
        activity_arn: a.arn,
        name: a.name,
        creation_date: Ts(a.creation_ms),
        pending_task_count: pending,
        recent_workers,
    })
}

pub(super) async fn delete(engine: &Engine, r: rq::ActivityArn) -> Result<Empty, Error> {
    let arn = r.activity_arn.as_str();
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
    Ok(Empty {})
}

pub(super) async fn list(engine: &Engine, r: rq::Page) -> Result<ListActivities, Error> {
    let q = Query {
        pk: keys::ACTIVITIES_INDEX.into(),
        sk_prefix: String::new(),
        after: decode_token(engine, &r, "ListActivities").await?,
        limit: max_results(r.max_results, 100)?,
        descending: false,
    };
    let page = engine.read_page(q).await?;
    let mut activities = Vec::new();
    for i in &page.items {
        let a: ActivityRecord = decode(&i.body)?;
        activities.push(ActivityItem { activity_arn: a.arn, name: a.name, creation_date: Ts(a.creation_ms) });
    }
    let next_token = match page.last {
        Some(l) => Some(encode_token(engine, &r, "ListActivities", &l).await?),
        None => None,
    };
    Ok(ListActivities { activities, next_token })
}

pub(super) async fn get_task(engine: &Engine, r: rq::GetActivityTask) -> Result<ActivityTask, Error> {
    let arn = r.activity_arn.as_str();
    let worker = bounded("workerName", r.worker_name.as_deref(), 80)?.map(str::to_string);
    load(engine, arn).await?;
    engine.pollers.record(arn, worker.as_deref().unwrap_or("(unnamed)"), engine.now_ms());
    match engine.take_activity_task(arn, worker, engine.poll_wait).await? {
        // `traceparent` is Stepwise's addition: the worker may continue the execution's trace.
        Some(t) => Ok(ActivityTask {
            task_token: Some(t.token),
            input: Some(state_language::json::to_string(&t.input)),
            traceparent: t.traceparent,
        }),
        None => Ok(ActivityTask { task_token: None, input: None, traceparent: None }),
    }
}

pub(super) async fn send_success(engine: &Engine, r: rq::SendTaskSuccess) -> Result<Empty, Error> {
    if r.output.len() > OUTPUT_BYTES_MAX {
        return Err(too_long("output", OUTPUT_BYTES_MAX));
    }
    let output: serde_json::Value = serde_json::from_str(&r.output)
        .map_err(|e| Error::api(AwsError::InvalidOutput, format!("Invalid Output: '{e}'")))?;
    engine.report(&r.task_token, InboxEntry::Succeeded { output }).await?;
    Ok(Empty {})
}

/// AWS's bounds on a task failure's error and cause, in characters.
pub(super) const ERROR_CHARS_MAX: usize = 256;
pub(super) const CAUSE_CHARS_MAX: usize = 32768;

pub(super) async fn send_failure(engine: &Engine, r: rq::SendTaskFailure) -> Result<Empty, Error> {
    let error = bounded("error", r.error.as_deref(), ERROR_CHARS_MAX)?.unwrap_or("").to_string();
    let cause = bounded("cause", r.cause.as_deref(), CAUSE_CHARS_MAX)?.unwrap_or("").to_string();
    engine.report(&r.task_token, InboxEntry::Failed { error, cause }).await?;
    Ok(Empty {})
}

pub(super) async fn send_heartbeat(engine: &Engine, r: rq::TaskToken) -> Result<Empty, Error> {
    engine.report(&r.task_token, InboxEntry::Heartbeat).await?;
    Ok(Empty {})
}
