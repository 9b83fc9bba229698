//! Turning one step's events and commands into one atomic commit: the new
//! execution record (version-checked), its history pages, token records,
//! timers, consumed inbox entries and the outbox of messages to send.

use crate::model::ExecutionStatus;
use std::collections::BTreeMap;

use serde_json::Value;
use state_language::interpreter::children::MAP_CHILD_RESOURCE;
use state_language::interpreter::{Command, ExpressChild, Step};

use super::new_tasks::{Eager, NewTask, place_tasks};
use super::{Engine, encode};
use crate::Error;
use crate::model::{
    ExecutionRecord, ExecutionSummary, ExpressChildEntry, InboxEntry, Key, TimerRef, TokenRecord, Wake, keys, queues,
};
use crate::store::{Condition, MESSAGE_DELAY_MS_MAX, OutMessage, StepWrites, TRANSACT_WRITES_MAX, Write, blob};
use crate::telemetry::StepCounts;

/// Items a step keeps free for the writes of a task answer it takes directly.
const DIRECT_WRITES_ROOM: usize = 4;
/// Bytes of events per history page item.
pub const HISTORY_PAGE_BYTES_MAX: usize = 300 * 1024;
/// The longest a Standard execution may run (AWS: one year), plus a day:
/// items written while an execution runs may expire only after this, so
/// retention never removes a live execution's data.
const EXECUTION_LIFETIME_S: i64 = 366 * 86_400;

/// What to write: `entries` (list entries of EXPRESS children) and `before`
/// (records that are harmless if the commit then fails: new token records
/// and timer index items), then `writes` and `outbox` atomically, then
/// `after` (idempotent cleanups whose loss is harmless), each in batches the
/// store accepts.
pub(super) struct Plan {
    pub entries: Vec<Write>,
    pub before: Vec<Write>,
    pub writes: Vec<Write>,
    pub outbox: Vec<OutMessage>,
    pub after: Vec<Write>,
    pub closed: bool,
    pub counts: StepCounts,
}

/// One step's result in a form every kind of execution gives: history
/// events already serialized in AWS's event shape, with their ids, and the
/// host commands.
#[derive(Default)]
pub struct Changes {
    pub events: Vec<(u64, Vec<u8>)>,
    pub commands: Vec<Command>,
    /// Map Runs the step started: each gets an index item naming its execution.
    pub map_runs: Vec<String>,
    /// What the step did, for metrics once it commits.
    pub counts: StepCounts,
}

impl From<Step> for Changes {
    fn from(step: Step) -> Changes {
        let counts = count(&step);
        let events = step.events.iter().map(|e| (e.id, serde_json::to_vec(e).unwrap_or_default())).collect();
        let map_runs = step
            .events
            .iter()
            .filter_map(|e| match &e.details {
                state_language::interpreter::Details::MapRunStarted { map_run_arn } => Some(map_run_arn.clone()),
                _ => None,
            })
            .collect();
        Changes { events, commands: step.commands, counts, map_runs }
    }
}

/// Transitions and task events of an ASL step, from its events.
fn count(step: &Step) -> StepCounts {
    use state_language::interpreter::{Details, EventType as T};
    let mut c = StepCounts::default();
    for e in &step.events {
        match e.event_type {
            T::PassStateEntered
            | T::TaskStateEntered
            | T::ChoiceStateEntered
            | T::WaitStateEntered
            | T::SucceedStateEntered
            | T::FailStateEntered
            | T::ParallelStateEntered
            | T::MapStateEntered => c.transitions += 1,
            T::TaskScheduled => c.tasks_scheduled += 1,
            T::TaskTimedOut => match &e.details {
                Details::TaskTimedOut { error, .. } if error.error.as_deref() == Some("States.HeartbeatTimeout") => {
                    c.tasks_heartbeat_timed_out += 1
                }
                _ => c.tasks_timed_out += 1,
            },
            _ => {}
        }
    }
    c
}

pub(super) struct Previous {
    pub condition: Condition,
    pub parts: usize,
    /// Pending task ids and tokens before the step.
    pub tasks: BTreeMap<u64, String>,
    /// `None` for an execution the step creates.
    pub status: Option<ExecutionStatus>,
}

pub fn wake(execution_arn: &str, timer: Option<TimerRef>, delay_ms: u64) -> OutMessage {
    let body = serde_json::to_string(&Wake { execution_arn: execution_arn.to_string(), timer }).unwrap_or_default();
    OutMessage { queue: queues::SCHEDULER.into(), body, delay_ms: delay_ms.min(MESSAGE_DELAY_MS_MAX) }
}

/// Where and how ListExecutions(mapRunArn) lists an EXPRESS child, which has no record.
fn express_listing(c: ExpressChild) -> (Key, ExpressChildEntry) {
    let name = c.execution_arn.rsplit(':').next().expect("an ARN has a name").to_string();
    // By index, not name: a Map Run's children are written in item order, and
    // keys in order are far cheaper to insert than random ones (BENCHMARKS.md).
    let key = keys::execution_index(&c.map_run_arn, c.listed_ms, &format!("{:010}", c.index));
    let summary = ExecutionSummary {
        machine_arn: state_language::interpreter::map_run::run_machine_arn(&c.map_run_arn),
        arn: c.execution_arn,
        name,
        version_arn: None,
        alias_arn: None,
        status: c.status.into(),
        start_ms: c.start_ms,
        stop_ms: c.stop_ms,
        redrive_count: 0,
        map_run_arn: Some(c.map_run_arn),
        item_count: Some(c.item_count),
    };
    (key, ExpressChildEntry { summary, error: c.error, cause: c.cause })
}

pub fn pending_tokens(rec: &ExecutionRecord) -> BTreeMap<u64, String> {
    rec.open_tasks()
}

/// The pure core of a step: from the record before it (`prev`), the record
/// the step made, its changes, the inbox entries it consumed, the time and
/// the retention, the commit to make. No I/O, no clock: the time is given.
pub(super) fn plan(
    prev: Previous,
    rec: &mut ExecutionRecord,
    step: Changes,
    consumed: Vec<Key>,
    now: i64,
    retention_days: i64,
    eager: Option<&mut Eager>,
) -> Result<Plan, Error> {
    let mut plan = Plan {
        entries: Vec::new(),
        before: Vec::new(),
        writes: Vec::new(),
        outbox: Vec::new(),
        after: Vec::new(),
        closed: false,
        counts: step.counts,
    };
    // Retention (DynamoDB TTL): while running, everything may go a lifetime
    // plus the retention period after the start; once closed, the record and
    // its list entry go the retention period after the close, as on AWS.
    let retention_s = retention_days * 86_400;
    let running_until = rec.start_ms / 1000 + EXECUTION_LIFETIME_S + retention_s;
    let mut new_tasks: Vec<NewTask> = Vec::new();
    let mut express: BTreeMap<(String, u64), ExpressChild> = BTreeMap::new();
    let open = rec.open_tasks();
    for c in step.commands {
        match c {
            // Scheduled and cancelled in one step (a retry's timer and a stop
            // applied together): no token, no message (found by `stepwise simulate`).
            Command::RunTask(t) if !open.contains_key(&t.task_id) => {}
            Command::RunTask(mut t) => {
                if t.resource == MAP_CHILD_RESOURCE {
                    // The child's start needs these of the parent, which it then never reads.
                    t.payload["DefinitionHash"] = Value::String(rec.definition_hash.clone());
                    t.payload["RoleArn"] = Value::String(
                        rec.asl().and_then(|s| s.context.as_ref()).map(|c| c.role_arn.clone()).unwrap_or_default(),
                    );
                }
                let hash = super::hash_token(&t.task_token);
                let record = TokenRecord {
                    token: t.task_token.clone(),
                    execution_arn: rec.arn.clone(),
                    task_id: t.task_id,
                    resource: t.resource.clone(),
                    input: t.payload,
                    started: false,
                    closed: false,
                    closed_ms: None,
                    scheduled_ms: Some(now),
                    started_ms: None,
                    traceparent: Some(crate::telemetry::traces::ExecutionIds::of(rec).traceparent()),
                };
                // Activities and code workflows' task queues each get a queue of their own.
                let queue = if t.resource.contains(":activity:") || t.resource.starts_with("stepwise:") {
                    queues::activity(&t.resource)
                } else {
                    queues::TASKS.to_string()
                };
                new_tasks.push(NewTask { hash, record, queue });
            }
            Command::StartTimer { timer_id, fire_at_ms } => {
                rec.timers.insert(timer_id, fire_at_ms);
                plan.before.push(Write::put(keys::timer(fire_at_ms, &rec.arn, timer_id), Vec::new(), Condition::None));
                let timer = TimerRef { id: timer_id, fire_ms: fire_at_ms };
                plan.outbox.push(wake(&rec.arn, Some(timer), (fire_at_ms - now).max(0) as u64));
            }
            Command::CancelTask { .. } => {} // covered by the pending-task difference below
            Command::AbortChild { execution_arn, task_id } => {
                // The child stops at its next step. One never started keeps the
                // entry until it expires, or a start for a later task drops it.
                let key = keys::inbox(&execution_arn, 0, &format!("4e#{now:015}#abort#{task_id}"));
                let abort = encode(&InboxEntry::Abort { task_id });
                plan.writes.push(Write::put(key, abort, Condition::None).expiring(running_until));
                plan.outbox.push(wake(&execution_arn, None, 0));
            }
            // A child that started and closed in this step is listed once, closed.
            Command::ListExpressChild(child) => {
                express.insert((child.map_run_arn.clone(), child.index), child);
            }
            Command::Finish { status, output, error, cause } => {
                rec.status = status.into();
                rec.output = output.map(|o| state_language::json::to_string(&o));
                rec.error = error;
                rec.cause = cause;
                rec.stop_ms = Some(now);
                plan.closed = true;
                notify_parent(rec, &mut plan, now)?;
            }
        }
    }
    for child in express.into_values() {
        // Before the commit, batched where the store can: a repeat of the
        // step writes the same key again, and nothing reads its version.
        let (key, summary) = express_listing(child);
        plan.entries.push(Write::put(key, encode(&summary), Condition::None).expiring(running_until));
    }
    // Tasks that ended (answered, timed out, cancelled): their tokens close.
    for (task_id, token) in &prev.tasks {
        if !open.contains_key(task_id) {
            let record = TokenRecord {
                token: token.clone(),
                execution_arn: rec.arn.clone(),
                task_id: *task_id,
                resource: String::new(),
                input: Value::Null,
                started: true,
                closed: true,
                closed_ms: Some(now),
                scheduled_ms: None,
                started_ms: None,
                traceparent: None,
            };
            let (pk, sk) = keys::token(&super::hash_token(token));
            let puts = blob::puts(&pk, &sk, &encode(&record), Condition::None, 0)?;
            plan.after.extend(puts.into_iter().map(|w| w.expiring(running_until)));
        }
    }
    let gone: Vec<u64> = rec.timers.keys().filter(|id| !rec.has_timer(**id)).copied().collect();
    for id in gone {
        if let Some(at) = rec.timers.remove(&id) {
            plan.after.push(Write::delete(keys::timer(at, &rec.arn, id)));
        }
    }
    let keep_until = match rec.stop_ms {
        Some(stop) if rec.status != ExecutionStatus::Running => stop / 1000 + retention_s,
        _ => running_until,
    };
    for (first, page) in pages(step.events) {
        let page = Write::put(keys::history_page(&rec.arn, first), page, Condition::None);
        plan.writes.push(page.expiring(running_until));
    }
    for arn in &step.map_runs {
        let owner = encode(&crate::model::MapRunOwner { execution_arn: rec.arn.clone() });
        plan.writes.push(Write::put(keys::map_run(arn), owner, Condition::None).expiring(running_until));
        // Every Map Run's, though only EXPRESS ones need it: a step does not know which it started.
        let tag = state_language::interpreter::children::express_child_tag(arn);
        let pointer = encode(&crate::model::ExpressRun { map_run_arn: arn.clone() });
        plan.writes.push(Write::put(keys::express_run(&tag), pointer, Condition::None).expiring(running_until));
    }
    if prev.status != Some(rec.status) || prev.condition == Condition::NotExists {
        let (pk, sk) = keys::execution_index(rec.listed_under(), rec.start_ms, &rec.name);
        plan.writes.push(Write::put((pk, sk), encode(&rec.summary()), Condition::None).expiring(keep_until));
    }
    plan.writes.extend(consumed.into_iter().map(Write::delete));
    let (pk, sk) = keys::execution(&rec.arn);
    let puts = blob::puts(&pk, &sk, &encode(&*rec), prev.condition, prev.parts)?;
    plan.writes.extend(puts.into_iter().map(|w| w.expiring(keep_until)));
    // Eager hand-outs add an inbox entry each: only while the step has room.
    let room = TRANSACT_WRITES_MAX.saturating_sub(plan.writes.len() + DIRECT_WRITES_ROOM);
    place_tasks(&mut plan, new_tasks, eager, room, &rec.arn, now, running_until)?;
    if plan.writes.len() > TRANSACT_WRITES_MAX {
        return Err(Error::Limit(format!(
            "one step of {} writes; the limit is {TRANSACT_WRITES_MAX} (too many tasks, timers or history pages at once)",
            plan.writes.len()
        )));
    }
    // New token records commit with the step while the transaction has room
    // (keeping a few items for a caller's own writes): a step that loses a
    // race then leaves no open token of a task that never was.
    let room = TRANSACT_WRITES_MAX.saturating_sub(plan.writes.len() + DIRECT_WRITES_ROOM);
    // Timer index items too: one written before a commit that then fails
    // would stay behind for a timer that never was (found by `stepwise simulate`).
    if plan.before.len() <= room {
        plan.writes.append(&mut plan.before);
        return Ok(plan);
    }
    let (tokens, rest): (Vec<Write>, Vec<Write>) =
        plan.before.drain(..).partition(|w| matches!(w, Write::Put { pk, .. } if pk.starts_with("TOK#")));
    plan.before = rest;
    if tokens.len() <= room {
        plan.writes.extend(tokens);
    } else {
        plan.before.extend(tokens);
    }
    Ok(plan)
}

/// A closing child tells the parent that waits on it (`.sync`).
fn notify_parent(rec: &ExecutionRecord, plan: &mut Plan, now: i64) -> Result<(), Error> {
    let Some(link) = &rec.parent else { return Ok(()) };
    let entry = match &link.map_run_arn {
        Some(_) => super::map_children::answer(rec, now)?,
        None => {
            let described = super::integrations::describe_for_parent(rec, link.output_as_json, now);
            if rec.status == ExecutionStatus::Succeeded {
                InboxEntry::Succeeded { output: described }
            } else {
                let cause = state_language::json::to_string(&described);
                InboxEntry::Failed { error: "States.TaskFailed".into(), cause }
            }
        }
    };
    let key = keys::inbox(&link.execution_arn, link.task_id, "3r");
    plan.writes.push(Write::put(key, encode(&entry), Condition::None));
    plan.outbox.push(wake(&link.execution_arn, None, 0));
    Ok(())
}

impl Engine {
    #[allow(clippy::disallowed_methods)] // a commit's latency, for metrics only
    pub(super) async fn execute(&self, plan: Plan) -> Result<(), Error> {
        let start = std::time::Instant::now();
        let (writes, after) = fold_in_cleanups(plan.writes, plan.after);
        let step = StepWrites { entries: plan.entries, before: plan.before, writes, outbox: plan.outbox, after };
        let done = self.store.transact_steps(step).await;
        crate::telemetry::store_commit(start.elapsed().as_secs_f64());
        done
    }

    /// After a step committed: its metrics, and the log line of a close.
    pub(super) fn committed(&self, rec: &ExecutionRecord, counts: StepCounts, closed: bool) {
        let duration_ms = rec.stop_ms.unwrap_or(rec.start_ms) - rec.start_ms;
        let close = closed.then_some((rec.status.as_str(), duration_ms));
        crate::telemetry::step_committed(&rec.machine_arn, counts, close);
        if counts.tasks_timed_out + counts.tasks_heartbeat_timed_out > 0 {
            tracing::info!(execution = %rec.arn, timed_out = counts.tasks_timed_out,
                heartbeat_timed_out = counts.tasks_heartbeat_timed_out, "tasks timed out");
        }
        if closed {
            tracing::info!(execution = %rec.arn, status = %rec.status, duration_ms, "execution closed");
            self.notify_closed(&rec.arn);
            if let Some(traces) = self.closed_for_traces.get()
                && traces.try_send(rec.arn.clone()).is_err()
            {
                tracing::warn!(execution = %rec.arn, "the trace queue is full: this execution's trace is dropped");
            }
        }
    }
}

/// Moves cleanups into the step's own transaction while it has room: a
/// crash or a throttled write after the commit then cannot leave a closed
/// execution's token open or its timer indexed (found by `stepwise simulate`).
/// A cleanup of an item the transaction already writes stays after it
/// (one transaction may touch an item only once).
fn fold_in_cleanups(mut writes: Vec<Write>, after: Vec<Write>) -> (Vec<Write>, Vec<Write>) {
    let key = |w: &Write| match w {
        Write::Put { pk, sk, .. } | Write::Delete { pk, sk, .. } | Write::Check { pk, sk, .. } => {
            (pk.clone(), sk.clone())
        }
    };
    let mut taken: std::collections::BTreeSet<(String, String)> = writes.iter().map(key).collect();
    let mut rest = Vec::new();
    for w in after {
        if writes.len() < TRANSACT_WRITES_MAX && taken.insert(key(&w)) {
            writes.push(w);
        } else {
            rest.push(w);
        }
    }
    (writes, rest)
}

/// Encodes events into JSON-array pages of at most [`HISTORY_PAGE_BYTES_MAX`]
/// each (an event bigger than that gets a page of its own), each with the id
/// of its first event. Each event is serialized once.
fn pages(events: Vec<(u64, Vec<u8>)>) -> Vec<(u64, Vec<u8>)> {
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    for (id, bytes) in events {
        match out.last_mut() {
            Some((_, page)) if page.len() + bytes.len() < HISTORY_PAGE_BYTES_MAX => {
                page.pop(); // the closing bracket
                page.push(b',');
                page.extend_from_slice(&bytes);
                page.push(b']');
            }
            _ => {
                let mut page = Vec::with_capacity(bytes.len() + 2);
                page.push(b'[');
                page.extend_from_slice(&bytes);
                page.push(b']');
                out.push((id, page));
            }
        }
    }
    out
}
