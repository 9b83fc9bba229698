//! The long-running loops of a server: the scheduler (wake-ups and timers),
//! the integration worker and the sweeper. Each stops when `stop` turns true.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::commit::wake;
use super::{Engine, decode};
use crate::model::{ExecutionRecord, TaskMessage, TimerRef, Wake, keys, queues};
use crate::store::{Query, Received, Write};

/// Messages a loop takes per receive.
pub const BATCH_MESSAGES_MAX: usize = 10;
/// A long poll; loops also wake at once on a stop.
const POLL: Duration = Duration::from_secs(20);
/// How long a message being worked on stays hidden from other loops. It also
/// bounds how late a wake-up is when SQS hands it to a long poll of a process
/// that just died: short, since a step takes milliseconds and a second
/// delivery is harmless.
pub const VISIBILITY: Duration = Duration::from_secs(10);
/// Deliveries after which a message that keeps failing is dropped (a DLQ's
/// redrive count; the Terraform module's `max_receives`). A task message's
/// last delivery fails its task instead (`Engine::perform_delivery`).
pub const RECEIVES_MAX: u32 = 20;
/// How late a timer may be before the sweeper re-sends its wake-up.
const TIMER_GRACE_MS: i64 = 60_000;
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// Due timers one sweep looks at.
const SWEEP_TIMERS_MAX: usize = 1000;

/// One batch from a loop's queue, at once (the simulator's loops, which decide when to look).
pub async fn receive_now(engine: &Engine, queue: &str) -> Result<Vec<Received>, crate::Error> {
    engine.queue.receive(queue, BATCH_MESSAGES_MAX, Duration::ZERO, VISIBILITY).await
}

async fn receive(engine: &Engine, queue: &str, stop: &mut watch::Receiver<bool>) -> Option<Vec<Received>> {
    tokio::select! {
        r = engine.queue.receive(queue, BATCH_MESSAGES_MAX, POLL, VISIBILITY) => match r {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(queue, error = %e, "receive failed");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => Some(Vec::new()),
                    _ = stop.changed() => None,
                }
            }
        },
        _ = stop.changed() => None,
    }
}

pub async fn scheduler(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let Some(batch) = receive(&engine, queues::SCHEDULER, &mut stop).await else { break };
        for m in batch {
            on_scheduler_message(&engine, &m).await;
        }
    }
}

/// One received scheduler message (an execution's wake-up or a schedule's
/// fire): applied, then deleted or left to come back.
pub async fn on_scheduler_message(engine: &Engine, m: &Received) {
    let done = match decode::<SchedulerMessage>(m.body.as_bytes()) {
        Ok(SchedulerMessage::Fire(f)) => engine.on_fire(f).await,
        Ok(SchedulerMessage::Wake(w)) => on_wake(engine, w).await,
        Err(e) => Err(e),
    };
    settle(engine, queues::SCHEDULER, m, done).await;
}

/// One received integration task message: performed, then deleted or left to come back.
pub async fn on_task_message(engine: &Engine, m: &Received) {
    let done = match decode::<TaskMessage>(m.body.as_bytes()) {
        Ok(t) => engine.perform_delivery(&t.token_hash, m.receive_count).await,
        Err(e) => Err(e),
    };
    settle(engine, queues::TASKS, m, done).await;
}

/// The scheduler queue carries two kinds of message; a fire names its schedule.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SchedulerMessage {
    Fire(crate::schedules::FireMessage),
    Wake(Wake),
}

/// Shards of the lock that makes one process's wake-ups of an execution step
/// one at a time: a parent whose many children close at once would otherwise
/// load, step and commit its record in every scheduler loop at once, and all
/// but one would lose the commit race.
const WAKE_LOCK_SHARDS: usize = 64;

pub struct WakeLocks([tokio::sync::Mutex<()>; WAKE_LOCK_SHARDS]);

impl Default for WakeLocks {
    fn default() -> Self {
        WakeLocks(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl WakeLocks {
    fn of(&self, arn: &str) -> &tokio::sync::Mutex<()> {
        let h = arn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        &self.0[(h % WAKE_LOCK_SHARDS as u64) as usize]
    }
}

pub async fn on_wake(engine: &Engine, w: Wake) -> Result<(), crate::Error> {
    if let Some(TimerRef { id, fire_ms }) = w.timer {
        let left = fire_ms - engine.now_ms();
        if left > 0 {
            // Another hop of a timer longer than one queue delay, if the timer
            // still exists: a cancelled timer's chain ends here. (Without this, a
            // queue that delivers twice doubled each dead chain at every hop.)
            let live =
                engine.execution(&w.execution_arn).await?.is_some_and(|(r, _)| r.timers.get(&id) == Some(&fire_ms));
            if !live {
                return Ok(());
            }
            tracing::info!(execution = %w.execution_arn, left_ms = left, "timer hop");
            return engine.queue.send(vec![wake(&w.execution_arn, w.timer, left as u64)]).await;
        }
    }
    let _one_at_a_time = engine.wake_locks.of(&w.execution_arn).lock().await;
    // A wake-up with no timer only applies the inbox: one an earlier step
    // emptied costs a key read, not a load of the record (a Map Run's parent
    // gets one wake-up per child that closes, and applies up to 32 answers a step).
    if w.timer.is_none() && !engine.has_inbox(&w.execution_arn).await? {
        return Ok(());
    }
    engine.advance(&w.execution_arn, w.timer, &[]).await.map(|_| ())
}

/// Deletes a handled message; leaves a failed one to be delivered again, up to a point.
async fn settle(engine: &Engine, queue: &str, m: &Received, done: Result<(), crate::Error>) {
    if let Err(e) = &done {
        if m.receive_count < RECEIVES_MAX {
            tracing::warn!(queue, error = %e, receives = m.receive_count, "a message failed; it will be retried");
            return;
        }
        tracing::error!(queue, error = %e, body = %m.body, "a message failed too often; dropped");
    }
    if let Err(e) = engine.queue.delete(queue, &m.receipt).await {
        tracing::warn!(queue, error = %e, "delete failed; the message will be delivered again");
    }
}

pub async fn integrations(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let Some(batch) = receive(&engine, queues::TASKS, &mut stop).await else { break };
        for m in batch {
            on_task_message(&engine, &m).await;
        }
    }
}

/// Re-sends wake-ups of timers that are well overdue (their message was
/// lost) and removes index entries of timers that no longer exist.
pub async fn sweeper(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if let Err(e) = sweep(&engine).await {
            tracing::warn!(error = %e, "sweep failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
            _ = stop.changed() => break,
        }
    }
}

pub async fn sweep(engine: &Engine) -> Result<usize, crate::Error> {
    let flushed = engine.store.flush_outbox(engine.outbox_grace_ms).await?;
    if flushed > 0 {
        tracing::info!(flushed, "sent the outbox of commits whose send was lost");
    }
    let mut resent = 0;
    for shard in 0..keys::TIMER_SHARDS {
        resent += sweep_timers(engine, keys::timers_shard(shard)).await?;
    }
    if resent > 0 {
        tracing::info!(resent, "re-sent the wake-ups of overdue timers");
    }
    Ok(resent)
}

/// One shard of the timer index, oldest first.
async fn sweep_timers(engine: &Engine, pk: String) -> Result<usize, crate::Error> {
    let q = Query { pk, sk_prefix: String::new(), after: None, limit: SWEEP_TIMERS_MAX, descending: false };
    let page = engine.store.query(q).await?;
    let now = engine.now_ms();
    let mut resent = 0;
    for item in page.items {
        let Some((fire_ms, arn, id)) = keys::parse_timer(&item.sk) else {
            tracing::warn!(key = %item.sk, "a timer index item that is not one; removed");
            engine.store.transact(vec![Write::delete((item.pk, item.sk))], Vec::new()).await?;
            continue;
        };
        if fire_ms > now - TIMER_GRACE_MS {
            break; // in time order: the rest are not overdue
        }
        if crate::schedules::is_schedule_arn(arn) {
            match engine.schedule_fire_is_live(arn, id, fire_ms).await? {
                Some(fire) => {
                    engine.resend_fire(&fire).await?;
                    resent += 1;
                }
                None => engine.store.transact(vec![Write::delete((item.pk, item.sk))], Vec::new()).await?,
            }
            continue;
        }
        let live = engine
            .execution(arn)
            .await?
            .map(|(r, _)| r)
            .filter(|r: &ExecutionRecord| r.timers.get(&id) == Some(&fire_ms));
        if live.is_some() {
            engine.queue.send(vec![wake(arn, Some(TimerRef { id, fire_ms }), 0)]).await?;
            resent += 1;
        } else {
            engine.store.transact(vec![Write::delete((item.pk, item.sk))], Vec::new()).await?;
        }
    }
    Ok(resent)
}
