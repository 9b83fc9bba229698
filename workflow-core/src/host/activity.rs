//! Activities on the server: attempts handed to workers, retried with the
//! policy the code gave, timed out (start-to-close, heartbeat,
//! schedule-to-close) by timers, and recorded once, with their outcome.

use serde_json::{Value, json};
use state_language::interpreter::Command;

use super::{ACTIVITY_TASK_RESOURCE, Activity, Effects, Run, TaskKind, TimerKind};
use crate::history::{ActivityError, ActivityOptions, Event};

/// An error that fails an activity at once: its schedule-to-close ran out.
pub const SCHEDULE_TO_CLOSE_ERROR: &str = "States.Timeout";
/// The error of an attempt whose start-to-close ran out.
pub const START_TO_CLOSE_ERROR: &str = "States.Timeout";
/// The error of an attempt whose worker stopped heartbeating.
pub const HEARTBEAT_ERROR: &str = "States.HeartbeatTimeout";

/// A worker's failure report: the SDK sends `{"message", "nonRetryable"}` as
/// the cause; any other cause is the message itself.
pub fn parse_failure(error: String, cause: &str) -> ActivityError {
    match serde_json::from_str::<Value>(cause) {
        Ok(Value::Object(o)) if o.contains_key("message") => ActivityError {
            error_type: error,
            message: o.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
            non_retryable: o.get("nonRetryable").and_then(Value::as_bool).unwrap_or(false),
        },
        _ => ActivityError::new(&error, cause),
    }
}

impl Run {
    /// An activity timeout (the workers' time) in the host's time.
    fn worker_ms(&self, ms: u64) -> i64 {
        i64::try_from(ms).unwrap_or(i64::MAX).saturating_mul(self.worker_time_scale.max(1))
    }

    pub(super) fn schedule_activity(
        &mut self,
        seq: u64,
        name: String,
        input: Value,
        options: ActivityOptions,
        now: i64,
        out: &mut Effects,
    ) {
        if let Some(ms) = options.schedule_to_close_ms {
            let ms = self.worker_ms(ms);
            self.start_timer(now.saturating_add(ms), TimerKind::ScheduleToClose { seq }, out);
        }
        self.activities.insert(seq, Activity { name, input, options, attempt: 0, started: false, last_failure: None });
        self.next_attempt(seq, now, out);
    }

    /// Hands out the activity's next attempt.
    pub(super) fn next_attempt(&mut self, seq: u64, _now: i64, out: &mut Effects) {
        let Some(a) = self.activities.get_mut(&seq) else { return };
        a.attempt += 1;
        a.started = false;
        let attempt = a.attempt;
        let mut payload = json!({
            "activity": a.name,
            "input": a.input,
            "attempt": attempt,
            "seq": seq,
            "workflowType": self.workflow_type,
        });
        // When the host must look at a started attempt: its first deadline.
        if let Some(ms) = [a.options.start_to_close_ms, a.options.heartbeat_ms].into_iter().flatten().min() {
            payload["startTimeoutMs"] = json!(ms.saturating_mul(self.worker_time_scale.max(1) as u64));
        }
        let heartbeat_ms = a.options.heartbeat_ms;
        let (id, token) = self.new_task(TaskKind::Activity { seq, attempt });
        let resource = format!("{ACTIVITY_TASK_RESOURCE}{}", self.task_queue);
        out.commands.push(self.run_task(id, token, resource, payload, heartbeat_ms));
    }

    /// The attempt was handed out at `started`: its deadlines run from then
    /// (one already passed times the attempt out now).
    pub(super) fn attempt_started(&mut self, task_id: u64, seq: u64, started: i64, now: i64, out: &mut Effects) {
        let Some(a) = self.activities.get_mut(&seq) else { return };
        a.started = true;
        let options = a.options.clone();
        let deadlines = [(options.start_to_close_ms, START_TO_CLOSE_ERROR), (options.heartbeat_ms, HEARTBEAT_ERROR)];
        for (ms, error) in deadlines.into_iter().filter_map(|(ms, e)| Some((ms?, e))) {
            let at = started.saturating_add(self.worker_ms(ms));
            if at <= now {
                return self.attempt_timed_out(task_id, error.to_string(), now, out);
            }
            self.start_timer(at, TimerKind::AttemptTimeout { task_id, error: error.to_string() }, out);
        }
    }

    /// A heartbeat moves the attempt's heartbeat deadline.
    pub(super) fn heartbeat(&mut self, task_id: u64, now: i64, out: &mut Effects) {
        let Some(TaskKind::Activity { seq, .. }) = self.tasks.get(&task_id).map(|t| t.kind.clone()) else { return };
        let Some(ms) = self.activities.get(&seq).and_then(|a| a.options.heartbeat_ms) else { return };
        let is_heartbeat = |k: &TimerKind| matches!(k, TimerKind::AttemptTimeout { task_id: t, error } if *t == task_id && error == HEARTBEAT_ERROR);
        self.drop_timers(is_heartbeat);
        let error = HEARTBEAT_ERROR.to_string();
        let at = now.saturating_add(self.worker_ms(ms));
        self.start_timer(at, TimerKind::AttemptTimeout { task_id, error }, out);
    }

    pub(super) fn drop_attempt_timers(&mut self, task_id: u64) {
        self.drop_timers(|k| matches!(k, TimerKind::AttemptTimeout { task_id: t, .. } if *t == task_id));
    }

    /// An attempt's start-to-close or heartbeat deadline passed: the attempt
    /// is abandoned (its token closes, a late answer is refused) and fails.
    pub(super) fn attempt_timed_out(&mut self, task_id: u64, error: String, now: i64, out: &mut Effects) {
        let Some(TaskKind::Activity { seq, .. }) = self.tasks.remove(&task_id).map(|t| t.kind) else { return };
        self.drop_attempt_timers(task_id);
        out.commands.push(Command::CancelTask { task_id });
        let cause = json!({"message": format!("the attempt ran out of time ({error})")}).to_string();
        self.attempt_failed(seq, error, cause, now, out);
    }

    /// An attempt failed: retried after the policy's backoff, or the activity fails.
    pub(super) fn attempt_failed(&mut self, seq: u64, error: String, cause: String, now: i64, out: &mut Effects) {
        let Some(a) = self.activities.get(&seq) else { return };
        let failure = parse_failure(error, &cause);
        let policy = &a.options.retry;
        let last = policy.max_attempts != 0 && a.attempt >= policy.max_attempts;
        let fatal = failure.non_retryable || policy.non_retryable.contains(&failure.error_type);
        if last || fatal {
            let attempts = a.attempt;
            let timed_out = [START_TO_CLOSE_ERROR, HEARTBEAT_ERROR].contains(&failure.error_type.as_str());
            let e = if timed_out {
                Event::ActivityTimedOut { seq, error: failure, attempts }
            } else {
                Event::ActivityFailed { seq, error: failure, attempts }
            };
            self.activity_ended(seq, e, now, out);
            return;
        }
        let at = now.saturating_add(policy.delay_ms(a.attempt) as i64);
        if let Some(a) = self.activities.get_mut(&seq) {
            a.last_failure = Some(failure);
        }
        self.start_timer(at, TimerKind::Retry { seq }, out);
    }

    /// The activity's schedule-to-close ran out: it times out, whatever attempt runs.
    pub(super) fn schedule_to_close(&mut self, seq: u64, now: i64, out: &mut Effects) {
        let Some(attempts) = self.activities.get(&seq).map(|a| a.attempt) else { return };
        self.stop_attempts(seq, out);
        let error = ActivityError::new(SCHEDULE_TO_CLOSE_ERROR, "the activity ran out of time (schedule-to-close)");
        self.activity_ended(seq, Event::ActivityTimedOut { seq, error, attempts }, now, out);
    }

    /// The code gave up on the activity: its attempts stop, and no outcome is recorded.
    pub(super) fn cancel_activity(&mut self, seq: u64, now: i64, out: &mut Effects) {
        if !self.activities.contains_key(&seq) {
            return;
        }
        self.stop_attempts(seq, out);
        self.activities.remove(&seq);
        self.drop_timers(
            |k| matches!(k, TimerKind::ScheduleToClose { seq: s } | TimerKind::Retry { seq: s } if *s == seq),
        );
        self.arrive(Event::ActivityCancelled { seq }, now, out);
    }

    fn stop_attempts(&mut self, seq: u64, out: &mut Effects) {
        let running: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, t)| matches!(t.kind, TaskKind::Activity { seq: s, .. } if s == seq))
            .map(|(id, _)| *id)
            .collect();
        for id in running {
            self.tasks.remove(&id);
            self.drop_attempt_timers(id);
            out.commands.push(Command::CancelTask { task_id: id });
        }
    }

    /// The activity's outcome: recorded (after the start of the attempt that
    /// gave it), its timers dropped.
    pub(super) fn activity_ended(&mut self, seq: u64, e: Event, now: i64, out: &mut Effects) {
        let Some(a) = self.activities.remove(&seq) else { return };
        self.drop_timers(
            |k| matches!(k, TimerKind::ScheduleToClose { seq: s } | TimerKind::Retry { seq: s } if *s == seq),
        );
        if a.started {
            self.arrive(Event::ActivityStarted { seq, attempt: a.attempt }, now, out);
        }
        self.arrive(e, now, out);
    }
}
