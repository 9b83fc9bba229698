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

// A store keeps its own clock for TTL and visibility, as DynamoDB and SQS do.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, params};
use tokio::sync::Notify;

mod items;
mod queue;
mod sources;

use super::OutMessage;
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

/// Write requests one group commit takes at most.
const GROUP_REQUESTS_MAX: usize = 256;
/// Write requests waiting for the writer at most; senders wait beyond it.
const WRITE_QUEUE_MAX: usize = 4096;
/// Idle read connections kept.
const READERS_MAX: usize = 8;
/// SQLite's text for SQLITE_BUSY, as `db` carries it.
const BUSY_MESSAGE: &str = "database is locked";
/// Tries of a read told the database is locked, and the pause between them:
/// doubling from 1 ms to at most 64 ms, about 2 s in all.
const READ_BUSY_RETRIES_MAX: u32 = 36;
const READ_BUSY_BACKOFF_MS_MAX: u64 = 64;

type Finish = Box<dyn FnOnce(Result<(), Error>) + Send>;
/// Runs a request in the given connection and says whether to keep its
/// effects; given `None` it does nothing and only prepares its failure.
type Run = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// A write request, and whether its group must reach the disk before
/// anyone is answered (`synchronous=FULL`); a group of relaxed requests only
/// must reach the operating system (it survives the process, not the power).
struct Job {
    durable: bool,
    run: Run,
}

#[derive(Clone)]
pub struct Sqlite {
    path: Arc<std::path::PathBuf>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    notify: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    hidden: Arc<Mutex<queue::Hidden>>,
}

pub(super) fn db(e: rusqlite::Error) -> Error {
    // The extended code tells one SQLITE_BUSY from another (a snapshot, a
    // recovery, a timeout), which the message alone does not.
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code > 0xff => {
            Error::Store(format!("{e} (SQLite extended code {})", f.extended_code))
        }
        _ => Error::Store(e.to_string()),
    }
}

pub(super) use crate::clock::now_ms;

/// Turns on SQLite's query planner stability guarantee. Without it a cached
/// statement whose plan peeked at a bound value (every `LIMIT ?`) is marked
/// expired at each new binding and prepared again on every run: `perf` put
/// `sqlite3Reprepare` at 7.8% of the server's CPU under the activities
/// benchmark. Our queries have one good plan whatever the values.
fn stable_plans(conn: &Connection) -> Result<(), Error> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(db)?;
    Ok(())
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, Error> {
        let conn = Connection::open(path).map_err(db)?;
        stable_plans(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(WRITE_QUEUE_MAX);
        std::thread::Builder::new().name("stepwise-writer".into()).spawn(move || writer(conn, rx))?;
        Ok(Sqlite {
            path: Arc::new(path.to_path_buf()),
            jobs,
            readers: Arc::default(),
            notify: Arc::default(),
            hidden: Arc::default(),
        })
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
    pub(super) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        self.write_with(true, f).await
    }

    /// Like [`write`](Self::write), for writes whose loss in a power failure
    /// is harmless (another delivery of a message, another hand-out of a task):
    /// their group skips the fsync unless a durable write shares it, and the
    /// next durable group carries them to the disk.
    pub(super) async fn write_relaxed<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        self.write_with(false, f).await
    }

    async fn write_with<T: Send + 'static>(
        &self,
        durable: bool,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        // Received messages deleted since the last group go with this one:
        // their loss in a crash is only a second delivery.
        let deletes = self.take_deletes();
        let f = {
            let me = self.clone();
            move |c: &Connection| {
                let out = f(c);
                if !deletes.is_empty() {
                    // Only with a request that keeps its effects (its savepoint commits);
                    // a group that then fails to commit costs a second delivery, no more.
                    let removed = out.is_ok() && queue::delete_rows(c, &deletes).is_ok();
                    me.deletes_done(deletes, removed);
                }
                out
            }
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let run: Run = Box::new(move |c| match c.map(f) {
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
        match self.jobs.try_send(Job { durable, run }) {
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
    /// A WAL reader can still be told the database is locked, without its busy
    /// handler, while the writer resets the WAL after a checkpoint (seen under
    /// `stepwise bench --workload activities`): a read is tried again then.
    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let mut tries = 0;
        loop {
            match self.read_once(&f) {
                Err(Error::Store(why)) if why.contains(BUSY_MESSAGE) && tries < READ_BUSY_RETRIES_MAX => {
                    let pause_ms = (1u64 << tries.min(6)).min(READ_BUSY_BACKOFF_MS_MAX);
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
                }
                Err(e) => {
                    if tries > 0 {
                        tracing::warn!(tries, error = %e, "a read failed after the database stayed locked");
                    }
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    fn read_once<T>(&self, f: &impl Fn(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(self.path.as_path(), flags).map_err(db)?;
                stable_plans(&conn)?;
                conn
            }
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READERS_MAX {
            pool.push(conn);
        }
        out
    }

    pub(super) fn notifier(&self, queue: &str) -> Arc<Notify> {
        let mut m = self.notify.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(queue.to_string()).or_default().clone()
    }

    pub(super) fn wake(&self, messages: &[OutMessage]) {
        // One receiver per message, not every waiter: a queue with many long
        // polls (activity workers) would otherwise do a read per waiter per
        // message. A receiver that was told but took nothing passes it on
        // (tokio forwards a dropped `notify_one`); delayed messages wake one
        // sleeper too, so it recomputes its deadline.
        for m in messages {
            self.notifier(&m.queue).notify_one();
        }
    }
}

/// The writer thread: takes a request, then whatever else is waiting (up to
/// GROUP_REQUESTS_MAX), runs each in a savepoint and commits them together.
fn writer(mut conn: Connection, rx: std::sync::mpsc::Receiver<Job>) {
    let mut synchronous_full = true;
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_REQUESTS_MAX {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let durable = group.iter().any(|j| j.durable);
        crate::telemetry::group_commit(group.len());
        if durable != synchronous_full {
            let mode = if durable { "FULL" } else { "NORMAL" };
            if conn.pragma_update(None, "synchronous", mode).is_ok() {
                synchronous_full = durable;
            }
        }
        let mut finishers = Vec::with_capacity(group.len());
        let committed = (|| -> Result<(), Error> {
            if durable && !synchronous_full {
                return Err(Error::Store("could not make the commit durable (synchronous=FULL)".into()));
            }
            // IMMEDIATE: the write lock is taken at BEGIN, where SQLite waits on
            // its busy handler. Taken later, by a statement already reading, a
            // busy lock (a reader briefly holding it to reread a torn WAL-index
            // header) fails at once with SQLITE_BUSY, and did: the "database is
            // locked" seen under the activities benchmark, ~3 runs in 10 of a
            // build of f409dd9, 0 in 14 with this change.
            let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
            for job in group.drain(..) {
                let mut sp = tx.savepoint().map_err(db)?;
                let (ok, finish) = (job.run)(Some(&sp));
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
            let (_, finish) = (job.run)(None);
            finish(Err(Error::Store("the group could not start".into())));
        }
    }
}
