//! The AWS backend: items in one DynamoDB table, queues in SQS.
//!
//! DynamoDB and SQS share no transaction, so a commit's outbox is an item
//! written in the same TransactWriteItems as the commit; after the commit
//! the messages go to SQS and the outbox item is deleted. If the process dies
//! in between, [`Store::flush_outbox`] (run by the sweeper) sends them later:
//! messages are wake-ups, so a second delivery is harmless.
//!
//! `items.rs` is the DynamoDB side (the `Store`), `sqs.rs` the queues,
//! `outbox.rs` the outbox's flush.

mod batch;
mod items;
mod outbox;
mod sqs;

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;

use super::claim::Claims;
use super::fault::Faults;
use super::meter::Meter;
use crate::Error;

/// The attribute DynamoDB's TTL deletes items by (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Tries of a transaction that collides with a concurrent one.
const CONFLICT_ATTEMPTS_MAX: usize = 5;
/// Backoff between those tries, times the attempt number.
const CONFLICT_BACKOFF_MS: u64 = 20;

pub struct Aws {
    /// Test-only faults (`fault.rs`).
    fault: Faults,
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

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// The whole error chain: an SDK error's Display alone says only "service error".
fn store_err(e: impl std::error::Error) -> Error {
    Error::Store(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
}

impl Aws {
    /// `payload_bucket` turns the claim check on (see [`super::claim`]).
    pub fn new(
        conf: &aws_config::SdkConfig,
        table: String,
        queue_prefix: String,
        payload_bucket: Option<String>,
    ) -> Aws {
        let fault = Faults::from_env();
        if fault.any() {
            tracing::warn!(fault = ?fault, "fault injection is on: messages will not be sent normally");
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
}
