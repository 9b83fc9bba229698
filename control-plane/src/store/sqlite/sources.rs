//! One receive over several places, first that has a message wins: a
//! worker's own queue of sticky workflow tasks, the sticky tasks other
//! workers left waiting too long, and the shared queue. All are read in one
//! trip to a reader, so a sticky poll costs about what a plain one does.

// A store keeps its own clock for TTL and visibility, as DynamoDB and SQS do.
#![allow(clippy::disallowed_methods)]

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::Notify;

use super::queue::{HIDDEN_SCAN_ROWS, next_visible, visible_rows};
use super::{Sqlite, db, now_ms};
use crate::Error;
use crate::store::{Received, Source};

/// How long a waiting receive sleeps at most before looking again: a stale
/// message comes due without a notification.
const SOURCES_RECHECK_MS_MAX: u64 = 1000;
/// Sources one receive reads at most (a sticky poll reads three).
const SOURCES_MAX: usize = 4;

/// A source the reader thread can own.
#[derive(Clone)]
enum Owned {
    Queue(String),
    Stale { low: String, high: String, age_ms: i64 },
}

/// A due row: (queue, id, body, receives before this process).
type Row = (String, i64, String, i64);

impl Sqlite {
    pub(super) async fn receive_from_sources(
        &self,
        sources: &[Source<'_>],
        wait: Duration,
        visibility: Duration,
    ) -> Result<Option<(String, Received)>, Error> {
        assert!(sources.len() <= SOURCES_MAX, "a receive reads at most {SOURCES_MAX} sources");
        let owned: Vec<Owned> = sources.iter().map(own).collect();
        let queues: Vec<String> =
            owned.iter().filter_map(|s| if let Owned::Queue(q) = s { Some(q.clone()) } else { None }).collect();
        assert!(!queues.is_empty(), "a receive waits on at least one queue's notifications");
        let deadline = tokio::time::Instant::now() + wait;
        let vis = visibility.as_millis() as i64;
        // The queue whose notification woke the last wait: passed on if this
        // receive takes from another, so its message still wakes someone.
        let mut woken: Option<usize> = None;
        loop {
            let notifies: Vec<Arc<Notify>> = queues.iter().map(|q| self.notifier(q)).collect();
            let mut notified: Vec<_> = notifies.iter().map(|n| Box::pin(n.notified())).collect();
            for n in &mut notified {
                n.as_mut().enable();
            }
            let now = now_ms();
            let srcs = owned.clone();
            let rows =
                self.read(move |c| srcs.iter().map(|s| due_rows(c, s, now)).collect::<Result<Vec<_>, _>>()).await?;
            for (queue, id, body, receives) in rows.into_iter().flatten() {
                if let Some(m) = self.hide(&queue, vec![(id, body, receives)], 1, now, vis).pop() {
                    if let Some(i) = woken.filter(|&i| queues[i] != queue) {
                        notifies[i].notify_one();
                    }
                    return Ok(Some((queue, m)));
                }
            }
            let at = tokio::time::Instant::now();
            if at >= deadline {
                return Ok(None);
            }
            let until = deadline.min(at + Duration::from_millis(self.next_due_in(&owned, now).await?));
            let any = std::future::poll_fn(|cx| {
                for (i, n) in notified.iter_mut().enumerate() {
                    if n.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Some(i));
                    }
                }
                Poll::Pending
            });
            woken = tokio::select! {
                i = any => i,
                () = tokio::time::sleep_until(until) => None,
            };
        }
    }

    /// How long until a source may have a message due without a notification
    /// (a delayed or hidden one, a stale one), capped at the recheck.
    async fn next_due_in(&self, owned: &[Owned], now: i64) -> Result<u64, Error> {
        let srcs = owned.to_vec();
        let rows = self.read(move |c| srcs.iter().map(|s| next_due(c, s, now)).collect::<Result<Vec<_>, _>>()).await?;
        let hidden = owned.iter().filter_map(|s| match s {
            Owned::Queue(q) => self.next_hidden(q, now),
            Owned::Stale { .. } => None,
        });
        let next = rows.into_iter().flatten().chain(hidden).min();
        Ok(next.map_or(SOURCES_RECHECK_MS_MAX, |t| ((t - now).max(0) as u64).min(SOURCES_RECHECK_MS_MAX)))
    }
}

fn own(s: &Source<'_>) -> Owned {
    match *s {
        Source::Queue(q) => Owned::Queue(q.to_string()),
        Source::Stale { prefix, age_ms } => Owned::Stale { low: prefix.to_string(), high: prefix_end(prefix), age_ms },
    }
}

/// The least name above every name that starts with `prefix`.
fn prefix_end(prefix: &str) -> String {
    let mut high = prefix.to_string();
    let last = high.pop().expect("a stale source names a non-empty prefix");
    high.push(char::from_u32(last as u32 + 1).expect("a prefix ends in a character with a successor"));
    high
}

fn due_rows(c: &Connection, s: &Owned, now: i64) -> Result<Vec<Row>, Error> {
    let limit = 1 + HIDDEN_SCAN_ROWS;
    match s {
        Owned::Queue(q) => Ok(visible_rows(c, q, now, limit)?
            .into_iter()
            .map(|(id, body, receives)| (q.clone(), id, body, receives))
            .collect()),
        Owned::Stale { low, high, age_ms } => {
            let mut st = c
                .prepare_cached(
                    "SELECT queue, id, body, receives FROM messages
                     WHERE queue > ?1 AND queue < ?2 AND visible_at <= ?3 ORDER BY visible_at, id LIMIT ?4",
                )
                .map_err(db)?;
            st.query_map(params![low, high, now - age_ms, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)
        }
    }
}

/// When a source's next message not yet due (or not yet stale) becomes so.
fn next_due(c: &Connection, s: &Owned, now: i64) -> Result<Option<i64>, Error> {
    match s {
        Owned::Queue(q) => next_visible(c, q, now),
        Owned::Stale { low, high, age_ms } => {
            let mut st = c
                .prepare_cached(
                    "SELECT MIN(visible_at) FROM messages WHERE queue > ?1 AND queue < ?2 AND visible_at > ?3",
                )
                .map_err(db)?;
            let oldest: Option<i64> = st.query_row(params![low, high, now - age_ms], |r| r.get(0)).map_err(db)?;
            Ok(oldest.map(|t| t + age_ms))
        }
    }
}
