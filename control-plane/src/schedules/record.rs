//! A schedule's stored record, and the pure rules of its fires.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Expression, RECENT_ACTIONS_MAX, flexible_offset_ms, timezone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduleState {
    Enabled,
    Disabled,
}

/// What a fire does while the schedule's last execution still runs
/// (Temporal's overlap policies; EventBridge always starts another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OverlapPolicy {
    #[default]
    Skip,
    BufferOne,
    BufferAll,
    CancelOther,
    TerminateOther,
    AllowAll,
}

impl OverlapPolicy {
    pub const NAMES: [&'static str; 6] =
        ["SKIP", "BUFFER_ONE", "BUFFER_ALL", "CANCEL_OTHER", "TERMINATE_OTHER", "ALLOW_ALL"];

    pub fn parse(s: &str) -> Result<OverlapPolicy, String> {
        serde_json::from_value(Value::String(s.into()))
            .map_err(|_| format!("Invalid overlap policy '{s}': one of {}", Self::NAMES.join(", ")))
    }
}

/// EventBridge's `Target`, kept as given (members Stepwise does not act on
/// are returned by GetSchedule as they were set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub arn: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs_parameters: Option<Value>,
    /// The members for other kinds of target (ECS, Kinesis, …), kept as given.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlexibleTimeWindow {
    pub mode: FlexibleMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_window_in_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlexibleMode {
    Off,
    Flexible,
}

/// One fire's outcome, for the recent actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentAction {
    pub scheduled_ms: i64,
    pub actual_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// Why no execution started (overlap, outside the catch-up window, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// A Lambda or SQS target the fire delivered to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRecord {
    pub arn: String,
    pub name: String,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<i64>,
    pub state: ScheduleState,
    pub flexible_time_window: FlexibleTimeWindow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_after_completion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    pub target: Target,
    pub creation_ms: i64,
    pub modified_ms: i64,
    /// The idempotency key of the request that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// A rate's first fire: the start date, or the time it was created or
    /// its expression last changed.
    pub anchor_ms: i64,
    /// Bumped by every change: a fire message of an older generation is stale.
    pub generation: u64,
    /// The scheduled time of the next fire; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_ms: Option<i64>,
    #[serde(default)]
    pub overlap: OverlapPolicy,
    #[serde(default = "catchup_default")]
    pub catchup_window_ms: i64,
    #[serde(default)]
    pub recent: Vec<RecentAction>,
    /// Paused, with the note the pause gave: fires are skipped meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<String>,
    /// Executions the schedule may still start; `None` is no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_actions: Option<u64>,
    /// Scheduled times held back by BUFFER_ONE or BUFFER_ALL (or by
    /// CANCEL_OTHER while the other execution closes), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buffered: Vec<i64>,
}

fn catchup_default() -> i64 {
    super::CATCHUP_WINDOW_MS_DEFAULT
}

/// A fire to come: when it was scheduled for, and when it is delivered
/// (later by the flexible window's offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    pub scheduled_ms: i64,
    pub due_ms: i64,
}

/// What one due fire does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireAction {
    Start,
    Skip(String),
    /// Hold the fire until the running execution closes.
    Buffer,
    /// Stop the running execution (TERMINATE_OTHER), then start.
    StopOtherAndStart,
    /// Ask the running execution to cancel, and hold the fire until it closes.
    CancelOtherAndBuffer,
}

impl ScheduleRecord {
    pub fn parsed(&self) -> (Expression, chrono_tz::Tz) {
        let e = Expression::parse(&self.expression).expect("a stored expression was checked when it was set");
        let tz = timezone(self.timezone.as_deref()).expect("a stored time zone was checked when it was set");
        (e, tz)
    }

    /// The first scheduled time strictly after `after_ms` within the start
    /// and end dates, if any.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let (e, tz) = self.parsed();
        let after = match self.start_ms {
            Some(s) if s > after_ms => s - 1,
            _ => after_ms,
        };
        e.next_after(tz, after, self.anchor_ms).filter(|t| self.end_ms.is_none_or(|end| *t <= end))
    }

    /// The fire of a scheduled time: delivered after the flexible window's offset.
    pub fn fire(&self, scheduled_ms: i64) -> Fire {
        let offset = match self.flexible_time_window {
            FlexibleTimeWindow { mode: FlexibleMode::Flexible, maximum_window_in_minutes: Some(m) } => {
                flexible_offset_ms(&self.arn, scheduled_ms, m)
            }
            _ => 0,
        };
        Fire { scheduled_ms, due_ms: scheduled_ms + offset }
    }

    /// The next `n` scheduled times after `after_ms`.
    pub fn upcoming(&self, after_ms: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let mut t = after_ms;
        while out.len() < n {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// What the fire scheduled for `scheduled_ms` does at `now_ms`, given
    /// whether the schedule's last execution still runs.
    pub fn action(&self, scheduled_ms: i64, now_ms: i64, last_running: bool) -> FireAction {
        if self.state == ScheduleState::Disabled {
            return FireAction::Skip("the schedule is disabled".into());
        }
        if let Some(note) = &self.paused {
            return FireAction::Skip(format!("paused: {note}"));
        }
        if now_ms - scheduled_ms > self.catchup_window_ms {
            return FireAction::Skip("missed: later than the catch-up window".into());
        }
        self.overlap_action(self.overlap, last_running)
    }

    /// What a start does under `policy` (a trigger or a backfill may give
    /// its own), given whether the last execution still runs.
    pub fn overlap_action(&self, policy: OverlapPolicy, last_running: bool) -> FireAction {
        if self.remaining_actions == Some(0) {
            return FireAction::Skip("no remaining actions".into());
        }
        // Buffered fires go first, whatever the policy.
        let busy = last_running || !self.buffered.is_empty();
        match policy {
            _ if !busy => FireAction::Start,
            OverlapPolicy::Skip if last_running => {
                FireAction::Skip("overlap: the last execution is still running".into())
            }
            OverlapPolicy::BufferOne if !self.buffered.is_empty() => {
                FireAction::Skip("overlap: one fire is buffered already".into())
            }
            OverlapPolicy::BufferAll if self.buffered.len() >= super::BUFFERED_FIRES_MAX => {
                FireAction::Skip(format!("overlap: {} fires are buffered already", super::BUFFERED_FIRES_MAX))
            }
            OverlapPolicy::BufferOne | OverlapPolicy::BufferAll => FireAction::Buffer,
            OverlapPolicy::CancelOther if last_running => FireAction::CancelOtherAndBuffer,
            OverlapPolicy::TerminateOther if last_running => FireAction::StopOtherAndStart,
            // Nothing runs, but fires wait in the buffer: this one joins them.
            OverlapPolicy::Skip | OverlapPolicy::CancelOther | OverlapPolicy::TerminateOther => FireAction::Buffer,
            OverlapPolicy::AllowAll => FireAction::Start,
        }
    }

    /// Records a fire's outcome, keeping the newest [`RECENT_ACTIONS_MAX`].
    pub fn remember(&mut self, action: RecentAction) {
        self.recent.push(action);
        let extra = self.recent.len().saturating_sub(RECENT_ACTIONS_MAX);
        self.recent.drain(..extra);
    }

    /// The execution the schedule last started, if any.
    pub fn last_execution(&self) -> Option<&str> {
        self.recent.iter().rev().find_map(|a| a.execution_arn.as_deref())
    }
}

/// A scheduler-queue message: a schedule's fire, due at `due_ms`. Stale
/// (and dropped) unless the schedule is still at that generation and fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FireMessage {
    pub schedule_arn: String,
    pub group: String,
    pub name: String,
    pub generation: u64,
    pub scheduled_ms: i64,
    pub due_ms: i64,
    /// A check of the buffered fires (not a fire): starts the oldest once the
    /// running execution has closed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drain: bool,
    /// A retry of a fire its target refused (not a fire): the attempt it is, from 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// EventBridge's defaults and bounds for a target's `RetryPolicy`.
pub const RETRY_ATTEMPTS_DEFAULT: u32 = 185;
pub const RETRY_ATTEMPTS_MAX: u32 = 185;
pub const EVENT_AGE_S_DEFAULT: u32 = 86_400;
pub const EVENT_AGE_S_MIN: u32 = 60;
pub const EVENT_AGE_S_MAX: u32 = 86_400;
/// A retry's first delay, doubling per attempt up to the longest.
const RETRY_DELAY_MS_FIRST: i64 = 1_000;
const RETRY_DELAY_MS_MAX: i64 = 300_000;

/// What happens to a fire its target refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterRefusal {
    /// Try again at `due_ms`, as attempt `attempt`.
    Retry { attempt: u32, due_ms: i64 },
    /// Give up: the dead-letter queue gets it, if there is one, with why.
    DeadLetter { condition: &'static str },
}

impl ScheduleRecord {
    /// The target's retry policy: (maximum retries, maximum event age in ms).
    pub fn retry_policy(&self) -> (u32, i64) {
        let p = self.target.retry_policy.as_ref();
        let get =
            |k: &str, default: u32| p.and_then(|p| p.get(k)).and_then(Value::as_u64).map_or(default, |v| v as u32);
        let attempts = get("MaximumRetryAttempts", RETRY_ATTEMPTS_DEFAULT);
        let age_s = get("MaximumEventAgeInSeconds", EVENT_AGE_S_DEFAULT);
        (attempts, i64::from(age_s) * 1000)
    }

    /// After the `attempts_done`-th try of the fire scheduled for
    /// `scheduled_ms` was refused at `now_ms`: retry (backing off,
    /// doubling from 1 s to 5 minutes) while the policy allows, else give up.
    pub fn after_refusal(&self, scheduled_ms: i64, attempts_done: u32, now_ms: i64) -> AfterRefusal {
        let (attempts_max, age_ms_max) = self.retry_policy();
        if attempts_done >= attempts_max {
            return AfterRefusal::DeadLetter { condition: "MaximumRetryAttemptsExhausted" };
        }
        let delay = (RETRY_DELAY_MS_FIRST << attempts_done.min(16)).min(RETRY_DELAY_MS_MAX);
        if now_ms + delay - scheduled_ms > age_ms_max {
            return AfterRefusal::DeadLetter { condition: "MaximumEventAgeExhausted" };
        }
        AfterRefusal::Retry { attempt: attempts_done + 1, due_ms: now_ms + delay }
    }

    /// The message of a retry.
    pub fn retry_message(&self, scheduled_ms: i64, attempt: u32, due_ms: i64) -> FireMessage {
        FireMessage {
            schedule_arn: self.arn.clone(),
            group: self.group.clone(),
            name: self.name.clone(),
            generation: self.generation,
            scheduled_ms,
            due_ms,
            drain: false,
            attempt,
        }
    }

    /// The dead-letter queue's ARN, if the target has one.
    pub fn dead_letter_queue(&self) -> Option<&str> {
        self.target.dead_letter_config.as_ref()?.get("Arn")?.as_str()
    }
}

impl ScheduleRecord {
    /// A drain check of the buffered fires, due at `due_ms`.
    pub fn drain_message(&self, due_ms: i64) -> FireMessage {
        FireMessage {
            schedule_arn: self.arn.clone(),
            group: self.group.clone(),
            name: self.name.clone(),
            generation: self.generation,
            scheduled_ms: due_ms,
            due_ms,
            drain: true,
            attempt: 0,
        }
    }

    /// The message of the record's next fire, if it has one.
    pub fn next_message(&self) -> Option<FireMessage> {
        let fire = self.fire(self.next_ms?);
        Some(FireMessage {
            schedule_arn: self.arn.clone(),
            group: self.group.clone(),
            name: self.name.clone(),
            generation: self.generation,
            scheduled_ms: fire.scheduled_ms,
            due_ms: fire.due_ms,
            drain: false,
            attempt: 0,
        })
    }
}

/// A schedule group's record; `schedules` counts its schedules, so the
/// per-group bound holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub arn: String,
    pub name: String,
    pub creation_ms: i64,
    pub modified_ms: i64,
    pub schedules: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}
