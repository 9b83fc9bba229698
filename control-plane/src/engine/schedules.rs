//! Schedules' storage and fires. The record, its index entry, its group's
//! count, its timer index entry and its next fire message are written in one
//! transaction (the message through the outbox), so a crash between them
//! loses no fire. A fire starts an execution named after the schedule and
//! the scheduled time: a duplicate delivery, or a crash before the fire's
//! commit, starts the same execution again, which StartExecution's
//! idempotency answers with the first one.

use crate::model::{ExecutionStatus, keys, queues};
use crate::schedules::{
    AfterRefusal, DEFAULT_GROUP, FireAction, FireMessage, GroupRecord, RecentAction, SCHEDULES_PER_GROUP_MAX,
    ScheduleRecord, execution_name, group_arn,
};
use crate::store::{Condition, OutMessage, Write};
use crate::{AwsError, Error};

use super::{COMMIT_ATTEMPTS_MAX, Engine, decode, encode};

/// A schedule's summary in the ListSchedules index.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSummary {
    pub arn: String,
    pub name: String,
    pub group: String,
    pub state: crate::schedules::ScheduleState,
    pub target_arn: String,
    pub creation_ms: i64,
    pub modified_ms: i64,
}

fn summary(r: &ScheduleRecord) -> ScheduleSummary {
    ScheduleSummary {
        arn: r.arn.clone(),
        name: r.name.clone(),
        group: r.group.clone(),
        state: r.state,
        target_arn: r.target.arn.clone(),
        creation_ms: r.creation_ms,
        modified_ms: r.modified_ms,
    }
}

fn message(m: &FireMessage, now_ms: i64) -> OutMessage {
    let body = serde_json::to_string(m).expect("a fire message serializes");
    let delay_ms = (m.due_ms - now_ms).max(0) as u64;
    OutMessage { queue: queues::SCHEDULER.into(), body, delay_ms: delay_ms.min(crate::store::MESSAGE_DELAY_MS_MAX) }
}

/// The writes and message that arm a record's next fire (none without one).
fn arm(r: &ScheduleRecord, now_ms: i64) -> (Vec<Write>, Vec<OutMessage>) {
    match r.next_message() {
        Some(m) => (
            vec![Write::put(keys::timer(m.due_ms, &r.arn, r.generation), Vec::new(), Condition::None)],
            vec![message(&m, now_ms)],
        ),
        None => (Vec::new(), Vec::new()),
    }
}

/// The write that disarms a record's pending fire, if it has one.
fn disarm(r: &ScheduleRecord) -> Option<Write> {
    r.next_message().map(|m| Write::delete(keys::timer(m.due_ms, &r.arn, r.generation)))
}

/// A target's refusal of a fire: its error code and message.
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// Adds to the last recent action's note (what followed a refusal).
fn note(r: &mut ScheduleRecord, more: String) {
    if let Some(last) = r.recent.last_mut() {
        let skipped = last.skipped.get_or_insert_with(String::new);
        skipped.push_str(&more);
    }
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// How often buffered fires look whether the running execution has closed.
const DRAIN_POLL_MS: i64 = 1_000;

pub fn not_found(what: &str) -> Error {
    Error::api(AwsError::SchedulerResourceNotFound, format!("{what} does not exist."))
}

impl Engine {
    pub async fn schedule(&self, group: &str, name: &str) -> Result<Option<(ScheduleRecord, u64)>, Error> {
        let (pk, sk) = keys::schedule(group, name);
        match self.store.get(&pk, &sk).await? {
            Some(i) => Ok(Some((decode(&i.body)?, i.version))),
            None => Ok(None),
        }
    }

    /// A group's record; the default group exists before its record is first written.
    pub async fn schedule_group(&self, name: &str) -> Result<Option<(GroupRecord, Option<u64>)>, Error> {
        let (pk, sk) = keys::schedule_group(name);
        match self.store.get(&pk, &sk).await? {
            Some(i) => Ok(Some((decode(&i.body)?, Some(i.version)))),
            None if name == DEFAULT_GROUP => {
                // Written with its first schedule; until then, as if made now.
                let (arn, now) = (group_arn(&self.scope.region, &self.scope.account, name), self.now_ms());
                let g = GroupRecord {
                    arn,
                    name: name.into(),
                    creation_ms: now,
                    modified_ms: now,
                    schedules: 0,
                    client_token: None,
                };
                Ok(Some((g, None)))
            }
            None => Ok(None),
        }
    }

    /// Writes a group's record, created or changed (`version` is what was read).
    pub async fn put_schedule_group(&self, g: &GroupRecord, version: Option<u64>) -> Result<(), Error> {
        let cond = version.map_or(Condition::NotExists, Condition::Version);
        self.store.transact(vec![Write::put(keys::schedule_group(&g.name), encode(g), cond)], Vec::new()).await
    }

    pub async fn delete_schedule_group(&self, name: &str, version: u64) -> Result<(), Error> {
        let w =
            Write::Delete { pk: keys::SCHEDULE_GROUPS.into(), sk: name.into(), condition: Condition::Version(version) };
        self.store
            .transact(
                vec![w, Write::delete(keys::tags(&group_arn(&self.scope.region, &self.scope.account, name)))],
                Vec::new(),
            )
            .await
    }

    /// Creates a schedule, counted in its group, with its first fire armed.
    pub async fn create_schedule(&self, r: &ScheduleRecord) -> Result<(), Error> {
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            let (mut g, gv) = self
                .schedule_group(&r.group)
                .await?
                .ok_or_else(|| not_found(&format!("Schedule group {}", r.group)))?;
            if g.schedules >= SCHEDULES_PER_GROUP_MAX {
                return Err(Error::api(
                    AwsError::ServiceQuotaExceededException,
                    format!("Schedule group {} has {SCHEDULES_PER_GROUP_MAX} schedules, Stepwise's limit", g.name),
                ));
            }
            g.schedules += 1;
            let now = self.now_ms();
            let (mut writes, out) = arm(r, now);
            writes.push(Write::put(keys::schedule(&r.group, &r.name), encode(r), Condition::NotExists));
            writes.push(Write::put(keys::schedules_index(&r.group, &r.name), encode(&summary(r)), Condition::None));
            writes.push(Write::put(
                keys::schedule_group(&g.name),
                encode(&g),
                gv.map_or(Condition::NotExists, Condition::Version),
            ));
            match self.store.transact(writes, out).await {
                Err(Error::ConditionFailed(_)) if self.schedule(&r.group, &r.name).await?.is_some() => {
                    return Err(Error::api(
                        AwsError::SchedulerConflict,
                        format!("Schedule {} already exists.", r.name),
                    ));
                }
                Err(Error::ConditionFailed(_)) => continue, // the group's count moved: again
                other => return other,
            }
        }
        Err(Error::api(AwsError::SchedulerConflict, "The schedule group changed too often; retry"))
    }

    /// Replaces a schedule's record read at `version`: its pending fire is
    /// disarmed and the new record's armed (a new generation).
    pub async fn replace_schedule(
        &self,
        old: &ScheduleRecord,
        version: u64,
        new: &ScheduleRecord,
    ) -> Result<(), Error> {
        let now = self.now_ms();
        let (mut writes, mut out) = arm(new, now);
        // The old generation's drain checks stop: the new one's start.
        if !new.buffered.is_empty() {
            out.push(message(&new.drain_message(now), now));
        }
        writes.extend(disarm(old).filter(|d| !writes.contains(d)));
        writes.push(Write::put(keys::schedule(&new.group, &new.name), encode(new), Condition::Version(version)));
        writes.push(Write::put(keys::schedules_index(&new.group, &new.name), encode(&summary(new)), Condition::None));
        self.store.transact(writes, out).await.map_err(|e| match e {
            Error::ConditionFailed(_) => {
                Error::api(AwsError::SchedulerConflict, format!("Schedule {} changed meanwhile; retry", new.name))
            }
            other => other,
        })
    }

    /// Deletes a schedule read at `version`, and uncounts it from its group.
    pub async fn delete_schedule(&self, r: &ScheduleRecord, version: u64) -> Result<(), Error> {
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            let mut writes: Vec<Write> = disarm(r).into_iter().collect();
            writes.push(Write::Delete {
                pk: keys::schedule(&r.group, &r.name).0,
                sk: keys::schedule(&r.group, &r.name).1,
                condition: Condition::Version(version),
            });
            writes.push(Write::delete(keys::schedules_index(&r.group, &r.name)));
            if let Some((mut g, Some(gv))) = self.schedule_group(&r.group).await? {
                g.schedules = g.schedules.saturating_sub(1);
                writes.push(Write::put(keys::schedule_group(&g.name), encode(&g), Condition::Version(gv)));
            }
            match self.store.transact(writes, Vec::new()).await {
                Err(Error::ConditionFailed(_)) => match self.schedule(&r.group, &r.name).await? {
                    Some((_, v)) if v == version => continue, // the group's count moved: again
                    Some(_) => {
                        return Err(Error::api(AwsError::SchedulerConflict, "The schedule changed meanwhile; retry"));
                    }
                    None => return Ok(()),
                },
                other => return other,
            }
        }
        Err(Error::api(AwsError::SchedulerConflict, "The schedule group changed too often; retry"))
    }

    /// Saves a record read at `version` whose fire is unchanged (its
    /// policies, pause, recent actions or buffer); a buffer that was empty
    /// and is not gets its drain checks.
    pub async fn save_schedule(&self, old: &ScheduleRecord, version: u64, new: &ScheduleRecord) -> Result<(), Error> {
        let now = self.now_ms();
        let out = if old.buffered.is_empty() && !new.buffered.is_empty() {
            vec![message(&new.drain_message(now), now)]
        } else {
            Vec::new()
        };
        let w = Write::put(keys::schedule(&new.group, &new.name), encode(new), Condition::Version(version));
        self.store.transact(vec![w], out).await
    }

    /// Whether the execution the schedule last started still runs (public for triggers and backfills).
    pub async fn schedule_busy(&self, r: &ScheduleRecord) -> Result<bool, Error> {
        self.last_running(r).await
    }

    /// Whether a timer index entry (`arn`, `generation`, `due_ms`) is a
    /// schedule's pending fire: the sweeper re-sends it when overdue.
    pub async fn schedule_fire_is_live(
        &self,
        arn: &str,
        generation: u64,
        due_ms: i64,
    ) -> Result<Option<FireMessage>, Error> {
        let Some((group, name)) = arn.split_once(":schedule/").and_then(|(_, rest)| rest.split_once('/')) else {
            return Ok(None);
        };
        let live = self
            .schedule(group, name)
            .await?
            .and_then(|(r, _)| r.next_message())
            .filter(|m| m.generation == generation && m.due_ms == due_ms);
        Ok(live)
    }

    /// Re-sends a fire whose message was lost (the sweeper's safety net).
    pub async fn resend_fire(&self, m: &FireMessage) -> Result<(), Error> {
        self.queue.send(vec![message(m, self.now_ms())]).await
    }

    /// One delivered fire: stale ones are dropped, early ones hop, a due one
    /// acts under the overlap policy and arms the next.
    pub async fn on_fire(&self, m: FireMessage) -> Result<(), Error> {
        let Some((mut r, version)) = self.schedule(&m.group, &m.name).await? else { return Ok(()) };
        if m.drain {
            return self.drain(r, version, &m).await;
        }
        if m.attempt > 0 {
            return self.retry(r, version, &m).await;
        }
        if r.generation != m.generation || r.next_ms != Some(m.scheduled_ms) {
            return Ok(()); // changed, deleted and re-created, or this fire is done
        }
        let now = self.now_ms();
        if m.due_ms > now {
            // A fire further off than one queue delay: another hop.
            return self.queue.send(vec![message(&m, now)]).await;
        }
        let was_buffering = !r.buffered.is_empty();
        let running = self.last_running(&r).await?;
        let action = r.action(m.scheduled_ms, now, running);
        let (_, refusal) = self.act(&mut r, m.scheduled_ms, now, action).await?;
        let retry = match refusal {
            Some(refusal) => self.after_refusal(&mut r, m.scheduled_ms, 0, refusal, now).await?,
            None => None,
        };
        let disarmed = disarm(&r);
        // Fires missed by more than the catch-up window are passed over at once.
        r.next_ms = r.next_after(m.scheduled_ms.max(now - r.catchup_window_ms));
        if r.next_ms.is_none() && r.buffered.is_empty() && r.action_after_completion.as_deref() == Some("DELETE") {
            return match self.delete_schedule(&r, version).await {
                Err(Error::Api { .. }) => Ok(()), // changed meanwhile: the change wins
                other => other,
            };
        }
        let (mut writes, mut out) = arm(&r, now);
        writes.extend(disarmed);
        out.extend(retry);
        if !was_buffering && !r.buffered.is_empty() {
            out.push(message(&r.drain_message(now + DRAIN_POLL_MS), now));
        }
        writes.push(Write::put(keys::schedule(&r.group, &r.name), encode(&r), Condition::Version(version)));
        match self.store.transact(writes, out).await {
            // Changed meanwhile (an update, or this fire handled twice at once): the other write wins.
            Err(Error::ConditionFailed(_)) => Ok(()),
            other => other,
        }
    }

    /// Whether the execution the schedule last started still runs.
    async fn last_running(&self, r: &ScheduleRecord) -> Result<bool, Error> {
        Ok(match r.last_execution() {
            Some(arn) => self.execution(arn).await?.is_some_and(|(e, _)| e.status == ExecutionStatus::Running),
            None => false,
        })
    }

    /// Performs one fire's action (a scheduled fire, a trigger or a
    /// backfilled time) on the record, and remembers what it did.
    pub async fn act(
        &self,
        r: &mut ScheduleRecord,
        scheduled_ms: i64,
        now: i64,
        action: FireAction,
    ) -> Result<(RecentAction, Option<Refusal>), Error> {
        let mut done =
            RecentAction { scheduled_ms, actual_ms: now, execution_arn: None, skipped: None, delivered: None };
        let mut refusal = None;
        match action {
            FireAction::Skip(why) => done.skipped = Some(why),
            FireAction::Buffer => {
                r.buffered.push(scheduled_ms);
                done.skipped = Some("buffered behind the running execution".into());
            }
            FireAction::CancelOtherAndBuffer => {
                if let Some(other) = r.last_execution().map(str::to_string) {
                    self.cancel_other(&other).await?;
                }
                r.buffered.push(scheduled_ms);
                done.skipped = Some("buffered while the running execution is cancelled".into());
            }
            FireAction::StopOtherAndStart => {
                if let Some(other) = r.last_execution().map(str::to_string) {
                    self.stop_other(&other).await?;
                }
                refusal = self.start_into(r, scheduled_ms, &mut done).await?;
            }
            FireAction::Start => refusal = self.start_into(r, scheduled_ms, &mut done).await?,
        }
        tracing::info!(schedule = %r.arn, scheduled_ms, execution = ?done.execution_arn, skipped = ?done.skipped, "schedule fired");
        r.remember(done.clone());
        Ok((done, refusal))
    }

    /// Starts (or delivers to) the target; a refusal is given back, for a retry.
    async fn start_into(
        &self,
        r: &mut ScheduleRecord,
        scheduled_ms: i64,
        done: &mut RecentAction,
    ) -> Result<Option<Refusal>, Error> {
        match self.start_target(r, scheduled_ms).await {
            Ok(arn) => {
                done.delivered = arn.is_none().then(|| r.target.arn.clone());
                done.execution_arn = arn;
                r.remaining_actions = r.remaining_actions.map(|n| n.saturating_sub(1));
                Ok(None)
            }
            Err(Error::Api { kind, message }) => {
                done.skipped = Some(format!("the target refused: {}: {message}", kind.name()));
                Ok(Some(Refusal { code: kind.name().to_string(), message }))
            }
            Err(e) => Err(e),
        }
    }

    /// What follows a refused try of a fire: its retry's message (after the
    /// backoff), or, once the retry policy gives up, the dead-letter queue's
    /// event (the target's input, with EventBridge's attributes saying why).
    async fn after_refusal(
        &self,
        r: &mut ScheduleRecord,
        scheduled_ms: i64,
        attempts_done: u32,
        refusal: Refusal,
        now: i64,
    ) -> Result<Option<OutMessage>, Error> {
        let condition = match r.after_refusal(scheduled_ms, attempts_done, now) {
            AfterRefusal::Retry { attempt, due_ms } => {
                note(r, format!("; retry {attempt} at {}", iso(due_ms)));
                return Ok(Some(message(&r.retry_message(scheduled_ms, attempt, due_ms), now)));
            }
            AfterRefusal::DeadLetter { condition } => condition,
        };
        let Some(dlq) = r.dead_letter_queue().map(str::to_string) else {
            note(r, format!("; given up ({condition})"));
            return Ok(None);
        };
        let Some(crate::schedules::ServiceTarget::Sqs { queue_url }) = crate::schedules::service_target(&dlq) else {
            return Err(Error::Corrupt(format!("a dead-letter queue that is not an SQS ARN: {dlq}")));
        };
        let name = execution_name(&r.group, &r.name, scheduled_ms);
        let input =
            crate::schedules::with_context(r.target.input.as_deref().unwrap_or("{}"), &r.arn, scheduled_ms, &name);
        let attr = |v: &str| serde_json::json!({"DataType": "String", "StringValue": v});
        let params = serde_json::json!({"QueueUrl": queue_url, "MessageBody": input, "MessageAttributes": {
            "ERROR_CODE": attr(&refusal.code), "ERROR_MESSAGE": attr(&refusal.message),
            "EXHAUSTED_RETRY_CONDITION": attr(condition),
            "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": attempts_done.to_string()},
            "SCHEDULE_ARN": attr(&r.arn), "TARGET_ARN": attr(&r.target.arn), "INVOCATION_ID": attr(&name),
        }});
        match self.call_service("arn:aws:states:::sqs:sendMessage", &params, None).await {
            Some(Ok(_)) => note(r, format!("; given up ({condition}), sent to {dlq}")),
            Some(Err((error, cause))) => {
                note(r, format!("; given up ({condition}), and {dlq} refused it: {error}: {cause}"))
            }
            None => note(r, format!("; given up ({condition}); {dlq} is out of reach (no AWS endpoint)")),
        }
        Ok(None)
    }

    /// A retry of a refused fire: tried again, and retried or given up again.
    async fn retry(&self, mut r: ScheduleRecord, version: u64, m: &FireMessage) -> Result<(), Error> {
        if r.generation != m.generation {
            return Ok(()); // the schedule changed: its old fires are over
        }
        let now = self.now_ms();
        if m.due_ms > now {
            return self.queue.send(vec![message(m, now)]).await;
        }
        let mut done = RecentAction {
            scheduled_ms: m.scheduled_ms,
            actual_ms: now,
            execution_arn: None,
            skipped: None,
            delivered: None,
        };
        let refusal = self.start_into(&mut r, m.scheduled_ms, &mut done).await?;
        r.remember(done);
        let out = match refusal {
            Some(refusal) => self.after_refusal(&mut r, m.scheduled_ms, m.attempt, refusal, now).await?,
            None => None,
        };
        let w = Write::put(keys::schedule(&r.group, &r.name), encode(&r), Condition::Version(version));
        // Changed meanwhile: delivered again, the retry reads the change.
        self.store.transact(vec![w], out.into_iter().collect()).await
    }

    /// TERMINATE_OTHER: the running execution is stopped, as StopExecution does.
    async fn stop_other(&self, arn: &str) -> Result<(), Error> {
        let stop = state_language::interpreter::Input::Stop {
            error: Some("Stepwise.ScheduleOverlap".into()),
            cause: Some("Stopped by its schedule's TERMINATE_OTHER overlap policy".into()),
        };
        self.advance(arn, None, &[stop]).await.map(|_| ())
    }

    /// CANCEL_OTHER: a code workflow is asked to cancel (it may clean up);
    /// an ASL execution, which has no cancellation, is stopped.
    async fn cancel_other(&self, arn: &str) -> Result<(), Error> {
        let is_code = self.execution(arn).await?.is_some_and(|(e, _)| e.code().is_some());
        if is_code {
            return self.deliver(arn, crate::model::InboxEntry::CancelRequest, None).await;
        }
        self.stop_other(arn).await
    }

    /// A drain check: starts the oldest buffered fire once nothing runs, and
    /// checks again while fires stay buffered.
    async fn drain(&self, mut r: ScheduleRecord, version: u64, m: &FireMessage) -> Result<(), Error> {
        if r.generation != m.generation || r.buffered.is_empty() {
            return Ok(());
        }
        let now = self.now_ms();
        if m.due_ms > now {
            return self.queue.send(vec![message(m, now)]).await;
        }
        if self.last_running(&r).await? {
            return self.queue.send(vec![message(&r.drain_message(now + DRAIN_POLL_MS), now)]).await;
        }
        let scheduled_ms = r.buffered.remove(0);
        let mut done =
            RecentAction { scheduled_ms, actual_ms: now, execution_arn: None, skipped: None, delivered: None };
        if r.remaining_actions == Some(0) {
            done.skipped = Some("no remaining actions".into());
        } else {
            self.start_into(&mut r, scheduled_ms, &mut done).await?;
        }
        r.remember(done);
        let out =
            if r.buffered.is_empty() { Vec::new() } else { vec![message(&r.drain_message(now + DRAIN_POLL_MS), now)] };
        let w = Write::put(keys::schedule(&r.group, &r.name), encode(&r), Condition::Version(version));
        match self.store.transact(vec![w], out).await {
            Err(Error::ConditionFailed(_)) => Ok(()),
            other => other,
        }
    }

    /// Performs a fire's target: starts a state machine's (or version's or
    /// alias's) execution, or the universal `aws-sdk:sfn:startExecution`'s,
    /// giving its ARN; or invokes a Lambda function or sends to an SQS queue
    /// through the server's integrations (at least once, as EventBridge does).
    async fn start_target(&self, r: &ScheduleRecord, scheduled_ms: i64) -> Result<Option<String>, Error> {
        let name = execution_name(&r.group, &r.name, scheduled_ms);
        let input = r.target.input.as_deref().unwrap_or("{}");
        let input = crate::schedules::with_context(input, &r.arn, scheduled_ms, &name);
        if let Some(kind) = crate::schedules::service_target(&r.target.arn) {
            return self.send_to_service(r, kind, &input).await.map(|()| None);
        }
        let (machine, input) = if r.target.arn.ends_with(":aws-sdk:sfn:startExecution") {
            let p: serde_json::Value = serde_json::from_str(&input)
                .map_err(|e| Error::validation(format!("the universal target's Input is not JSON: {e}")))?;
            let machine = p["StateMachineArn"]
                .as_str()
                .ok_or_else(|| Error::validation("the universal target's Input has no StateMachineArn"))?
                .to_string();
            let input = p.get("Input").map_or_else(
                || "{}".to_string(),
                |i| match i {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            );
            (machine, input)
        } else {
            (r.target.arn.clone(), input)
        };
        let mut req = self.resolve_for_start(&machine).await?;
        req.name = name;
        serde_json::from_str::<serde_json::Value>(&input).map_err(|e| {
            Error::api(AwsError::InvalidExecutionInput, format!("Invalid State Machine Execution Input: '{e}'"))
        })?;
        req.input = input;
        let arn = self.scope.execution(&req.machine_name, &req.name, req.express);
        let input = req.input.clone();
        match self.start(req).await {
            Ok((rec, _)) => Ok(Some(rec.arn)),
            // Started by an earlier delivery of this fire (a retry after a crash,
            // a duplicate) and already closed: StartExecution's idempotency covers
            // only running executions, but the fire's execution is this one.
            Err(Error::Api { kind: AwsError::ExecutionAlreadyExists, message }) => match self.execution(&arn).await? {
                Some((e, _)) if e.input == input => Ok(Some(arn)),
                _ => Err(Error::api(AwsError::ExecutionAlreadyExists, message)),
            },
            Err(e) => Err(e),
        }
    }

    /// A Lambda or SQS target, through the integrations Task states use.
    async fn send_to_service(
        &self,
        r: &ScheduleRecord,
        kind: crate::schedules::ServiceTarget,
        input: &str,
    ) -> Result<(), Error> {
        // The payload is the Input's JSON, or its text when it is not JSON.
        let payload = serde_json::from_str(input).unwrap_or_else(|_| serde_json::Value::String(input.to_string()));
        let (resource, params) = match kind {
            crate::schedules::ServiceTarget::Lambda => (
                "arn:aws:states:::lambda:invoke",
                serde_json::json!({"FunctionName": r.target.arn, "Payload": payload}),
            ),
            crate::schedules::ServiceTarget::Sqs { queue_url } => {
                let mut p = serde_json::json!({"QueueUrl": queue_url, "MessageBody": input});
                if let Some(g) = r.target.sqs_parameters.as_ref().and_then(|s| s.get("MessageGroupId")) {
                    p["MessageGroupId"] = g.clone();
                }
                ("arn:aws:states:::sqs:sendMessage", p)
            }
        };
        match self.call_service(resource, &params, None).await {
            Some(Ok(_)) => Ok(()),
            Some(Err((error, cause))) => Err(Error::api(AwsError::ValidationException, format!("{error}: {cause}"))),
            None => Err(Error::api(
                AwsError::ValidationException,
                "this server reaches no AWS services (start it with --aws-endpoint or AWS credentials)",
            )),
        }
    }
}
