//! The AWS backend: items in one DynamoDB table, queues in SQS.
//!
//! DynamoDB and SQS share no transaction, so a commit's outbox is an item
//! written in the same TransactWriteItems as the commit; after the commit
//! the messages go to SQS and the outbox item is deleted. If the process dies
//! in between, [`Store::flush_outbox`] (run by the sweeper) sends them later:
//! messages are wake-ups, so a second delivery is harmless.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};

use super::claim::{CLAIM_BYTES_MIN, Claims};
use super::meter::{Meter, Usage};
use super::{
    Condition, Item, OutMessage, Page, QUERY_PAGE_ITEMS_MAX, Query, Queue, RECEIVE_MESSAGES_MAX, RECEIVE_WAIT_MS_MAX,
    Received, Store, Write,
};
use crate::Error;
use crate::engine::sha256_hex;

/// The attribute DynamoDB's TTL deletes items by (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Partitions of pending outbox items: every commit with messages writes and
/// deletes one, more than one DynamoDB partition's ~1,000 writes a second.
const OUTBOX_SHARDS: u32 = 16;

fn outbox_pk(shard: u32) -> String {
    format!("OUTBOX#{shard:02}")
}
/// SQS's largest SendMessageBatch.
const SEND_BATCH_MAX: usize = 10;
/// Outbox items one flush sends at most.
const FLUSH_ITEMS_MAX: usize = 100;
/// Tries of a transaction that collides with a concurrent one.
const CONFLICT_ATTEMPTS_MAX: usize = 5;
/// Backoff between those tries, times the attempt number.
const CONFLICT_BACKOFF_MS: u64 = 20;

/// Test-only crash points between a commit and its messages
/// (`STEPWISE_FAULT_INJECTION=after-commit|after-send`): the process behaves
/// as if it died there, so the sweeper's recovery can be tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Committed; the outbox was never sent.
    AfterCommit,
    /// Committed and sent; the outbox item was never deleted (a second send follows).
    AfterSend,
}

impl Fault {
    fn from_env() -> Option<Fault> {
        match std::env::var("STEPWISE_FAULT_INJECTION").ok()?.as_str() {
            "after-commit" => Some(Fault::AfterCommit),
            "after-send" => Some(Fault::AfterSend),
            _ => None,
        }
    }
}

pub struct Aws {
    fault: Option<Fault>,
    /// Big bodies go to S3 when a payload bucket is configured.
    claims: Option<Claims>,
    meter: Meter,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    queue_prefix: String,
    /// Queue name to URL, resolved (or created) once.
    urls: Mutex<HashMap<String, String>>,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

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
fn write_bytes(w: &Write, claim: Option<&String>) -> usize {
    match w {
        Write::Put { pk, sk, body, .. } => pk.len() + sk.len() + claim.map_or(body.len(), String::len) + 16,
        _ => 1,
    }
}

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// The whole error chain: an SDK error's Display alone says only "service error".
fn store_err(e: impl std::error::Error) -> Error {
    Error::Store(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
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
    /// `payload_bucket` turns the claim check on (see [`super::claim`]).
    pub fn new(
        conf: &aws_config::SdkConfig,
        table: String,
        queue_prefix: String,
        payload_bucket: Option<String>,
    ) -> Aws {
        let fault = Fault::from_env();
        if let Some(f) = fault {
            tracing::warn!(fault = ?f, "fault injection is on: commits will not send their messages normally");
        }
        Aws {
            fault,
            claims: payload_bucket.map(|b| Claims::new(conf, b)),
            meter: Meter::default(),
            dynamodb: aws_sdk_dynamodb::Client::new(conf),
            sqs: aws_sdk_sqs::Client::new(conf),
            table,
            queue_prefix,
            urls: Mutex::default(),
        }
    }

    /// SQS queue names allow `[A-Za-z0-9_-]{1,80}`: activity queues get a hash.
    pub fn queue_name(&self, queue: &str) -> String {
        match queue.strip_prefix("activity#") {
            Some(arn) => format!("{}act-{}", self.queue_prefix, &sha256_hex(arn.as_bytes())[..32]),
            None => format!("{}{queue}", self.queue_prefix),
        }
    }

    async fn url(&self, queue: &str) -> Result<String, Error> {
        if let Some(u) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(queue) {
            return Ok(u.clone());
        }
        let name = self.queue_name(queue);
        // CreateQueue is idempotent; activity queues come and go with activities.
        self.meter.sqs(0);
        let url = self.sqs.create_queue().queue_name(&name).send().await.map_err(store_err)?.queue_url;
        let url = url.ok_or_else(|| Error::Store(format!("no URL for queue {name}")))?;
        self.urls.lock().unwrap_or_else(|p| p.into_inner()).insert(queue.to_string(), url.clone());
        Ok(url)
    }

    /// One write as a transaction item; `claim` is the S3 key that stands in for a Put's body.
    fn write_item(&self, w: Write, claim: Option<String>) -> Result<TransactWriteItem, Error> {
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
    async fn claim(&self, w: &Write) -> Result<Option<String>, Error> {
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

    async fn send_now(&self, messages: &[OutMessage]) -> Result<(), Error> {
        let mut by_queue: HashMap<&str, Vec<&OutMessage>> = HashMap::new();
        for m in messages {
            by_queue.entry(m.queue.as_str()).or_default().push(m);
        }
        for (queue, ms) in by_queue {
            let url = self.url(queue).await?;
            for chunk in ms.chunks(SEND_BATCH_MAX) {
                let entries = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(&m.body)
                            .delay_seconds(crate::clock::real_delay_ms(m.delay_ms).div_ceil(1000) as i32)
                            .build()
                            .map_err(store_err)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.meter.sqs(chunk.iter().map(|m| m.body.len()).sum());
                let r = self
                    .sqs
                    .send_message_batch()
                    .queue_url(&url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(store_err)?;
                if !r.failed.is_empty() {
                    return Err(Error::Store(format!("SQS refused {} messages", r.failed.len())));
                }
            }
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
        super::check_transaction(&writes, &outbox)?;
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
        if items.len() > super::TRANSACT_ITEMS_MAX {
            return Err(Error::Limit(format!("a transaction of {} items with its outbox", items.len())));
        }
        self.transact_items(items, &sizes).await?;
        if let Some((pk, sk)) = outbox_key {
            // Committed: send, then forget the outbox item. A failure here
            // leaves the item for flush_outbox; the commit stands.
            if self.fault == Some(Fault::AfterCommit) {
                return Ok(()); // as if the process died before sending
            }
            match self.send_now(&outbox).await {
                Ok(()) if self.fault == Some(Fault::AfterSend) => {} // died before forgetting the item
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

    async fn flush_outbox(&self, older_than_ms: i64) -> Result<usize, Error> {
        let mut sent = 0;
        for shard in 0..OUTBOX_SHARDS {
            sent += self.flush_shard(outbox_pk(shard), older_than_ms).await?;
        }
        Ok(sent)
    }
}

impl Aws {
    /// Sends one outbox shard's items older than the grace, oldest first.
    async fn flush_shard(&self, pk: String, older_than_ms: i64) -> Result<usize, Error> {
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
    async fn forget_outbox(&self, pk: &str, sk: &str) -> Result<(), Error> {
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

fn encode_outbox(messages: &[OutMessage]) -> Vec<u8> {
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

#[async_trait]
impl Queue for Aws {
    async fn send(&self, messages: Vec<OutMessage>) -> Result<(), Error> {
        super::check_messages(&messages)?;
        self.send_now(&messages).await
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> Result<Vec<Received>, Error> {
        let url = self.url(queue).await?;
        let wait_s = wait.as_millis().min(u128::from(RECEIVE_WAIT_MS_MAX)) as i32 / 1000;
        let r = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, RECEIVE_MESSAGES_MAX) as i32)
            .wait_time_seconds(wait_s)
            .visibility_timeout(visibility.as_secs().max(1) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(store_err)?;
        let bytes = r.messages().iter().map(|m| m.body().map_or(0, str::len)).sum();
        self.meter.sqs(bytes);
        Ok(r.messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                receive_count: m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                body: m.body.unwrap_or_default(),
                receipt: m.receipt_handle.unwrap_or_default(),
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), Error> {
        let url = self.url(queue).await?;
        self.meter.sqs(0);
        self.sqs.delete_message().queue_url(url).receipt_handle(receipt).send().await.map_err(store_err)?;
        Ok(())
    }
}
