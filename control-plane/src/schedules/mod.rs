//! Schedules (the EventBridge Scheduler API, with Temporal's policies): the
//! records, their keys, and what a fire does. Pure, like `model`: the time
//! is an argument; `engine/schedules.rs` loads, commits and sends.

pub mod cron;
pub mod expression;
mod record;

pub use expression::{Expression, timezone};
pub use record::*;

use sha2::Digest;

/// The group every account has, which cannot be deleted.
pub const DEFAULT_GROUP: &str = "default";
/// EventBridge's bound on schedule and group names, in characters.
pub const NAME_CHARS_MAX: usize = 64;
/// Groups per account (EventBridge's quota).
pub const GROUPS_MAX: usize = 500;
/// Schedules per group: Stepwise's bound (EventBridge's is a million per
/// account); a group's count is kept on its record.
pub const SCHEDULES_PER_GROUP_MAX: u64 = 100_000;
/// A target's `Input`, in bytes: Step Functions' bound on an execution's input.
pub const TARGET_INPUT_BYTES_MAX: usize = 256 * 1024;
/// Recent actions a schedule keeps, newest last (Temporal shows 10).
pub const RECENT_ACTIONS_MAX: usize = 10;
/// Temporal's default catch-up window: one year.
pub const CATCHUP_WINDOW_MS_DEFAULT: i64 = 365 * 86_400_000;
/// The shortest catch-up window (Temporal's minimum is 10 s).
pub const CATCHUP_WINDOW_MS_MIN: i64 = 10_000;
/// Fires buffered behind a running execution under BufferAll, at most.
pub const BUFFERED_FIRES_MAX: usize = 1000;
/// Upcoming fire times one GetSchedule (or DescribeScheduleState) lists, at most.
pub const UPCOMING_MAX: usize = 100;

/// EventBridge's name rule for schedules and groups.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= NAME_CHARS_MAX
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok { Ok(()) } else { Err(format!("Invalid name '{name}': 1 to 64 of [0-9a-zA-Z-_.]")) }
}

pub fn schedule_arn(region: &str, account: &str, group: &str, name: &str) -> String {
    format!("arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}")
}

pub fn group_arn(region: &str, account: &str, group: &str) -> String {
    format!("arn:aws:scheduler:{region}:{account}:schedule-group/{group}")
}

/// Whether an ARN names a schedule (the sweeper's timer index holds both
/// executions' timers and schedules' next fires).
pub fn is_schedule_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws:scheduler:") && arn.contains(":schedule/")
}

/// A target that is not a Step Functions one: delivered through the
/// server's service integrations, with no execution to overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceTarget {
    Lambda,
    Sqs { queue_url: String },
}

/// What kind of service target an ARN names, if it is one.
pub fn service_target(arn: &str) -> Option<ServiceTarget> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        ["arn", _, "lambda", _, _, rest] if rest.starts_with("function:") => Some(ServiceTarget::Lambda),
        ["arn", _, "sqs", region, account, queue] if !queue.is_empty() => {
            Some(ServiceTarget::Sqs { queue_url: format!("https://sqs.{region}.amazonaws.com/{account}/{queue}") })
        }
        _ => None,
    }
}

/// The execution a fire starts is named after the schedule and the
/// scheduled time, so StartExecution's idempotency makes a second start of
/// the same fire (a duplicate delivery, a crash before the commit) the same
/// execution: `<name>-<yyyymmddThhmmssZ>`, with the group's hash when it is
/// not the default group, and a hash in place of a name too long for the
/// 80 characters of an execution name.
pub fn execution_name(group: &str, name: &str, scheduled_ms: i64) -> String {
    let when = chrono::DateTime::from_timestamp_millis(scheduled_ms)
        .expect("a fire time is within chrono's range")
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    let base = if group == DEFAULT_GROUP { name.to_string() } else { format!("{name}-{}", &hash_hex(group)[..8]) };
    // 80 characters: the base, a dash and the 16 of the time.
    let base = if base.len() > 63 { format!("{}-{}", &base[..54], &hash_hex(&base)[..8]) } else { base };
    format!("{base}-{when}")
}

fn hash_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// EventBridge Scheduler's context attributes in a target's `Input`, filled in
/// for one fire: the schedule's ARN, the scheduled time (ISO 8601, UTC), the
/// invocation's id (the execution's name) and the attempt (always 1: a retry
/// is the same execution).
pub fn with_context(input: &str, schedule_arn: &str, scheduled_ms: i64, execution_id: &str) -> String {
    if !input.contains("<aws.scheduler.") {
        return input.to_string();
    }
    let when = chrono::DateTime::from_timestamp_millis(scheduled_ms)
        .expect("a fire time is within chrono's range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    input
        .replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", &when)
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", "1")
}

/// A flexible window's offset for one fire: derived from the schedule and
/// the scheduled time, so a crash or a second delivery picks the same one.
pub fn flexible_offset_ms(arn: &str, scheduled_ms: i64, window_minutes: u32) -> i64 {
    let window_ms = i64::from(window_minutes) * 60_000;
    if window_ms == 0 {
        return 0;
    }
    let digest = sha2::Sha256::digest(format!("{arn}#{scheduled_ms}").as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes of a digest"));
    (n % window_ms as u64) as i64
}

#[cfg(test)]
mod tests;
