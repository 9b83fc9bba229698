//! A deterministic in-memory [`Queue`] with SQS standard queues' semantics
//! and limits: at-least-once delivery in no set order, delays of at most
//! 900 s, batches of at most 10, messages of at most 256 KB, a receive hides
//! what it returns for the visibility timeout, and a delete with the receipt
//! of an earlier delivery does nothing.
//!
//! Faults (when on): a message sent twice, delivered late, or refused with a
//! transient error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::world::{World, yield_now};
use crate::Error;
use crate::store::{Backlog, MESSAGE_DELAY_MS_MAX, OutMessage, Queue, RECEIVE_MESSAGES_MAX, Received, Source};

/// Per mille of sends that deliver a message twice.
const DUPLICATE_PER_MILLE: u64 = 30;
/// Per mille of sends delivered late, by up to [`LATE_MS_MAX`].
const LATE_PER_MILLE: u64 = 50;
const LATE_MS_MAX: u64 = 5_000;
/// Per mille of queue calls refused with a transient error.
const TRANSIENT_PER_MILLE: u64 = 10;
/// Messages the simulated queues hold at most: a run that outgrows it is a bug.
const MESSAGES_MAX: usize = 100_000;

struct Message {
    body: String,
    visible_ms: i64,
    receives: u32,
}

pub struct MemQueue {
    world: Arc<World>,
    /// By queue name, then by id.
    messages: Mutex<BTreeMap<String, BTreeMap<u64, Message>>>,
    next_id: Mutex<u64>,
}

impl MemQueue {
    pub fn new(world: Arc<World>) -> MemQueue {
        MemQueue { world, messages: Mutex::default(), next_id: Mutex::new(0) }
    }

    /// Enqueues messages now (the store's outbox sends through this).
    pub fn deliver(&self, messages: Vec<OutMessage>) {
        for m in messages {
            assert!(m.delay_ms <= MESSAGE_DELAY_MS_MAX, "a delay of {} ms passed the store's check", m.delay_ms);
            let copies = if self.world.fault(DUPLICATE_PER_MILLE) { 2 } else { 1 };
            for _ in 0..copies {
                let late = if self.world.fault(LATE_PER_MILLE) { self.world.below(LATE_MS_MAX) } else { 0 };
                let visible_ms = self.world.now_ms() + (m.delay_ms + late) as i64;
                let mut id = self.next_id.lock().expect("one thread");
                *id += 1;
                let mut all = self.messages.lock().expect("one thread");
                let held: usize = all.values().map(BTreeMap::len).sum();
                assert!(held < MESSAGES_MAX, "the simulated queues outgrew {MESSAGES_MAX} messages");
                let queue = all.entry(m.queue.clone()).or_default();
                queue.insert(*id, Message { body: m.body.clone(), visible_ms, receives: 0 });
            }
        }
    }

    /// When the next hidden or delayed message of `queue` becomes visible.
    pub fn next_visible_ms(&self, queue: Option<&str>) -> Option<i64> {
        let all = self.messages.lock().expect("one thread");
        match queue {
            Some(q) => all.get(q)?.values().map(|m| m.visible_ms).min(),
            None => all.values().flat_map(BTreeMap::values).map(|m| m.visible_ms).min(),
        }
    }

    /// Whether `queue` has a message a receive would return now.
    pub fn has_visible(&self, queue: &str) -> bool {
        self.next_visible_ms(Some(queue)).is_some_and(|at| at <= self.world.now_ms())
    }

    /// When the next message comes due for the driver: as
    /// [`next_visible_ms`](Self::next_visible_ms) over all queues, but a queue
    /// of sticky tasks (named `prefix` and more) that no live worker polls
    /// counts only once its messages have waited `age_ms`.
    pub fn next_due_ms(&self, prefix: &str, age_ms: i64, polled: impl Fn(&str) -> bool) -> Option<i64> {
        let all = self.messages.lock().expect("one thread");
        all.iter()
            .flat_map(|(q, m)| {
                let wait = if is_sticky(q, prefix) && !polled(q) { age_ms } else { 0 };
                m.values().map(move |m| m.visible_ms + wait)
            })
            .min()
    }

    /// Whether a queue of sticky tasks (named `prefix` and more) has a message due for `age_ms`.
    pub fn has_stale(&self, prefix: &str, age_ms: i64) -> bool {
        let now = self.world.now_ms();
        let all = self.messages.lock().expect("one thread");
        all.iter().filter(|(q, _)| is_sticky(q, prefix)).any(|(_, m)| m.values().any(|m| m.visible_ms <= now - age_ms))
    }

    fn transient(&self, what: &str) -> Result<(), Error> {
        if self.world.fault(TRANSIENT_PER_MILLE) {
            self.world.trace(|| format!("queue: {what} refused"));
            return Err(Error::Store(format!("queue {what}: ServiceUnavailable")));
        }
        Ok(())
    }
}

/// A queue named `prefix` and more, as the embedded store's range read takes them.
fn is_sticky(queue: &str, prefix: &str) -> bool {
    queue.len() > prefix.len() && queue.starts_with(prefix)
}

fn sticky_queues(all: &BTreeMap<String, BTreeMap<u64, Message>>, prefix: &str) -> Vec<String> {
    all.keys().filter(|q| is_sticky(q, prefix)).cloned().collect()
}

#[async_trait]
impl Queue for MemQueue {
    async fn depth(&self, queue: &str) -> Result<u64, Error> {
        yield_now().await;
        self.transient("depth")?;
        Ok(self.messages.lock().expect("one thread").get(queue).map_or(0, |q| q.len() as u64))
    }

    async fn send(&self, messages: Vec<OutMessage>) -> Result<(), Error> {
        crate::store::check_messages(&messages)?;
        yield_now().await;
        self.transient("send")?;
        self.deliver(messages);
        Ok(())
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        _wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, Error> {
        yield_now().await;
        self.transient("receive")?;
        let now = self.world.now_ms();
        let mut all = self.messages.lock().expect("one thread");
        let Some(all) = all.get_mut(queue) else { return Ok(Vec::new()) };
        let mut ids: Vec<u64> = all.iter().filter(|(_, m)| m.visible_ms <= now).map(|(id, _)| *id).collect();
        // A standard queue keeps no order: the seed picks which come first.
        let mut picked = Vec::new();
        while !ids.is_empty() && picked.len() < max.min(RECEIVE_MESSAGES_MAX) {
            picked.push(ids.swap_remove(self.world.below(ids.len() as u64) as usize));
        }
        let hide_ms = i64::try_from(visibility.as_millis()).expect("visibility timeouts are short");
        Ok(picked
            .into_iter()
            .map(|id| {
                let m = all.get_mut(&id).expect("picked from the map");
                m.visible_ms = now + hide_ms;
                m.receives += 1;
                Received { body: m.body.clone(), receipt: format!("{id}:{}", m.receives), receive_count: m.receives }
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), Error> {
        yield_now().await;
        self.transient("delete")?;
        let (id, receives) = receipt.split_once(':').expect("receipts are id:receives");
        let (id, receives): (u64, u32) = (id.parse().expect("an id"), receives.parse().expect("a count"));
        let mut all = self.messages.lock().expect("one thread");
        let Some(all) = all.get_mut(queue) else { return Ok(()) };
        // A receipt of an earlier delivery no longer deletes the message.
        if all.get(&id).is_some_and(|m| m.receives == receives) {
            all.remove(&id);
        }
        Ok(())
    }

    async fn receive_first(
        &self,
        sources: &[Source<'_>],
        _wait: Duration,
        visibility: Duration,
    ) -> Result<Option<(String, Received)>, Error> {
        yield_now().await;
        self.transient("receive")?;
        let now = self.world.now_ms();
        let hide_ms = i64::try_from(visibility.as_millis()).expect("visibility timeouts are short");
        let mut all = self.messages.lock().expect("one thread");
        for source in sources {
            let (names, due_by) = match *source {
                Source::Queue(q) => (vec![q.to_string()], now),
                Source::Stale { prefix, age_ms } => (sticky_queues(&all, prefix), now - age_ms),
            };
            let mut due: Vec<(String, u64)> = names
                .iter()
                .flat_map(|q| all.get(q).into_iter().flat_map(|m| m.iter()).map(move |(id, m)| (q, *id, m.visible_ms)))
                .filter(|(_, _, at)| *at <= due_by)
                .map(|(q, id, _)| (q.clone(), id))
                .collect();
            if due.is_empty() {
                continue;
            }
            // No set order within a source: the seed picks.
            let (q, id) = due.swap_remove(self.world.below(due.len() as u64) as usize);
            let m = all.get_mut(&q).and_then(|m| m.get_mut(&id)).expect("picked from the map");
            m.visible_ms = now + hide_ms;
            m.receives += 1;
            let received =
                Received { body: m.body.clone(), receipt: format!("{id}:{}", m.receives), receive_count: m.receives };
            return Ok(Some((q, received)));
        }
        Ok(None)
    }

    async fn backlog(&self) -> Result<Option<Backlog>, Error> {
        let messages = self.messages.lock().expect("one thread").values().map(BTreeMap::len).sum::<usize>() as u64;
        Ok(Some(Backlog { messages, oldest_due_age_ms: None }))
    }
}
