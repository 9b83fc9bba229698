//! A step's list entries as BatchWriteItem requests, several in flight:
//! they need no transaction (see [`StepWrites::entries`]), and a
//! transaction of 100 costs twice the units and runs one at a time. A step
//! that lists thousands of EXPRESS children outlasted its Lambda that way.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::StreamExt;

use super::{Aws, TTL_ATTRIBUTE, key, s, store_err};
use crate::Error;
use crate::store::{Condition, StepWrites, Write};

/// DynamoDB's BatchWriteItem limit.
const BATCH_WRITE_ITEMS_MAX: usize = 25;
/// Batches one step keeps in flight at once.
const BATCHES_IN_FLIGHT_MAX: usize = 8;
/// Tries of a batch's unprocessed items (DynamoDB throttled them).
const UNPROCESSED_ATTEMPTS_MAX: u64 = 8;
/// Backoff before trying unprocessed items again, times the attempt number.
const UNPROCESSED_BACKOFF_MS: u64 = 50;

impl Aws {
    /// Writes `entries` in batches, then the rest of the step in order.
    pub(super) async fn transact_with_entries(&self, mut step: StepWrites) -> Result<(), Error> {
        let entries = std::mem::take(&mut step.entries);
        let mut requests = Vec::with_capacity(entries.len());
        for w in entries {
            requests.push(self.put_request(w).await?);
        }
        let batches: Vec<Vec<(WriteRequest, usize)>> =
            requests.chunks(BATCH_WRITE_ITEMS_MAX).map(<[_]>::to_vec).collect();
        let mut done =
            futures::stream::iter(batches).map(|b| self.batch_write(b)).buffer_unordered(BATCHES_IN_FLIGHT_MAX);
        while let Some(r) = done.next().await {
            r?;
        }
        crate::store::transact_in_order(self, step).await
    }

    /// An unconditioned put as a whole item, with its billed size. Its
    /// version restarts at 1: entries are never read by version.
    async fn put_request(&self, w: Write) -> Result<(WriteRequest, usize), Error> {
        let claim = self.claim(&w).await?;
        let bytes = super::items::write_bytes(&w, claim.as_ref());
        let Write::Put { pk, sk, body, condition: Condition::None, expires_s } = w else {
            return Err(Error::Store("a list entry is an unconditioned put".into()));
        };
        let mut item: HashMap<String, AttributeValue> = key(&pk, &sk);
        item.insert("v".into(), AttributeValue::N("1".into()));
        match claim {
            Some(c) => item.insert("c".into(), s(&c)),
            None => item.insert("b".into(), AttributeValue::B(body.into())),
        };
        if let Some(at) = expires_s {
            item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(at.to_string()));
        }
        let put = PutRequest::builder().set_item(Some(item)).build().map_err(store_err)?;
        Ok((WriteRequest::builder().put_request(put).build(), bytes))
    }

    /// One BatchWriteItem, and its unprocessed items again until none are left.
    async fn batch_write(&self, batch: Vec<(WriteRequest, usize)>) -> Result<(), Error> {
        let (mut pending, sizes): (Vec<WriteRequest>, Vec<usize>) = batch.into_iter().unzip();
        self.meter.batch_write(sizes.into_iter());
        for attempt in 1..=UNPROCESSED_ATTEMPTS_MAX {
            let r = self.dynamodb.batch_write_item().request_items(&self.table, pending).send().await;
            let r = r.map_err(store_err)?;
            pending = r.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(UNPROCESSED_BACKOFF_MS * attempt)).await;
        }
        Err(Error::Store(format!("{} list entries stayed unprocessed (throttled)", pending.len())))
    }
}
