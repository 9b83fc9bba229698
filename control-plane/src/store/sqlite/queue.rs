//! Queues on SQLite: messages with a visibility time, long polls woken by
//! in-process notifications.

// A store keeps its own clock for TTL and visibility, as DynamoDB and SQS do.
#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::{Sqlite, db, now_ms};
use crate::Error;
use crate::store::{OutMessage, Queue, Received};

/// How long a waiting receiver sleeps at most before looking again, in case
/// a message became visible without a notification (a hidden one reappearing).
const RECEIVE_RECHECK_MS_MAX: u64 = 1000;

pub(super) fn insert_messages(tx: &Connection, messages: &[OutMessage], now: i64) -> Result<(), Error> {
    let mut st = tx.prepare_cached("INSERT INTO messages (queue, visible_at, body) VALUES (?1, ?2, ?3)").map_err(db)?;
    for m in messages {
        st.execute(params![m.queue, now + m.delay_ms as i64, m.body]).map_err(db)?;
    }
    Ok(())
}

/// Received messages hidden (or deleted, not yet removed from the table),
/// kept in memory: a receive changes nothing durable, so it costs no write.
/// After a crash every message is visible again and is delivered again,
/// which the engine takes as a duplicate (deliveries are at least once).
#[derive(Default)]
pub(super) struct Hidden {
    /// Message id → (queue, visible again at, receives so far); `i64::MAX`: deleted.
    by_id: HashMap<i64, (String, i64, u32)>,
    /// Per queue, (visible again at, id) of the hidden messages not deleted,
    /// soonest first: a waiting receive asks for the next without scanning
    /// `by_id`, which holds a minute of deleted ids (a scan was 14% of the
    /// server's time under the activities benchmark).
    due: HashMap<String, BTreeSet<(i64, i64)>>,
    /// Deleted ids whose rows are yet to be removed, by the next group commit.
    deleted: Vec<i64>,
    /// Ids whose rows are gone, with when: kept hidden a while, because a
    /// receive may still read a row from a snapshot older than its removal.
    removed: std::collections::VecDeque<(i64, i64)>,
}

impl Hidden {
    /// A message no longer waiting to become visible (received again, or deleted).
    fn forget_due(&mut self, queue: &str, at: i64, id: i64) {
        if let Some(set) = self.due.get_mut(queue) {
            set.remove(&(at, id));
        }
    }
}

/// How long a removed message stays hidden: longer than any read.
const REMOVED_HIDDEN_MS: i64 = 60_000;

/// Hidden entries kept at most; past it, expired ones (visible again) are dropped.
const HIDDEN_MAX: usize = 100_000;
/// Rows a receive looks at beyond the ones it wants, to step over hidden ones.
pub(super) const HIDDEN_SCAN_ROWS: usize = 1_024;
/// Deletes waiting for a group commit at most; past it, one is made for them.
const DELETES_PENDING_MAX: usize = 1_024;

#[async_trait]
impl Queue for Sqlite {
    async fn backlog(&self) -> Result<Option<crate::store::Backlog>, Error> {
        let now = now_ms();
        let (messages, oldest): (i64, Option<i64>) = self
            .read(move |c| {
                c.query_row(
                    "SELECT COUNT(*), MIN(CASE WHEN visible_at <= ?1 THEN visible_at END) FROM messages",
                    params![now],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(db)
            })
            .await?;
        Ok(Some(crate::store::Backlog {
            messages: messages.max(0) as u64,
            oldest_due_age_ms: oldest.map(|t| (now - t).max(0)),
        }))
    }

    async fn depth(&self, queue: &str) -> Result<u64, Error> {
        let queue = queue.to_string();
        let n: i64 = self
            .read(move |c| {
                c.query_row("SELECT COUNT(*) FROM messages WHERE queue = ?1", params![queue], |r| r.get(0)).map_err(db)
            })
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn send(&self, messages: Vec<OutMessage>) -> Result<(), Error> {
        crate::store::check_messages(&messages)?;
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
        let max = max.clamp(1, crate::store::RECEIVE_MESSAGES_MAX);
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = now_ms();
            let q = queue.to_string();
            let rows = self.read(move |c| visible_rows(c, &q, now, max + HIDDEN_SCAN_ROWS)).await?;
            let got = self.hide(queue, rows, max, now, visibility.as_millis() as i64);
            if !got.is_empty() {
                return Ok(got);
            }
            let at = tokio::time::Instant::now();
            if at >= deadline {
                return Ok(Vec::new());
            }
            let q = queue.to_string();
            let next_row = self.read(move |c| next_visible(c, &q, now)).await?;
            let next = [next_row, self.next_hidden(queue, now)].into_iter().flatten().min();
            let mut until = deadline.min(at + Duration::from_millis(RECEIVE_RECHECK_MS_MAX));
            if let Some(next) = next {
                until = until.min(at + Duration::from_millis((next - now).max(0) as u64));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn receive_first(
        &self,
        sources: &[crate::store::Source<'_>],
        wait: Duration,
        visibility: Duration,
    ) -> Result<Option<(String, Received)>, Error> {
        self.receive_from_sources(sources, wait, visibility).await
    }

    async fn delete(&self, _queue: &str, receipt: &str) -> Result<(), Error> {
        let (id, receives) = receipt
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<u32>().ok()?)))
            .ok_or_else(|| Error::Store(format!("a malformed receipt: {receipt}")))?;
        let flush = {
            let mut guard = self.hidden.lock().unwrap_or_else(|p| p.into_inner());
            let h = &mut *guard;
            // A stale receipt (the message was received again since) deletes nothing, as in SQS.
            match h.by_id.get_mut(&id) {
                Some((q, at, r)) if *r == receives && *at != i64::MAX => {
                    let was = std::mem::replace(at, i64::MAX);
                    if let Some(set) = h.due.get_mut(q.as_str()) {
                        set.remove(&(was, id));
                    }
                    h.deleted.push(id);
                }
                _ => {}
            }
            h.deleted.len() >= DELETES_PENDING_MAX
        };
        if flush {
            self.write(|_| Ok(())).await?;
        }
        Ok(())
    }
}

impl Sqlite {
    /// Hides up to `max` of `rows` that are not hidden already; gives them.
    pub(super) fn hide(
        &self,
        queue: &str,
        rows: Vec<(i64, String, i64)>,
        max: usize,
        now: i64,
        vis: i64,
    ) -> Vec<Received> {
        let mut h = self.hidden.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(&(id, at)) = h.removed.front() {
            if at > now - REMOVED_HIDDEN_MS && h.removed.len() < HIDDEN_MAX {
                break;
            }
            h.removed.pop_front();
            h.by_id.remove(&id);
        }
        if h.by_id.len() >= HIDDEN_MAX {
            h.by_id.retain(|_, (_, at, _)| *at > now);
            for set in h.due.values_mut() {
                *set = set.split_off(&(now + 1, i64::MIN));
            }
        }
        let mut got = Vec::new();
        for (id, body, stored_receives) in rows {
            if got.len() >= max {
                break;
            }
            let receives = match h.by_id.get(&id) {
                Some((_, at, _)) if *at > now => continue, // hidden, or deleted
                Some((_, at, r)) => {
                    let (at, r) = (*at, *r);
                    h.forget_due(queue, at, id);
                    r + 1
                }
                None => stored_receives as u32 + 1,
            };
            h.by_id.insert(id, (queue.to_string(), now + vis, receives));
            if let Some(set) = h.due.get_mut(queue) {
                set.insert((now + vis, id));
            } else {
                h.due.insert(queue.to_string(), BTreeSet::from([(now + vis, id)]));
            }
            got.push(Received { body, receipt: format!("{id}:{receives}"), receive_count: receives });
        }
        got
    }

    /// When the next message of `queue` hidden by a receive becomes visible.
    pub(super) fn next_hidden(&self, queue: &str, now: i64) -> Option<i64> {
        let mut h = self.hidden.lock().unwrap_or_else(|p| p.into_inner());
        let set = h.due.get_mut(queue)?;
        // Those visible again by now are due no longer.
        while set.first().is_some_and(|(at, _)| *at <= now) {
            set.pop_first();
        }
        set.first().map(|(at, _)| *at)
    }

    /// Deletes waiting for a commit: the writer runs them in its next group.
    pub(super) fn take_deletes(&self) -> Vec<i64> {
        std::mem::take(&mut self.hidden.lock().unwrap_or_else(|p| p.into_inner()).deleted)
    }

    /// After the group holding them committed (or not), the deleted rows are forgotten (or retried).
    pub(super) fn deletes_done(&self, ids: Vec<i64>, committed: bool) {
        let mut h = self.hidden.lock().unwrap_or_else(|p| p.into_inner());
        if committed {
            let now = now_ms();
            h.removed.extend(ids.into_iter().map(|id| (id, now)));
        } else {
            h.deleted.extend(ids);
        }
    }
}

pub(super) fn delete_rows(c: &Connection, ids: &[i64]) -> Result<(), Error> {
    let mut st = c.prepare_cached("DELETE FROM messages WHERE id = ?1").map_err(db)?;
    for id in ids {
        st.execute(params![id]).map_err(db)?;
    }
    Ok(())
}

/// Messages of `queue` due by `now`, oldest first: (id, body, receives before this process).
pub(super) fn visible_rows(
    c: &Connection,
    queue: &str,
    now: i64,
    limit: usize,
) -> Result<Vec<(i64, String, i64)>, Error> {
    let mut st = c
        .prepare_cached(
            "SELECT id, body, receives FROM messages WHERE queue = ?1 AND visible_at <= ?2
             ORDER BY visible_at, id LIMIT ?3",
        )
        .map_err(db)?;
    st.query_map(params![queue, now, limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)
}

/// When the next delayed message of `queue` becomes due.
pub(super) fn next_visible(c: &Connection, queue: &str, now: i64) -> Result<Option<i64>, Error> {
    c.prepare_cached("SELECT MIN(visible_at) FROM messages WHERE queue = ?1 AND visible_at > ?2")
        .map_err(db)?
        .query_row(params![queue, now], |r| r.get(0))
        .map_err(db)
}
