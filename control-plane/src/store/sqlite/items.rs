//! The item store on SQLite: conditional, versioned writes in one transaction.

// A store keeps its own clock for TTL and visibility, as DynamoDB and SQS do.
#![allow(clippy::disallowed_methods)]

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Sqlite, db, now_ms};
use crate::Error;
use crate::store::{Condition, Item, OutMessage, Page, QUERY_PAGE_ITEMS_MAX, Query, StepWrites, Store, Write};

fn version_of(tx: &Connection, pk: &str, sk: &str) -> Result<Option<u64>, Error> {
    // Cached: every conditional write runs it, and preparing costs more than the lookup.
    tx.prepare_cached("SELECT version FROM items WHERE pk = ?1 AND sk = ?2")
        .map_err(db)?
        .query_row(params![pk, sk], |r| r.get::<_, i64>(0))
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
                .map(|o| {
                    o.map(|(version, body)| Item { pk: pk.clone(), sk: sk.clone(), version: version as u64, body })
                })
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
        crate::store::check_transaction(&writes, &outbox)?;
        let wake = outbox.clone();
        self.write(move |tx| {
            apply(tx, &writes)?;
            super::queue::insert_messages(tx, &outbox, now_ms())
        })
        .await?;
        self.wake(&wake);
        Ok(())
    }

    async fn transact_relaxed(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error> {
        crate::store::check_transaction(&writes, &outbox)?;
        let wake = outbox.clone();
        self.write_relaxed(move |tx| {
            apply(tx, &writes)?;
            super::queue::insert_messages(tx, &outbox, now_ms())
        })
        .await?;
        self.wake(&wake);
        Ok(())
    }

    /// One transaction, one durable write, for all three parts: the item
    /// limit binds only the main part, as in the AWS backend.
    async fn transact_steps(&self, step: StepWrites) -> Result<(), Error> {
        let StepWrites { entries, before, writes, outbox, after } = step;
        crate::store::check_transaction(&writes, &outbox)?;
        let unatomic = || entries.iter().chain(&before).chain(&after);
        if let Some(w) = unatomic().find(|w| w.bytes() > crate::store::ITEM_BYTES_MAX) {
            return Err(Error::Limit(format!("an item of {} bytes", w.bytes())));
        }
        let wake = outbox.clone();
        self.write(move |tx| {
            apply(tx, &entries)?;
            apply(tx, &before)?;
            apply(tx, &writes)?;
            apply(tx, &after)?;
            super::queue::insert_messages(tx, &outbox, now_ms())
        })
        .await?;
        self.wake(&wake);
        Ok(())
    }
}

/// Applies writes in order; a failed condition fails them all.
fn apply(tx: &rusqlite::Connection, writes: &[Write]) -> Result<(), Error> {
    for w in writes {
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
    Ok(())
}
