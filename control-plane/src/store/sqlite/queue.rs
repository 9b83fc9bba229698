//! Queues on SQLite: messages with a visibility time, long polls woken by
//! in-process notifications.

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

#[async_trait]
impl Queue for Sqlite {
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
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (q, vis) = (queue.to_string(), visibility.as_millis() as i64);
            let max = max.clamp(1, crate::store::RECEIVE_MESSAGES_MAX);
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
