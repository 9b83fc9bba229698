//! A deterministic in-memory [`Store`] with DynamoDB's semantics and limits:
//! versioned items, conditional writes, transactions of at most 100 items of
//! at most 400 KB each (4 MB in all) that touch an item once, pages of at
//! most 1,000 items. Its outbox behaves as the DynamoDB backend's: committed
//! with the writes, sent after, and swept when the send was lost.
//!
//! Faults (when on): throttling and transient errors before a write, a lost
//! response after a successful one, and a crash point (an await) between
//! commit and send. Plants disable one safety mechanism each.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::Plant;
use super::queue::MemQueue;
use super::world::{World, yield_now};
use crate::Error;
use crate::store::{
    Condition, ITEM_BYTES_MAX, Item, OutMessage, Page, QUERY_PAGE_ITEMS_MAX, Query, Store, TRANSACT_ITEMS_MAX, Write,
};

/// DynamoDB's limit on one transaction's total size.
pub const TRANSACT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// DynamoDB's limit on one query page's size.
const PAGE_BYTES_MAX: usize = 1024 * 1024;
/// Per mille of writes refused before they apply (throttling, a 500).
const TRANSIENT_PER_MILLE: u64 = 15;
/// Per mille of writes that apply but whose answer is lost.
const LOST_RESPONSE_PER_MILLE: u64 = 15;

struct Stored {
    version: u64,
    body: Vec<u8>,
}

struct Pending {
    committed_ms: i64,
    messages: Vec<OutMessage>,
}

#[derive(Default)]
struct Tables {
    items: BTreeMap<(String, String), Stored>,
    outbox: BTreeMap<u64, Pending>,
    next_outbox: u64,
}

pub struct MemStore {
    world: Arc<World>,
    queue: Arc<MemQueue>,
    tables: Mutex<Tables>,
}

impl MemStore {
    pub fn new(world: Arc<World>, queue: Arc<MemQueue>) -> MemStore {
        MemStore { world, queue, tables: Mutex::default() }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().expect("one thread")
    }

    /// Every item, for the end-of-run checks.
    pub fn all_items(&self) -> Vec<Item> {
        let t = self.tables();
        t.items
            .iter()
            .map(|((pk, sk), s)| Item { pk: pk.clone(), sk: sk.clone(), version: s.version, body: s.body.clone() })
            .collect()
    }

    fn holds(&self, t: &Tables, pk: &str, sk: &str, c: Condition) -> bool {
        let current = t.items.get(&(pk.to_string(), sk.to_string()));
        match c {
            Condition::None => true,
            Condition::NotExists => current.is_none(),
            Condition::Exists => current.is_some(),
            // The plant: a commit without the version check.
            Condition::Version(_) if self.world.plant == Some(Plant::StaleCommit) => current.is_some(),
            Condition::Version(v) => current.is_some_and(|s| s.version == v),
        }
    }

    fn check(&self, writes: &[Write], outbox: &[OutMessage]) -> Result<(), Error> {
        // The limits every backend shares, which the engine plans against
        // (a step over them fails its execution); past these, DynamoDB's own.
        crate::store::check_transaction(writes, outbox)?;
        let breach = |why: String| {
            self.world.ledger().limit_breaches.push(why.clone());
            Err(Error::Limit(why))
        };
        if writes.len() + usize::from(!outbox.is_empty()) > TRANSACT_ITEMS_MAX {
            return breach(format!("a transaction of {} items and an outbox", writes.len()));
        }
        let total: usize = writes.iter().map(Write::bytes).sum();
        if total > TRANSACT_BYTES_MAX {
            return breach(format!("a transaction of {total} bytes"));
        }
        if let Some(w) = writes.iter().find(|w| w.bytes() > ITEM_BYTES_MAX) {
            return breach(format!("an item of {} bytes", w.bytes()));
        }
        let mut seen = BTreeSet::new();
        for w in writes {
            let (Write::Put { pk, sk, .. } | Write::Delete { pk, sk, .. } | Write::Check { pk, sk, .. }) = w;
            if !seen.insert((pk.as_str(), sk.as_str())) {
                // DynamoDB refuses this with a ValidationException: a bug in the caller.
                return breach(format!("a transaction that touches {pk}/{sk} twice"));
            }
        }
        crate::store::check_messages(outbox)
    }

    /// Applies the writes atomically, and records the outbox; gives its id.
    fn apply(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<Option<u64>, Error> {
        let mut t = self.tables();
        for w in &writes {
            let (Write::Put { pk, sk, condition, .. }
            | Write::Delete { pk, sk, condition }
            | Write::Check { pk, sk, condition }) = w;
            if !self.holds(&t, pk, sk, *condition) {
                return Err(Error::ConditionFailed(format!("{pk}/{sk}")));
            }
        }
        for w in writes {
            match w {
                Write::Put { pk, sk, body, .. } => {
                    let version = t.items.get(&(pk.clone(), sk.clone())).map_or(0, |s| s.version) + 1;
                    t.items.insert((pk, sk), Stored { version, body });
                }
                Write::Delete { pk, sk, .. } => {
                    t.items.remove(&(pk, sk));
                }
                Write::Check { .. } => {}
            }
        }
        if outbox.is_empty() {
            return Ok(None);
        }
        t.next_outbox += 1;
        let id = t.next_outbox;
        self.world.ledger().outbox_committed.insert(id);
        let lost = self.world.plant == Some(Plant::DropOutbox) && self.world.below(4) == 0;
        if lost {
            self.world.trace(|| format!("store: PLANT drops outbox entry {id}"));
        } else {
            t.outbox.insert(id, Pending { committed_ms: self.world.now_ms(), messages: outbox });
        }
        Ok(Some(id))
    }

    /// Sends a committed outbox entry and forgets it; `false` if it is gone.
    async fn send_outbox(&self, id: u64, late_ms: i64) -> bool {
        let Some(messages) = self.tables().outbox.get(&id).map(|p| p.messages.clone()) else { return false };
        let late = u64::try_from(late_ms).expect("sends come after commits");
        let messages = messages.into_iter().map(|m| OutMessage { delay_ms: m.delay_ms.saturating_sub(late), ..m });
        self.queue.deliver(messages.collect());
        self.world.ledger().outbox_sent.insert(id);
        yield_now().await; // sent, not yet forgotten: a crash here sends it twice
        self.tables().outbox.remove(&id);
        true
    }
}

#[async_trait]
impl Store for MemStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, Error> {
        yield_now().await;
        let t = self.tables();
        Ok(t.items.get(&(pk.to_string(), sk.to_string())).map(|s| {
            let mut body = s.body.clone();
            if self.world.plant == Some(Plant::ReuseToken) && pk.starts_with("TOK#") {
                // The plant: a closed token reads as open.
                body = replace(&body, b"\"closed\":true", b"\"closed\":false");
            }
            Item { pk: pk.to_string(), sk: sk.to_string(), version: s.version, body }
        }))
    }

    async fn query(&self, q: Query) -> Result<Page, Error> {
        yield_now().await;
        let t = self.tables();
        let limit = q.limit.clamp(1, QUERY_PAGE_ITEMS_MAX);
        // The partition's keys under the prefix, from the resume point on, in order.
        let lower = (q.pk.clone(), q.sk_prefix.clone());
        let upper = (q.pk.clone(), format!("{}\u{10FFFF}", q.sk_prefix));
        let in_partition = t.items.range(lower..upper);
        let after = |sk: &String| q.after.as_ref().is_none_or(|a| if q.descending { sk < a } else { sk > a });
        let all: Box<dyn Iterator<Item = (&(String, String), &Stored)>> =
            if q.descending { Box::new(in_partition.rev()) } else { Box::new(in_partition) };
        let (mut items, mut bytes) = (Vec::new(), 0);
        for ((pk, sk), s) in all.filter(|((_, sk), _)| after(sk)) {
            if items.len() == limit || bytes >= PAGE_BYTES_MAX {
                break;
            }
            bytes += s.body.len();
            items.push(Item { pk: pk.clone(), sk: sk.clone(), version: s.version, body: s.body.clone() });
        }
        let full = items.len() == limit || bytes >= PAGE_BYTES_MAX;
        let last = full.then(|| items.last().map(|i| i.sk.clone())).flatten();
        Ok(Page { items, last })
    }

    async fn transact(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error> {
        self.check(&writes, &outbox)?;
        yield_now().await;
        if self.world.fault(TRANSIENT_PER_MILLE) {
            self.world.trace(|| "store: throttled".into());
            return Err(Error::Store("ThrottlingException: Rate exceeded".into()));
        }
        let outbox_id = self.apply(writes, outbox)?;
        if self.world.fault(LOST_RESPONSE_PER_MILLE) {
            self.world.trace(|| "store: a commit's response is lost".into());
            return Err(Error::Store("the connection closed before the response".into()));
        }
        if let Some(id) = outbox_id {
            yield_now().await; // committed, not yet sent: a crash here leaves it to the sweeper
            self.send_outbox(id, 0).await;
        }
        Ok(())
    }

    async fn flush_outbox(&self, older_than_ms: i64) -> Result<usize, Error> {
        yield_now().await;
        let now = self.world.now_ms();
        let due: Vec<(u64, i64)> = self
            .tables()
            .outbox
            .iter()
            .filter(|(_, p)| p.committed_ms <= now - older_than_ms)
            .map(|(id, p)| (*id, now - p.committed_ms))
            .collect();
        let mut sent = 0;
        for (id, late) in due {
            sent += usize::from(self.send_outbox(id, late).await);
        }
        Ok(sent)
    }
}

/// `body` with every `from` replaced by `to`.
fn replace(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}
