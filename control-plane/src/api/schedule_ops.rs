//! Stepwise's schedule operations beside the Scheduler API: Temporal's
//! policies, which EventBridge has no fields for (overlap policies, the
//! catch-up window, a limit on remaining actions, pause with a note,
//! trigger now, backfill), and the recent and upcoming fires. Same AWS JSON
//! 1.0 protocol and target prefix as the other Stepwise operations.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::shapes::{Ts, bounded, parse};
use crate::engine::Engine;
use crate::engine::schedules::not_found;
use crate::schedules::{
    CATCHUP_WINDOW_MS_MIN, OverlapPolicy, RecentAction, ScheduleRecord, ScheduleState, UPCOMING_MAX,
};
use crate::{AwsError, Error};

pub const OPERATIONS: [&str; 6] = [
    "DescribeScheduleState",
    "UpdateScheduleOptions",
    "PauseSchedule",
    "UnpauseSchedule",
    "TriggerSchedule",
    "BackfillSchedule",
];

/// A pause note, in characters (Temporal's notes are free text; bounded here).
const NOTE_CHARS_MAX: usize = 1024;
/// Scheduled times one BackfillSchedule acts on, at most.
pub const BACKFILL_FIRES_MAX: usize = 1000;
/// Upcoming fires DescribeScheduleState lists by default.
const UPCOMING_DEFAULT: usize = 10;
/// Saves retried when the record changes meanwhile (a fire landing).
const SAVE_ATTEMPTS_MAX: usize = 8;

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    schedule_arn: String,
    overlap_policy: Option<String>,
    catchup_window_seconds: Option<u64>,
    remaining_actions: Option<u64>,
    #[serde(default)]
    clear_remaining_actions: bool,
    note: Option<String>,
    upcoming: Option<u64>,
    start_date: Option<f64>,
    end_date: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionOut {
    scheduled_date: Ts,
    actual_date: Ts,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
}

fn action_out(a: RecentAction) -> ActionOut {
    ActionOut {
        scheduled_date: Ts(a.scheduled_ms),
        actual_date: Ts(a.actual_ms),
        execution_arn: a.execution_arn,
        skipped: a.skipped,
    }
}

async fn load(engine: &Engine, arn: &str) -> Result<(ScheduleRecord, u64), Error> {
    let (group, name) = arn
        .split_once(":schedule/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .ok_or_else(|| Error::validation(format!("{arn} is not a schedule ARN")))?;
    engine.schedule(group, name).await?.ok_or_else(|| not_found(&format!("Schedule {name}")))
}

fn policy(p: Option<&str>) -> Result<Option<OverlapPolicy>, Error> {
    p.map(OverlapPolicy::parse).transpose().map_err(Error::validation)
}

pub(super) async fn call(engine: &Engine, operation: &str, request: Value) -> Result<Value, Error> {
    let r: Request = parse(request)?;
    bounded("note", r.note.as_deref(), NOTE_CHARS_MAX)?;
    match operation {
        "DescribeScheduleState" => describe(engine, &r).await,
        "TriggerSchedule" => trigger(engine, &r).await,
        "BackfillSchedule" => backfill(engine, &r).await,
        _ => {
            // The option changes: read, change, save; again if a fire landed meanwhile.
            for _ in 0..SAVE_ATTEMPTS_MAX {
                let (old, version) = load(engine, &r.schedule_arn).await?;
                let mut new = old.clone();
                change(&mut new, operation, &r)?;
                match engine.save_schedule(&old, version, &new).await {
                    Err(Error::ConditionFailed(_)) => continue,
                    other => return other.map(|()| json!({})),
                }
            }
            Err(Error::api(AwsError::ConflictException, "The schedule changed too often to update; retry"))
        }
    }
}

fn change(r: &mut ScheduleRecord, operation: &str, req: &Request) -> Result<(), Error> {
    match operation {
        "PauseSchedule" => r.paused = Some(req.note.clone().unwrap_or_else(|| "paused".into())),
        "UnpauseSchedule" => r.paused = None,
        "UpdateScheduleOptions" => {
            if let Some(p) = policy(req.overlap_policy.as_deref())? {
                r.overlap = p;
            }
            if let Some(s) = req.catchup_window_seconds {
                let ms = i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
                if ms < CATCHUP_WINDOW_MS_MIN {
                    return Err(Error::validation(format!(
                        "catchupWindowSeconds is at least {}",
                        CATCHUP_WINDOW_MS_MIN / 1000
                    )));
                }
                r.catchup_window_ms = ms;
            }
            if req.clear_remaining_actions {
                r.remaining_actions = None;
            } else if let Some(n) = req.remaining_actions {
                r.remaining_actions = Some(n);
            }
        }
        other => unreachable!("{other} is routed in call"),
    }
    Ok(())
}

async fn describe(engine: &Engine, req: &Request) -> Result<Value, Error> {
    let (r, _) = load(engine, &req.schedule_arn).await?;
    let n = req.upcoming.map_or(UPCOMING_DEFAULT, |n| (n as usize).min(UPCOMING_MAX));
    let upcoming: Vec<Ts> = match (r.state, r.next_ms) {
        (ScheduleState::Enabled, Some(next)) => {
            std::iter::once(next).chain(r.upcoming(next, n.saturating_sub(1))).take(n).map(Ts).collect()
        }
        _ => Vec::new(),
    };
    let mut out = json!({
        "scheduleArn": r.arn,
        "state": r.state,
        "overlapPolicy": r.overlap,
        "catchupWindowSeconds": r.catchup_window_ms / 1000,
        "paused": r.paused.is_some(),
        "recentActions": r.recent.iter().cloned().map(action_out).collect::<Vec<_>>(),
        "bufferedFires": r.buffered.iter().copied().map(Ts).collect::<Vec<_>>(),
        "upcomingFireDates": upcoming,
    });
    if let Some(note) = &r.paused {
        out["note"] = json!(note);
    }
    if let Some(n) = r.remaining_actions {
        out["remainingActions"] = json!(n);
    }
    Ok(out)
}

/// Starts an action now, under the schedule's overlap policy or the one given.
async fn trigger(engine: &Engine, req: &Request) -> Result<Value, Error> {
    let given = policy(req.overlap_policy.as_deref())?;
    for _ in 0..SAVE_ATTEMPTS_MAX {
        let (old, version) = load(engine, &req.schedule_arn).await?;
        let mut r = old.clone();
        let now = engine.now_ms();
        let busy = engine.schedule_busy(&r).await?;
        let action = r.overlap_action(given.unwrap_or(r.overlap), busy);
        let (done, _) = engine.act(&mut r, now, now, action).await?;
        match engine.save_schedule(&old, version, &r).await {
            Err(Error::ConditionFailed(_)) => continue,
            other => return other.map(|()| serde_json::to_value(action_out(done)).expect("an action serializes")),
        }
    }
    Err(Error::api(AwsError::ConflictException, "The schedule changed too often to trigger; retry"))
}

/// Acts on every scheduled time in [startDate, endDate), oldest first,
/// under the overlap policy given (ALLOW_ALL when none is): each time
/// starts its own named execution, so a backfill repeated is harmless.
async fn backfill(engine: &Engine, req: &Request) -> Result<Value, Error> {
    let (Some(start), Some(end)) = (req.start_date, req.end_date) else {
        return Err(Error::validation("BackfillSchedule needs a startDate and an endDate"));
    };
    let (start_ms, end_ms) = ((start * 1000.0).round() as i64, (end * 1000.0).round() as i64);
    if end_ms <= start_ms {
        return Err(Error::validation("The endDate must be after the startDate"));
    }
    let policy = policy(req.overlap_policy.as_deref())?.unwrap_or(OverlapPolicy::AllowAll);
    let (old, _) = load(engine, &req.schedule_arn).await?;
    let times: Vec<i64> =
        old.upcoming(start_ms - 1, BACKFILL_FIRES_MAX + 1).into_iter().filter(|t| *t < end_ms).collect();
    if times.len() > BACKFILL_FIRES_MAX {
        return Err(Error::validation(format!(
            "A backfill acts on at most {BACKFILL_FIRES_MAX} scheduled times; split the range"
        )));
    }
    let mut actions = Vec::with_capacity(times.len());
    for t in times {
        let mut saved = false;
        for _ in 0..SAVE_ATTEMPTS_MAX {
            let (old, version) = load(engine, &req.schedule_arn).await?;
            let mut r = old.clone();
            let busy = engine.schedule_busy(&r).await?;
            let action = r.overlap_action(policy, busy);
            let (done, _) = engine.act(&mut r, t, engine.now_ms(), action).await?;
            if !matches!(engine.save_schedule(&old, version, &r).await, Err(Error::ConditionFailed(_))) {
                actions.push(action_out(done));
                saved = true;
                break;
            }
        }
        if !saved {
            return Err(Error::api(AwsError::ConflictException, "The schedule changed too often to backfill; retry"));
        }
    }
    Ok(json!({"actions": actions}))
}
