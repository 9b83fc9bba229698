//! Storage and queue interfaces, shaped by DynamoDB's and SQS's constraints
//! so that the embedded backend (SQLite) and the AWS backend are two
//! implementations of one design, not two designs.
//!
//! - Items live under a partition key and a sort key and carry a version
//!   that every put bumps; writes are conditional on it (optimistic
//!   concurrency).
//! - A transaction writes at most [`TRANSACT_ITEMS_MAX`] items, each at most
//!   [`ITEM_BYTES_MAX`]; bigger values are split by [`blob`].
//! - Queries return pages of at most [`QUERY_PAGE_ITEMS_MAX`] items.
//! - Queues deliver at least once; a receive hides a message for a while
//!   and a delete acknowledges it.

pub mod aws;
pub mod blob;
pub mod claim;
pub mod fault;
pub mod meter;
pub mod sqlite;

use std::time::Duration;

use async_trait::async_trait;

use crate::Error;

/// DynamoDB's item size limit.
pub const ITEM_BYTES_MAX: usize = 400 * 1024;
/// DynamoDB's TransactWriteItems limit.
pub const TRANSACT_ITEMS_MAX: usize = 100;
/// Writes one transaction may carry: one item is kept for the outbox.
pub const TRANSACT_WRITES_MAX: usize = TRANSACT_ITEMS_MAX - 1;
/// Items one query page returns at most (DynamoDB pages at 1 MB).
pub const QUERY_PAGE_ITEMS_MAX: usize = 1000;
/// SQS's message size limit.
pub const MESSAGE_BYTES_MAX: usize = 256 * 1024;
/// SQS's largest `DelaySeconds`; longer timers hop.
pub const MESSAGE_DELAY_MS_MAX: u64 = 900 * 1000;
/// SQS's largest receive batch.
pub const RECEIVE_MESSAGES_MAX: usize = 10;
/// SQS's longest long poll.
pub const RECEIVE_WAIT_MS_MAX: u64 = 20 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// 1 after the first put, bumped by every put.
    pub version: u64,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    None,
    NotExists,
    Exists,
    /// The item exists with exactly this version.
    Version(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put {
        pk: String,
        sk: String,
        body: Vec<u8>,
        condition: Condition,
        /// When the backend may delete the item (epoch seconds; DynamoDB TTL).
        /// Backends without TTL keep it.
        expires_s: Option<i64>,
    },
    Delete {
        pk: String,
        sk: String,
        condition: Condition,
    },
    /// Fails the transaction unless the condition holds; writes nothing.
    Check {
        pk: String,
        sk: String,
        condition: Condition,
    },
}

impl Write {
    pub fn put(key: (String, String), body: Vec<u8>, condition: Condition) -> Write {
        Write::Put { pk: key.0, sk: key.1, body, condition, expires_s: None }
    }
    /// The same write, of an item that may be deleted after `at_s` (epoch seconds).
    pub fn expiring(mut self, at_s: i64) -> Write {
        if let Write::Put { expires_s, .. } = &mut self {
            *expires_s = Some(at_s);
        }
        self
    }
    pub fn delete(key: (String, String)) -> Write {
        Write::Delete { pk: key.0, sk: key.1, condition: Condition::None }
    }
    pub fn bytes(&self) -> usize {
        match self {
            Write::Put { pk, sk, body, .. } => pk.len() + sk.len() + body.len(),
            Write::Delete { pk, sk, .. } | Write::Check { pk, sk, .. } => pk.len() + sk.len(),
        }
    }
}

/// A message to send after (and only if) a transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub queue: String,
    pub body: String,
    /// At most [`MESSAGE_DELAY_MS_MAX`]; the SQS backend rounds up to seconds.
    pub delay_ms: u64,
}

/// What waits in the queues (see [`Queue::backlog`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub messages: u64,
    pub oldest_due_age_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub body: String,
    pub receipt: String,
    pub receive_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub sk_prefix: String,
    /// Resume after this sort key (exclusive).
    pub after: Option<String>,
    pub limit: usize,
    pub descending: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Item>,
    /// The sort key to resume after, when more items may follow.
    pub last: Option<String>,
}

/// One step's writes, in the order they land.
#[derive(Debug, Default)]
pub struct StepWrites {
    /// List entries: puts with no condition of items that nothing reads by
    /// version, harmless if the commit then fails. A store may write them in
    /// any order, outside any transaction.
    pub entries: Vec<Write>,
    /// Records harmless if the commit then fails (new token records, timer index items).
    pub before: Vec<Write>,
    /// The commit: all or none, with `outbox`.
    pub writes: Vec<Write>,
    pub outbox: Vec<OutMessage>,
    /// Idempotent cleanups whose loss is harmless.
    pub after: Vec<Write>,
}

/// [`Store::transact_steps`] as separate transactions: `entries` and
/// `before`, the commit, then `after`, each in batches a transaction takes.
pub async fn transact_in_order<S: Store + ?Sized>(store: &S, step: StepWrites) -> Result<(), Error> {
    let StepWrites { mut entries, before, writes, outbox, after } = step;
    entries.extend(before);
    for chunk in entries.chunks(TRANSACT_WRITES_MAX) {
        store.transact(chunk.to_vec(), Vec::new()).await?;
    }
    store.transact(writes, outbox).await?;
    for chunk in after.chunks(TRANSACT_WRITES_MAX) {
        // Cleanups are idempotent and their loss harmless; a failure here is logged, not fatal.
        if let Err(e) = store.transact(chunk.to_vec(), Vec::new()).await {
            tracing::warn!(error = %e, "a cleanup after a commit failed");
        }
    }
    Ok(())
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, Error>;
    async fn query(&self, q: Query) -> Result<Page, Error>;
    /// All writes or none; then every message is delivered at least once.
    /// A failed condition gives [`Error::ConditionFailed`].
    async fn transact(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error>;

    /// Like [`transact`](Self::transact), for writes whose loss in a power
    /// failure is harmless (a task handed out again); a store may then skip
    /// waiting for the disk. Here the same as `transact`.
    async fn transact_relaxed(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error> {
        self.transact(writes, outbox).await
    }

    /// A step's commit, in the order of [`StepWrites`]: `entries` and
    /// `before` (records harmless if the commit then fails), then `writes`
    /// with `outbox` atomically, then `after` (cleanups whose loss is
    /// harmless). Here as transactions in that order, the unatomic parts in
    /// batches the store takes; a store that can take it all in one
    /// transaction (the embedded one) does, and one with a cheaper batch
    /// write for `entries` (DynamoDB's BatchWriteItem) uses it.
    async fn transact_steps(&self, step: StepWrites) -> Result<(), Error> {
        transact_in_order(self, step).await
    }
    /// Sends outbox messages of commits older than `older_than_ms` whose
    /// send was lost (a crash between commit and send). Backends whose
    /// outbox commits with the writes have nothing to do.
    async fn flush_outbox(&self, _older_than_ms: i64) -> Result<usize, Error> {
        Ok(0)
    }

    /// What this store has spent since the last call, for backends that are
    /// billed per request ([`meter`]); `None` for the others.
    fn take_usage(&self) -> Option<meter::Usage> {
        None
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, messages: Vec<OutMessage>) -> Result<(), Error>;
    /// Waits up to `wait` for at least one message; hides what it returns for `visibility`.
    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, Error>;
    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), Error>;
    /// Messages stored in all queues and how long the oldest due one has
    /// waited, for metrics; `None` where the backend cannot say cheaply
    /// (SQS: CloudWatch has `ApproximateAgeOfOldestMessage`).
    async fn backlog(&self) -> Result<Option<Backlog>, Error> {
        Ok(None)
    }
    /// Messages in one queue, visible or not (approximate on SQS), for the
    /// console's pending-task counts.
    async fn depth(&self, queue: &str) -> Result<u64, Error>;
    /// Waits up to `wait` for one message from the first of `sources` that
    /// has one, hides it for `visibility`, and gives it with its queue. For
    /// sticky workflow tasks, which only the embedded store keeps (one queue
    /// per worker would be one SQS queue per worker): other backends refuse.
    async fn receive_first(
        &self,
        _sources: &[Source<'_>],
        _wait: Duration,
        _visibility: Duration,
    ) -> Result<Option<(String, Received)>, Error> {
        Err(Error::Store("this backend receives from one queue at a time; sticky tasks need the embedded store".into()))
    }
}

/// Where [`Queue::receive_first`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// A queue's due messages.
    Queue(&'a str),
    /// Due messages of every queue named `prefix` and more, that have been
    /// due for at least `age_ms`: a sticky task its worker left waiting.
    Stale { prefix: &'a str, age_ms: i64 },
}

/// Checks a transaction against the limits every backend shares.
pub fn check_transaction(writes: &[Write], outbox: &[OutMessage]) -> Result<(), Error> {
    if writes.len() > TRANSACT_WRITES_MAX {
        return Err(Error::Limit(format!(
            "a transaction of {} items; the limit is {TRANSACT_WRITES_MAX} (one more is kept for the outbox)",
            writes.len()
        )));
    }
    if let Some(w) = writes.iter().find(|w| w.bytes() > ITEM_BYTES_MAX) {
        return Err(Error::Limit(format!("an item of {} bytes; the limit is {ITEM_BYTES_MAX}", w.bytes())));
    }
    check_messages(outbox)
}

pub fn check_messages(messages: &[OutMessage]) -> Result<(), Error> {
    for m in messages {
        if m.body.len() > MESSAGE_BYTES_MAX {
            return Err(Error::Limit(format!("a message of {} bytes; the limit is {MESSAGE_BYTES_MAX}", m.body.len())));
        }
        if m.delay_ms > MESSAGE_DELAY_MS_MAX {
            return Err(Error::Limit(format!("a delay of {} ms; the limit is {MESSAGE_DELAY_MS_MAX}", m.delay_ms)));
        }
    }
    Ok(())
}

/// Hex SHA-256: content addresses of definitions, claims and queue names.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
