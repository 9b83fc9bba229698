//! The DynamoDB side of the AWS backend: versioned items in one table,
//! written in transactions, with the claim check for big bodies.

// A store keeps its own clock for TTL and outbox age, as DynamoDB and SQS do.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};

use super::outbox::{OUTBOX_SHARDS, encode_outbox, outbox_pk};
use super::{Aws, CONFLICT_ATTEMPTS_MAX, CONFLICT_BACKOFF_MS, TTL_ATTRIBUTE, key, s, store_err};
use crate::Error;
use crate::store::claim::CLAIM_BYTES_MIN;
use crate::store::meter::Usage;
use crate::store::{Condition, Item, OutMessage, Page, QUERY_PAGE_ITEMS_MAX, Query, StepWrites, Store, Write};

/// An item's size as DynamoDB bills it: attribute names and values.
fn row_bytes(row: &HashMap<String, AttributeValue>) -> usize {
    let value = |v: &AttributeValue| match v {
        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
        AttributeValue::B(b) => b.as_ref().len(),
        _ => 1,
    };
    row.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// The billed size of a write: a put's item; deletes and checks as one unit.
pub(super) fn write_bytes(w: &Write, claim: Option<&String>) -> usize {
    match w {
        Write::Put { pk, sk, body, .. } => pk.len() + sk.len() + claim.map_or(body.len(), String::len) + 16,
        _ => 1,
    }
}

/// A condition as a DynamoDB condition expression and its values.
fn condition(c: Condition) -> (Option<String>, Option<HashMap<String, AttributeValue>>) {
    match c {
        Condition::None => (None, None),
        Condition::NotExists => (Some("attribute_not_exists(pk)".into()), None),
        Condition::Exists => (Some("attribute_exists(pk)".into()), None),
        Condition::Version(v) => {
            (Some("v = :cv".into()), Some(HashMap::from([(":cv".to_string(), AttributeValue::N(v.to_string()))])))
        }
    }
}

/// An item as stored: its body, or the S3 key of its body (the claim check).
fn row_of(mut m: HashMap<String, AttributeValue>) -> Result<(Item, Option<String>), Error> {
    let text = |m: &mut HashMap<String, AttributeValue>, k: &str| match m.remove(k) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(Error::Corrupt(format!("an item without '{k}'"))),
    };
    let pk = text(&mut m, "pk")?;
    let sk = text(&mut m, "sk")?;
    let version = match m.remove("v") {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| Error::Corrupt(format!("version '{n}'")))?,
        _ => 0,
    };
    let body = match m.remove("b") {
        Some(AttributeValue::B(b)) => b.into_inner(),
        _ => Vec::new(),
    };
    let claim = match m.remove("c") {
        Some(AttributeValue::S(c)) => Some(c),
        _ => None,
    };
    Ok((Item { pk, sk, version, body }, claim))
}

impl Aws {
    /// One write as a transaction item; `claim` is the S3 key that stands in for a Put's body.
    pub(super) fn write_item(&self, w: Write, claim: Option<String>) -> Result<TransactWriteItem, Error> {
        let b = TransactWriteItem::builder();
        Ok(match w {
            Write::Put { pk, sk, body, condition: c, expires_s } => {
                let (expr, mut values) = condition(c);
                let vals = values.get_or_insert_with(HashMap::new);
                vals.insert(":one".into(), AttributeValue::N("1".into()));
                let (mut set, remove) = match claim {
                    Some(k) => {
                        vals.insert(":c".into(), s(&k));
                        ("SET c = :c".to_string(), "b")
                    }
                    None => {
                        vals.insert(":b".into(), AttributeValue::B(body.into()));
                        ("SET b = :b".to_string(), "c")
                    }
                };
                if let Some(at) = expires_s {
                    // The table's TTL attribute (localstack/bootstrap.sh, infra/terraform).
                    vals.insert(":x".into(), AttributeValue::N(at.to_string()));
                    set.push_str(&format!(", {TTL_ATTRIBUTE} = :x"));
                }
                let update = format!("{set} REMOVE {remove} ADD v :one");
                let u = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&pk, &sk)))
                    .update_expression(update)
                    .set_condition_expression(expr)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(store_err)?;
                b.update(u).build()
            }
            Write::Delete { pk, sk, condition: c } => {
                let (expr, values) = condition(c);
                let d = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&pk, &sk)))
                    .set_condition_expression(expr)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(store_err)?;
                b.delete(d).build()
            }
            Write::Check { pk, sk, condition: c } => {
                let (expr, values) = condition(c);
                let cc = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(&pk, &sk)))
                    .condition_expression(
                        expr.unwrap_or_else(|| "attribute_exists(pk) OR attribute_not_exists(pk)".into()),
                    )
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(store_err)?;
                b.condition_check(cc).build()
            }
        })
    }

    /// Puts a big body in S3 before the transaction that refers to it.
    pub(super) async fn claim(&self, w: &Write) -> Result<Option<String>, Error> {
        match (w, &self.claims) {
            (Write::Put { body, .. }, Some(c)) if body.len() >= CLAIM_BYTES_MIN => {
                self.meter.s3_put();
                c.put(body).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Fetches a claimed body back from S3.
    async fn resolve(&self, (mut item, claim): (Item, Option<String>)) -> Result<Item, Error> {
        let Some(key) = claim else { return Ok(item) };
        let claims = self.claims.as_ref().ok_or_else(|| {
            Error::Store(format!("item {} {} is kept in S3, but no payload bucket is configured", item.pk, item.sk))
        })?;
        self.meter.s3_get();
        item.body = claims.get(&key).await?;
        Ok(item)
    }

    /// One TransactWriteItems. A transaction that collides with a concurrent
    /// one on the same item (DynamoDB cancels it with `TransactionConflict`)
    /// is tried again a few times; a failed condition is the caller's to handle.
    async fn transact_items(&self, items: Vec<TransactWriteItem>, sizes: &[usize]) -> Result<(), Error> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        for attempt in 1..=CONFLICT_ATTEMPTS_MAX {
            self.meter.transact(sizes.iter().copied());
            let r = self.dynamodb.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let Err(e) = r else { return Ok(()) };
            let reasons: Vec<String> = match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(t)) => {
                    t.cancellation_reasons().iter().filter_map(|r| r.code().map(str::to_string)).collect()
                }
                _ => Vec::new(),
            };
            if reasons.iter().any(|r| r == "ConditionalCheckFailed") {
                return Err(Error::ConditionFailed("a transaction".into()));
            }
            let conflict = reasons.iter().any(|r| r == "TransactionConflict")
                || e.as_service_error()
                    .is_some_and(|s| matches!(s, TransactWriteItemsError::TransactionInProgressException(_)));
            if !conflict || attempt == CONFLICT_ATTEMPTS_MAX {
                return Err(store_err(e));
            }
            tokio::time::sleep(Duration::from_millis(CONFLICT_BACKOFF_MS * attempt as u64)).await;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for Aws {
    fn take_usage(&self) -> Option<Usage> {
        Some(self.meter.take())
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, Error> {
        let r = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_err)?;
        self.meter.read(r.item.as_ref().map_or(0, row_bytes));
        match r.item {
            Some(m) => self.resolve(row_of(m)?).await.map(Some),
            None => Ok(None),
        }
    }

    async fn query(&self, q: Query) -> Result<Page, Error> {
        let limit = q.limit.clamp(1, QUERY_PAGE_ITEMS_MAX);
        let mut req = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .scan_index_forward(!q.descending)
            .limit(limit as i32)
            .expression_attribute_values(":pk", s(&q.pk));
        req = if q.sk_prefix.is_empty() {
            req.key_condition_expression("pk = :pk")
        } else {
            req.key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":p", s(&q.sk_prefix))
        };
        if let Some(after) = &q.after {
            req = req.set_exclusive_start_key(Some(key(&q.pk, after)));
        }
        let r = req.send().await.map_err(store_err)?;
        self.meter.read(r.items().iter().map(row_bytes).sum());
        let mut items = Vec::new();
        for m in r.items.unwrap_or_default() {
            items.push(self.resolve(row_of(m)?).await?);
        }
        let last = match r.last_evaluated_key {
            Some(mut k) => match k.remove("sk") {
                Some(AttributeValue::S(s)) => Some(s),
                _ => None,
            },
            None => None,
        };
        Ok(Page { items, last })
    }

    async fn transact(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error> {
        crate::store::check_transaction(&writes, &outbox)?;
        let mut items = Vec::with_capacity(writes.len() + 1);
        let mut sizes = Vec::with_capacity(writes.len() + 1);
        for w in writes {
            let claim = self.claim(&w).await?;
            sizes.push(write_bytes(&w, claim.as_ref()));
            items.push(self.write_item(w, claim)?);
        }
        let outbox_key = (!outbox.is_empty()).then(|| {
            let now = crate::clock::now_ms();
            let id = uuid::Uuid::new_v4();
            (outbox_pk(id.as_u128() as u32 % OUTBOX_SHARDS), format!("{now:015}#{id}"))
        });
        if let Some((pk, sk)) = &outbox_key {
            let body = encode_outbox(&outbox);
            let put = Write::Put { pk: pk.clone(), sk: sk.clone(), body, condition: Condition::None, expires_s: None };
            let claim = self.claim(&put).await?;
            sizes.push(write_bytes(&put, claim.as_ref()));
            items.push(self.write_item(put, claim)?);
        }
        if items.len() > crate::store::TRANSACT_ITEMS_MAX {
            return Err(Error::Limit(format!("a transaction of {} items with its outbox", items.len())));
        }
        self.transact_items(items, &sizes).await?;
        if let Some((pk, sk)) = outbox_key {
            // Committed: send, then forget the outbox item. A failure here
            // leaves the item for flush_outbox; the commit stands.
            if self.fault.after_commit {
                return Ok(()); // as if the process died before sending
            }
            match self.send_now(&outbox).await {
                Ok(()) if self.fault.after_send => {} // died before forgetting the item
                Ok(()) => {
                    if let Err(e) = self.forget_outbox(&pk, &sk).await {
                        tracing::warn!(error = %e, "a sent outbox item was not deleted; the sweeper will send it again");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "outbox send failed; the sweeper will retry"),
            }
        }
        Ok(())
    }

    async fn transact_steps(&self, step: StepWrites) -> Result<(), Error> {
        self.transact_with_entries(step).await
    }

    async fn flush_outbox(&self, older_than_ms: i64) -> Result<usize, Error> {
        let mut sent = 0;
        for shard in 0..OUTBOX_SHARDS {
            sent += self.flush_shard(outbox_pk(shard), older_than_ms).await?;
        }
        Ok(sent)
    }
}
