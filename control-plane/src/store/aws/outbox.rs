//! The outbox's second chance: items of commits whose send was lost.

// A store keeps its own clock for TTL and outbox age, as DynamoDB and SQS do.
#![allow(clippy::disallowed_methods)]

use super::{Aws, key, store_err};
use crate::Error;
use crate::store::{OutMessage, Query, Store};

/// Partitions of pending outbox items: every commit with messages writes and
/// deletes one, more than one DynamoDB partition's ~1,000 writes a second.
pub(super) const OUTBOX_SHARDS: u32 = 16;

pub(super) fn outbox_pk(shard: u32) -> String {
    format!("OUTBOX#{shard:02}")
}
/// Outbox items one flush sends at most.
const FLUSH_ITEMS_MAX: usize = 100;

impl Aws {
    /// Sends one outbox shard's items older than the grace, oldest first.
    pub(super) async fn flush_shard(&self, pk: String, older_than_ms: i64) -> Result<usize, Error> {
        let q = Query { pk, sk_prefix: String::new(), after: None, limit: FLUSH_ITEMS_MAX, descending: false };
        let page = self.query(q).await?;
        let now = crate::clock::now_ms();
        let mut sent = 0;
        for item in page.items {
            let at: i64 = item.sk.split('#').next().and_then(|t| t.parse().ok()).unwrap_or(0);
            if at > now - older_than_ms {
                break;
            }
            // Delays count from the commit, not from this late send.
            let late_ms = u64::try_from(now - at).unwrap_or(0);
            let mut messages = decode_outbox(&item.body)?;
            for m in &mut messages {
                m.delay_ms = m.delay_ms.saturating_sub(late_ms);
            }
            self.send_now(&messages).await?;
            self.forget_outbox(&item.pk, &item.sk).await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Deletes a sent outbox item: a plain delete (half a transactional one's units).
    pub(super) async fn forget_outbox(&self, pk: &str, sk: &str) -> Result<(), Error> {
        self.meter.write(1);
        self.dynamodb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .map_err(store_err)?;
        Ok(())
    }
}

pub(super) fn encode_outbox(messages: &[OutMessage]) -> Vec<u8> {
    let v: Vec<serde_json::Value> =
        messages.iter().map(|m| serde_json::json!({"queue": m.queue, "body": m.body, "delayMs": m.delay_ms})).collect();
    serde_json::to_vec(&v).unwrap_or_default()
}

fn decode_outbox(body: &[u8]) -> Result<Vec<OutMessage>, Error> {
    let v: Vec<serde_json::Value> = serde_json::from_slice(body).map_err(|e| Error::Corrupt(e.to_string()))?;
    Ok(v.into_iter()
        .map(|m| OutMessage {
            queue: m["queue"].as_str().unwrap_or_default().to_string(),
            body: m["body"].as_str().unwrap_or_default().to_string(),
            delay_ms: m["delayMs"].as_u64().unwrap_or(0),
        })
        .collect())
}
