//! The tasks a step schedules: their token records and queue messages, or,
//! for a worker that asked with its answer to a workflow task, a hand-out
//! in the step's own commit (eager activities).

use super::commit::Plan;
use super::{code_tasks, encode};
use crate::Error;
use crate::model::{InboxEntry, TaskMessage, TokenRecord, keys};
use crate::store::{Condition, OutMessage, Write, blob};

/// A task the step schedules: its token's hash, its record, its queue.
pub(super) struct NewTask {
    pub hash: String,
    pub record: TokenRecord,
    pub queue: String,
}

/// Writes the step's new tasks' token records and sends their messages; a
/// task an eager taker takes is handed out in the commit instead, at most
/// `room` of them (each adds an inbox entry to the step's transaction).
pub(super) fn place_tasks(
    plan: &mut Plan,
    tasks: Vec<NewTask>,
    mut eager: Option<&mut Eager>,
    mut room: usize,
    arn: &str,
    now: i64,
    running_until: i64,
) -> Result<(), Error> {
    for NewTask { hash, mut record, queue } in tasks {
        let taker = eager.as_deref_mut().filter(|e| room > 0 && e.queue == queue && e.taken.len() < e.max);
        if let Some(e) = taker {
            // Handed to the answering worker in this commit: started, with
            // the start in the run's inbox as a poll's hand-out leaves it.
            room -= 1;
            record.started = true;
            record.started_ms = Some(now);
            let started = InboxEntry::Started { worker_name: e.worker.clone(), at_ms: Some(now) };
            plan.writes.push(Write::put(keys::inbox(arn, record.task_id, "1s"), encode(&started), Condition::None));
            plan.outbox.extend(super::tokens::started_wake(&record));
            e.taken.push(record.clone());
        }
        let (pk, sk) = keys::token(&hash);
        let puts = blob::puts(&pk, &sk, &encode(&record), Condition::None, 0)?;
        plan.before.extend(puts.into_iter().map(|w| w.expiring(running_until)));
        if record.started {
            continue; // no message: no poll is to find it
        }
        let body = serde_json::to_string(&TaskMessage { token_hash: hash }).unwrap_or_default();
        // A sticky workflow task goes to its worker's own queue; any
        // worker's poll takes it from there once it waited too long.
        let queue = match record.input["stickyWorker"].as_str() {
            Some(w) => code_tasks::sticky_queue(&queue, w),
            None => queue,
        };
        plan.outbox.push(OutMessage { queue, body, delay_ms: 0 });
    }
    Ok(())
}

/// A worker's request, with its answer to a workflow task, to be handed the
/// activity tasks that answer schedules on its own task queue at once
/// (Temporal's eager activities): no queue message, no poll, no hand-out
/// commit. A worker that then loses them is as one that lost a polled task:
/// the attempt's start-to-close timeout runs it again.
pub struct Eager {
    /// The activity queue the worker polls.
    pub queue: String,
    pub worker: Option<String>,
    /// Tasks to hand at most (the worker's free activity slots).
    pub max: usize,
    /// Tasks the plan handed out, given back once its commit holds.
    pub taken: Vec<TokenRecord>,
    pub reply: tokio::sync::oneshot::Sender<Vec<TokenRecord>>,
}

impl Eager {
    /// The commit holds: the worker may have its tasks.
    pub fn handed_out(self) {
        for t in &self.taken {
            crate::telemetry::task_started(&t.resource, Some(0));
        }
        let _ = self.reply.send(self.taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: u64, queue: &str) -> NewTask {
        let record = TokenRecord {
            token: format!("t{id}"),
            execution_arn: "arn".into(),
            task_id: id,
            resource: "stepwise:activity:q".into(),
            input: serde_json::json!({}),
            started: false,
            closed: false,
            closed_ms: None,
            scheduled_ms: Some(1),
            started_ms: None,
            traceparent: None,
        };
        NewTask { hash: format!("h{id}"), record, queue: queue.into() }
    }

    fn plan() -> Plan {
        let (before, writes, outbox, after) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        Plan { entries: Vec::new(), before, writes, outbox, after, closed: false, counts: Default::default() }
    }

    /// Takes up to the worker's max on its own queue and the transaction's
    /// room; the rest go to their queues as usual.
    #[test]
    fn an_eager_taker_takes_its_queue_within_its_max_and_the_room() {
        for (max, room, taken) in [(3, 10, 2), (1, 10, 1), (3, 1, 1), (3, 0, 0)] {
            let (reply, _) = tokio::sync::oneshot::channel();
            let mut e = Eager { queue: "mine".into(), worker: Some("w".into()), max, taken: Vec::new(), reply };
            let mut p = plan();
            let tasks = vec![task(1, "mine"), task(2, "other"), task(3, "mine")];
            place_tasks(&mut p, tasks, Some(&mut e), room, "arn", 5, 100).expect("placed");
            assert_eq!(e.taken.len(), taken, "max {max}, room {room}");
            assert!(e.taken.iter().all(|t| t.started && t.started_ms == Some(5)));
            assert_eq!(p.writes.len(), taken, "one inbox entry (the start) per task taken");
            let sent: Vec<&str> = p.outbox.iter().map(|m| m.queue.as_str()).collect();
            assert_eq!(sent.len(), 3 - taken, "a message for each task not taken: {sent:?}");
            assert_eq!(p.before.len(), 3, "every token record is written");
        }
    }
}
