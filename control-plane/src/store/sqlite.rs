//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`,
//! serving both the item store and the queues. Because both live in one
//! database, a transaction's outbox is committed with it: the messages are
//! durable exactly when the writes are.
//!
//! Writes go to one writer thread that commits them in groups: each request
//! runs in its own savepoint (so a failed condition undoes only itself) and
//! one COMMIT, one fsync, makes the whole group durable before anyone is
//! answered. Reads use a small pool of read connections, which WAL lets run
//! beside the writer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::Notify;

use super::{Condition, Item, OutMessage, Page, QUERY_PAGE_ITEMS_MAX, Query, Queue, Received, Store, Write};
use crate::Error;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL, sk TEXT NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (pk, sk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, visible_at INTEGER NOT NULL,
    receives INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, visible_at);
";

/// How long a waiting receiver sleeps at most before looking again, in case
/// a message became visible without a notification (a hidden one reappearing).
const RECEIVE_RECHECK_MS_MAX: u64 = 1000;

/// Write requests one group commit takes at most.
const GROUP_REQUESTS_MAX: usize = 256;
/// Write requests waiting for the writer at most; senders wait beyond it.
const WRITE_QUEUE_MAX: usize = 4096;
/// Idle read connections kept.
const READERS_MAX: usize = 8;

type Finish = Box<dyn FnOnce(Result<(), Error>) + Send>;
/// Runs a request in the given connection and says whether to keep its
/// effects; given `None` it does nothing and only prepares its failure.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

#[derive(Clone)]
pub struct Sqlite {
    path: Arc<std::path::PathBuf>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    notify: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
}

fn db(e: rusqlite::Error) -> Error {
    Error::Store(e.to_string())
}

pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as i64
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, Error> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(WRITE_QUEUE_MAX);
        std::thread::Builder::new().name("stepwise-writer".into()).spawn(move || writer(conn, rx))?;
        Ok(Sqlite { path: Arc::new(path.to_path_buf()), jobs, readers: Arc::default(), notify: Arc::default() })
    }

    /// Makes messages hidden by an earlier receive visible now (for a restart).
    pub async fn reset_visibility(&self) -> Result<(), Error> {
        self.write(|c| {
            let now = now_ms();
            c.execute("UPDATE messages SET visible_at = ?1 WHERE receives > 0 AND visible_at > ?1", params![now])
                .map(|_| ())
                .map_err(db)
        })
        .await
    }

    /// Runs `f` in the writer's current group; resolves once the group is durable.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |c| match c.map(f) {
            None => (
                false,
                Box::new(move |e: Result<(), Error>| {
                    let _ = tx.send(Err(e.err().unwrap_or_else(|| Error::Store("not run".into()))));
                }),
            ),
            Some(Ok(v)) => (
                true,
                Box::new(move |committed: Result<(), Error>| {
                    let _ = tx.send(committed.map(|()| v));
                }),
            ),
            Some(Err(e)) => (
                false,
                Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            ),
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                // WRITE_QUEUE_MAX requests are queued: wait off the async threads.
                let jobs = self.jobs.clone();
                tokio::task::spawn_blocking(move || jobs.send(job))
                    .await
                    .map_err(|e| Error::Store(e.to_string()))?
                    .map_err(|_| Error::Store("the writer thread has stopped".into()))?;
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(Error::Store("the writer thread has stopped".into()));
            }
        }
        rx.await.map_err(|_| Error::Store("the writer dropped a request".into()))?
    }

    /// Runs `f` on a read connection from the pool. Reads run in place: they
    /// are short, come from SQLite's page cache, and never wait on the
    /// writer (WAL), so a hop to a blocking thread would cost more than they do.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => Connection::open_with_flags(
                self.path.as_path(),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READERS_MAX {
            pool.push(conn);
        }
        out
    }

    fn notifier(&self, queue: &str) -> Arc<Notify> {
        let mut m = self.notify.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(queue.to_string()).or_default().clone()
    }

    fn wake(&self, messages: &[OutMessage]) {
        // Delayed messages wake sleepers too, so they recompute their deadline.
        for m in messages {
            self.notifier(&m.queue).notify_waiters();
        }
    }
}

/// The writer thread: takes a request, then whatever else is waiting (up to
/// GROUP_REQUESTS_MAX), runs each in a savepoint and commits them together.
fn writer(mut conn: Connection, rx: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_REQUESTS_MAX {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let mut finishers = Vec::with_capacity(group.len());
        let committed = (|| -> Result<(), Error> {
            let mut tx = conn.transaction().map_err(db)?;
            for job in group.drain(..) {
                let mut sp = tx.savepoint().map_err(db)?;
                let (ok, finish) = job(Some(&sp));
                if ok {
                    sp.commit().map_err(db)?;
                } else {
                    sp.rollback().map_err(db)?;
                    sp.commit().map_err(db)?;
                }
                finishers.push(finish);
            }
            tx.commit().map_err(db)
        })();
        // A group that fails to commit fails every request in it; none is acknowledged.
        for f in finishers {
            f(match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(Error::Store(e.to_string())),
            });
        }
        for job in group {
            let (_, finish) = job(None);
            finish(Err(Error::Store("the group could not start".into())));
        }
    }
}

fn version_of(tx: &Connection, pk: &str, sk: &str) -> Result<Option<u64>, Error> {
    tx.query_row("SELECT version FROM items WHERE pk = ?1 AND sk = ?2", params![pk, sk], |r| r.get::<_, i64>(0))
        .optional()
        .map(|v| v.map(|v| v as u64))
        .map_err(db)
}

fn holds(c: Condition, v: Option<u64>) -> bool {
    match c {
        Condition::None => true,
        Condition::NotExists => v.is_none(),
        Condition::Exists => v.is_some(),
        Condition::Version(want) => v == Some(want),
    }
}

fn insert_messages(tx: &Connection, messages: &[OutMessage], now: i64) -> Result<(), Error> {
    let mut st = tx.prepare_cached("INSERT INTO messages (queue, visible_at, body) VALUES (?1, ?2, ?3)").map_err(db)?;
    for m in messages {
        st.execute(params![m.queue, now + m.delay_ms as i64, m.body]).map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl Store for Sqlite {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, Error> {
        let (pk, sk) = (pk.to_string(), sk.to_string());
        self.read(move |c| {
            c.prepare_cached("SELECT version, body FROM items WHERE pk = ?1 AND sk = ?2")
                .map_err(db)?
                .query_row(params![pk, sk], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                .optional()
                .map_err(db)
                .map(|o| o.map(|(version, body)| Item { pk, sk, version: version as u64, body }))
        })
        .await
    }

    async fn query(&self, q: Query) -> Result<Page, Error> {
        self.read(move |c| {
            let limit = q.limit.clamp(1, QUERY_PAGE_ITEMS_MAX);
            let upper = format!("{}\u{10FFFF}", q.sk_prefix);
            let (cmp, order) = if q.descending { ("<", "DESC") } else { (">", "ASC") };
            let after = q.after.clone();
            let sql = format!(
                "SELECT sk, version, body FROM items WHERE pk = ?1 AND sk >= ?2 AND sk < ?3 {} ORDER BY sk {order} LIMIT ?5",
                if after.is_some() { format!("AND sk {cmp} ?4") } else { "AND ?4 IS NULL".into() }
            );
            let mut st = c.prepare_cached(&sql).map_err(db)?;
            let rows = st
                .query_map(params![q.pk, q.sk_prefix, upper, after, limit as i64], |r| {
                    Ok(Item {
                        pk: q.pk.clone(),
                        sk: r.get(0)?,
                        version: r.get::<_, i64>(1)? as u64,
                        body: r.get(2)?,
                    })
                })
                .map_err(db)?;
            let items = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
            let last = (items.len() == limit).then(|| items.last().map(|i| i.sk.clone())).flatten();
            Ok(Page { items, last })
        })
        .await
    }

    async fn transact(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error> {
        super::check_transaction(&writes, &outbox)?;
        let wake = outbox.clone();
        self.write(move |tx| {
            for w in &writes {
                let (pk, sk, cond) = match w {
                    Write::Put { pk, sk, condition, .. }
                    | Write::Delete { pk, sk, condition }
                    | Write::Check { pk, sk, condition } => (pk, sk, *condition),
                };
                if cond != Condition::None && !holds(cond, version_of(tx, pk, sk)?) {
                    return Err(Error::ConditionFailed(format!("{pk} {sk}")));
                }
                match w {
                    Write::Put { pk, sk, body, .. } => {
                        tx.prepare_cached(
                            "INSERT INTO items (pk, sk, version, body) VALUES (?1, ?2, 1, ?3)
                             ON CONFLICT (pk, sk) DO UPDATE SET version = version + 1, body = excluded.body",
                        )
                        .map_err(db)?
                        .execute(params![pk, sk, body])
                        .map_err(db)?;
                    }
                    Write::Delete { pk, sk, .. } => {
                        tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
                            .map_err(db)?
                            .execute(params![pk, sk])
                            .map_err(db)?;
                    }
                    Write::Check { .. } => {}
                }
            }
            insert_messages(tx, &outbox, now_ms())
        })
        .await?;
        self.wake(&wake);
        Ok(())
    }
}

#[async_trait]
impl Queue for Sqlite {
    async fn send(&self, messages: Vec<OutMessage>) -> Result<(), Error> {
        super::check_messages(&messages)?;
        let wake = messages.clone();
        self.write(move |c| insert_messages(c, &messages, now_ms())).await?;
        self.wake(&wake);
        Ok(())
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        let notify = self.notifier(queue);
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (q, vis) = (queue.to_string(), visibility.as_millis() as i64);
            let max = max.clamp(1, super::RECEIVE_MESSAGES_MAX);
            let (got, next) = self.write(move |c| take(c, &q, max, vis)).await?;
            if !got.is_empty() {
                return Ok(got);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let mut until = deadline.min(now + Duration::from_millis(RECEIVE_RECHECK_MS_MAX));
            if let Some(at) = next {
                let in_ms = (at - now_ms()).max(0) as u64;
                until = until.min(now + Duration::from_millis(in_ms));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn delete(&self, _queue: &str, receipt: &str) -> Result<(), Error> {
        let (id, receives) = receipt
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
            .ok_or_else(|| Error::Store(format!("a malformed receipt: {receipt}")))?;
        self.write(move |c| {
            c.prepare_cached("DELETE FROM messages WHERE id = ?1 AND receives = ?2")
                .map_err(db)?
                .execute(params![id, receives])
                .map_err(db)
                .map(|_| ())
        })
        .await
    }
}

/// Takes up to `max` visible messages and hides them; also tells when the
/// next hidden or delayed one becomes visible.
fn take(tx: &Connection, queue: &str, max: usize, vis_ms: i64) -> Result<(Vec<Received>, Option<i64>), Error> {
    let now = now_ms();
    let rows: Vec<(i64, String, i64)> = {
        let mut st = tx
            .prepare_cached(
                "SELECT id, body, receives FROM messages WHERE queue = ?1 AND visible_at <= ?2
                 ORDER BY visible_at, id LIMIT ?3",
            )
            .map_err(db)?;
        st.query_map(params![queue, now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?
    };
    let mut got = Vec::with_capacity(rows.len());
    for (id, body, receives) in rows {
        tx.prepare_cached("UPDATE messages SET visible_at = ?1, receives = receives + 1 WHERE id = ?2")
            .map_err(db)?
            .execute(params![now + vis_ms, id])
            .map_err(db)?;
        got.push(Received { body, receipt: format!("{id}:{}", receives + 1), receive_count: (receives + 1) as u32 });
    }
    let next: Option<i64> = if got.is_empty() {
        tx.query_row("SELECT MIN(visible_at) FROM messages WHERE queue = ?1", params![queue], |r| r.get(0))
            .map_err(db)?
    } else {
        None
    };
    Ok((got, next))
}
