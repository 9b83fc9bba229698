//! CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules.

use serde_json::{Value, json};

use super::shapes::{self as rq, ScheduleOut, ScheduleSummaryOut, TargetSummary, page};
use crate::api::shapes::{Ts, bounded};
use crate::api::{decode_token, encode_token};
use crate::engine::Engine;
use crate::engine::schedules::{ScheduleSummary, not_found};
use crate::model::keys;
use crate::schedules::{
    CATCHUP_WINDOW_MS_DEFAULT, DEFAULT_GROUP, Expression, FlexibleMode, ScheduleRecord, ScheduleState,
    TARGET_INPUT_BYTES_MAX, check_name, schedule_arn, timezone,
};
use crate::store::Query;
use crate::{AwsError, Error};

/// EventBridge's bounds, in characters.
const DESCRIPTION_CHARS_MAX: usize = 512;
const CLIENT_TOKEN_CHARS_MAX: usize = 64;
const TARGET_ARN_CHARS_MAX: usize = 1600;
/// A flexible window's bounds, in minutes.
const WINDOW_MINUTES_MAX: u32 = 1440;
/// ListSchedules' page size: EventBridge's maximum.
const PAGE_ITEMS_MAX: usize = 100;

fn invalid(message: impl Into<String>) -> Error {
    Error::validation(message)
}

fn group_of(g: Option<&str>) -> Result<&str, Error> {
    let g = g.unwrap_or(DEFAULT_GROUP);
    check_name(g).map_err(invalid)?;
    Ok(g)
}

/// A record from a Create or Update request, checked as EventBridge checks it.
async fn record(engine: &Engine, r: rq::PutSchedule, now: i64) -> Result<ScheduleRecord, Error> {
    check_name(&r.name).map_err(invalid)?;
    let group = group_of(r.group_name.as_deref())?.to_string();
    let expression = Expression::parse(&r.schedule_expression).map_err(invalid)?;
    timezone(r.schedule_expression_timezone.as_deref()).map_err(invalid)?;
    bounded("Description", r.description.as_deref(), DESCRIPTION_CHARS_MAX)?;
    bounded("ClientToken", r.client_token.as_deref(), CLIENT_TOKEN_CHARS_MAX)?;
    bounded("Target.Arn", Some(&r.target.arn), TARGET_ARN_CHARS_MAX)?;
    let state = match r.state.as_deref() {
        None | Some("ENABLED") => ScheduleState::Enabled,
        Some("DISABLED") => ScheduleState::Disabled,
        Some(s) => return Err(invalid(format!("Invalid State '{s}': ENABLED or DISABLED"))),
    };
    if let Some(a) = r.action_after_completion.as_deref().filter(|a| !matches!(*a, "NONE" | "DELETE")) {
        return Err(invalid(format!("Invalid ActionAfterCompletion '{a}': NONE or DELETE")));
    }
    let w = r.flexible_time_window;
    match (w.mode, w.maximum_window_in_minutes) {
        (FlexibleMode::Flexible, Some(m)) if (1..=WINDOW_MINUTES_MAX).contains(&m) => {}
        (FlexibleMode::Flexible, _) => {
            return Err(invalid("A FLEXIBLE time window needs MaximumWindowInMinutes between 1 and 1440"));
        }
        (FlexibleMode::Off, Some(_)) => {
            return Err(invalid("MaximumWindowInMinutes is only for a FLEXIBLE time window"));
        }
        (FlexibleMode::Off, None) => {}
    }
    if r.target.input.as_ref().is_some_and(|i| i.len() > TARGET_INPUT_BYTES_MAX) {
        return Err(invalid(format!("Target.Input is over {TARGET_INPUT_BYTES_MAX} bytes")));
    }
    check_target(engine, &r.target.arn).await?;
    check_retries(&r.target)?;
    let ms = |s: Option<f64>| s.map(|s| (s * 1000.0).round() as i64);
    let (start_ms, end_ms) = (ms(r.start_date), ms(r.end_date));
    if let (Some(s), Some(e)) = (start_ms, end_ms)
        && e <= s
    {
        return Err(invalid("The EndDate must be after the StartDate"));
    }
    if end_ms.is_some_and(|e| e <= now) {
        return Err(invalid("The EndDate must be in the future"));
    }
    if matches!(expression, Expression::At(_)) && (start_ms.is_some() || end_ms.is_some()) {
        // EventBridge ignores them for a one-time schedule; Stepwise says so.
        return Err(invalid("StartDate and EndDate do not apply to an at() expression"));
    }
    let arn = schedule_arn(&engine.scope.region, &engine.scope.account, &group, &r.name);
    let mut rec = ScheduleRecord {
        arn,
        name: r.name,
        group,
        description: r.description,
        expression: r.schedule_expression,
        timezone: r.schedule_expression_timezone,
        start_ms,
        end_ms,
        state,
        flexible_time_window: w,
        action_after_completion: r.action_after_completion,
        kms_key_arn: r.kms_key_arn,
        target: r.target,
        creation_ms: now,
        modified_ms: now,
        client_token: r.client_token,
        anchor_ms: start_ms.unwrap_or(now),
        generation: 1,
        next_ms: None,
        overlap: Default::default(),
        catchup_window_ms: CATCHUP_WINDOW_MS_DEFAULT,
        recent: Vec::new(),
        paused: None,
        remaining_actions: None,
        buffered: Vec::new(),
    };
    rec.next_ms = first_fire(&rec, now);
    Ok(rec)
}

/// The first fire from `now` (a rate's anchor fires at once); none while disabled.
fn first_fire(r: &ScheduleRecord, now: i64) -> Option<i64> {
    if r.state == ScheduleState::Disabled {
        return None;
    }
    r.next_after(now - 1)
}

/// A target's `RetryPolicy` within EventBridge's bounds, and a dead-letter
/// queue that is an SQS queue.
fn check_retries(t: &crate::schedules::Target) -> Result<(), Error> {
    use crate::schedules::{EVENT_AGE_S_MAX, EVENT_AGE_S_MIN, RETRY_ATTEMPTS_MAX};
    if let Some(p) = &t.retry_policy {
        let get = |k: &str| p.get(k).filter(|v| !v.is_null());
        if let Some(v) = get("MaximumRetryAttempts") {
            v.as_u64().filter(|n| *n <= u64::from(RETRY_ATTEMPTS_MAX)).ok_or_else(|| {
                invalid(format!("RetryPolicy.MaximumRetryAttempts is a whole number from 0 to {RETRY_ATTEMPTS_MAX}"))
            })?;
        }
        if let Some(v) = get("MaximumEventAgeInSeconds") {
            v.as_u64().filter(|n| (u64::from(EVENT_AGE_S_MIN)..=u64::from(EVENT_AGE_S_MAX)).contains(n)).ok_or_else(
                || {
                    invalid(format!(
                        "RetryPolicy.MaximumEventAgeInSeconds is from {EVENT_AGE_S_MIN} to {EVENT_AGE_S_MAX}"
                    ))
                },
            )?;
        }
    }
    if let Some(d) = &t.dead_letter_config {
        let arn = d.get("Arn").and_then(Value::as_str).unwrap_or_default();
        if !matches!(crate::schedules::service_target(arn), Some(crate::schedules::ServiceTarget::Sqs { .. })) {
            return Err(invalid(format!("DeadLetterConfig.Arn is an SQS queue's ARN, not '{arn}'")));
        }
    }
    Ok(())
}

/// A Step Functions target must exist (a state machine, version or alias);
/// the universal `aws-sdk:sfn:startExecution`, Lambda and SQS targets are
/// checked at each fire.
async fn check_target(engine: &Engine, arn: &str) -> Result<(), Error> {
    if arn == "arn:aws:scheduler:::aws-sdk:sfn:startExecution" || crate::schedules::service_target(arn).is_some() {
        return Ok(()); // checked at each fire (a Lambda function or queue is not the server's)
    }
    if !arn.starts_with("arn:aws:states:") {
        return Err(invalid(format!(
            "Stepwise's schedules target a state machine, the universal target arn:aws:scheduler:::aws-sdk:sfn:startExecution, a Lambda function or an SQS queue, not {arn}"
        )));
    }
    match engine.resolve_for_start(arn).await {
        Ok(_) => Ok(()),
        Err(Error::Api { message, .. }) => Err(invalid(format!("The target does not exist: {message}"))),
        Err(e) => Err(e),
    }
}

pub(super) async fn create(engine: &Engine, r: rq::PutSchedule) -> Result<Value, Error> {
    let now = engine.now_ms();
    let rec = record(engine, r, now).await?;
    if let Some((existing, _)) = engine.schedule(&rec.group, &rec.name).await? {
        // A retried request with the same ClientToken gets the same answer.
        if rec.client_token.is_some() && existing.client_token == rec.client_token {
            return Ok(json!({"ScheduleArn": existing.arn}));
        }
        return Err(Error::api(AwsError::SchedulerConflict, format!("Schedule {} already exists.", rec.name)));
    }
    engine.create_schedule(&rec).await?;
    Ok(json!({"ScheduleArn": rec.arn}))
}

fn out(r: ScheduleRecord) -> ScheduleOut {
    ScheduleOut {
        arn: r.arn,
        name: r.name,
        group_name: r.group,
        schedule_expression: r.expression,
        schedule_expression_timezone: r.timezone,
        start_date: r.start_ms.map(Ts),
        end_date: r.end_ms.map(Ts),
        description: r.description,
        state: r.state,
        flexible_time_window: r.flexible_time_window,
        action_after_completion: r.action_after_completion,
        kms_key_arn: r.kms_key_arn,
        target: r.target,
        creation_date: Ts(r.creation_ms),
        last_modification_date: Ts(r.modified_ms),
    }
}

async fn load(engine: &Engine, name: &str, group: Option<&str>) -> Result<(ScheduleRecord, u64), Error> {
    let group = group_of(group)?;
    engine.schedule(group, name).await?.ok_or_else(|| not_found(&format!("Schedule {name}")))
}

pub(super) async fn get(engine: &Engine, r: rq::ScheduleName) -> Result<Value, Error> {
    let (rec, _) = load(engine, &r.name, r.group_name.as_deref()).await?;
    Ok(serde_json::to_value(out(rec)).expect("a schedule serializes"))
}

/// UpdateSchedule replaces every member (EventBridge's semantics): what the
/// request leaves out takes its default.
pub(super) async fn update(engine: &Engine, r: rq::PutSchedule) -> Result<Value, Error> {
    let (old, version) = load(engine, &r.name, r.group_name.as_deref()).await?;
    let now = engine.now_ms();
    let mut new = record(engine, r, now).await?;
    new.creation_ms = old.creation_ms;
    new.client_token = old.client_token.clone();
    new.generation = old.generation + 1;
    new.overlap = old.overlap;
    new.catchup_window_ms = old.catchup_window_ms;
    new.recent = old.recent.clone();
    // Stepwise's policies are set by their own operations, and kept here.
    new.paused = old.paused.clone();
    new.remaining_actions = old.remaining_actions;
    new.buffered = old.buffered.clone();
    // A rate keeps its rhythm while its expression and start stay the same.
    if new.expression == old.expression && new.start_ms == old.start_ms {
        new.anchor_ms = old.anchor_ms;
    }
    new.next_ms = first_fire(&new, now);
    engine.replace_schedule(&old, version, &new).await?;
    Ok(json!({"ScheduleArn": new.arn}))
}

pub(super) async fn delete(engine: &Engine, r: rq::ScheduleName) -> Result<Value, Error> {
    let (rec, version) = load(engine, &r.name, r.group_name.as_deref()).await?;
    engine.delete_schedule(&rec, version).await?;
    Ok(json!({}))
}

pub(super) async fn list(engine: &Engine, r: rq::ListSchedules) -> Result<Value, Error> {
    let limit = match r.max_results {
        None => PAGE_ITEMS_MAX,
        Some(n @ 1..=100) => n as usize,
        Some(n) => return Err(invalid(format!("MaxResults {n} is not between 1 and 100"))),
    };
    let state = match r.state.as_deref() {
        None => None,
        Some("ENABLED") => Some(ScheduleState::Enabled),
        Some("DISABLED") => Some(ScheduleState::Disabled),
        Some(s) => return Err(invalid(format!("Invalid State '{s}': ENABLED or DISABLED"))),
    };
    let prefix = match &r.group_name {
        Some(g) => {
            engine
                .schedule_group(group_of(Some(g))?)
                .await?
                .ok_or_else(|| not_found(&format!("Schedule group {g}")))?;
            format!("{g}/")
        }
        None => String::new(),
    };
    let after = decode_token(engine, &r, "ListSchedules").await?;
    let q = Query { pk: keys::SCHEDULES_INDEX.into(), sk_prefix: prefix, after, limit, descending: false };
    let (items, next) = crate::api::pagination::filtered(engine, q, |it| {
        let s: ScheduleSummary = crate::engine::decode(&it.body)?;
        let keep =
            r.name_prefix.as_deref().is_none_or(|p| s.name.starts_with(p)) && state.is_none_or(|st| st == s.state);
        Ok(keep.then_some(ScheduleSummaryOut {
            arn: s.arn,
            name: s.name,
            group_name: s.group,
            state: s.state,
            target: TargetSummary { arn: s.target_arn },
            creation_date: Ts(s.creation_ms),
            last_modification_date: Ts(s.modified_ms),
        }))
    })
    .await?;
    let token = match next {
        Some(n) => Some(encode_token(engine, &r, "ListSchedules", &n).await?),
        None => None,
    };
    Ok(page("Schedules", items, token))
}
