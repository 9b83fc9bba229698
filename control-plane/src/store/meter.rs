//! What the AWS backend spends, counted as AWS bills it, so that the cost
//! per state transition is measured (BENCHMARKS.md) and not guessed.
//!
//! DynamoDB units are computed from item sizes by AWS's published rules
//! (on-demand, strongly consistent reads): a read unit per 4 KB read, a write
//! unit per 1 KB written, both doubled inside transactions. The emulator
//! (LocalStack's moto) does not report consumed capacity faithfully, and
//! computing it here gives the same figures on any endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

const READ_UNIT_BYTES: usize = 4 * 1024;
const WRITE_UNIT_BYTES: usize = 1024;
/// SQS bills a request per 64 KB of payload.
const SQS_CHUNK_BYTES: usize = 64 * 1024;

/// Counts since the last [`Meter::take`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub dynamodb_read_units: u64,
    pub dynamodb_write_units: u64,
    pub dynamodb_requests: u64,
    pub sqs_requests: u64,
    pub s3_puts: u64,
    pub s3_gets: u64,
}

#[derive(Debug, Default)]
pub struct Meter {
    read_units: AtomicU64,
    write_units: AtomicU64,
    dynamodb_requests: AtomicU64,
    sqs_requests: AtomicU64,
    s3_puts: AtomicU64,
    s3_gets: AtomicU64,
}

fn units(bytes: usize, unit: usize) -> u64 {
    bytes.div_ceil(unit).max(1) as u64
}

impl Meter {
    /// A strongly consistent read (GetItem, or one Query page) of `bytes` in all.
    pub fn read(&self, bytes: usize) {
        self.read_units.fetch_add(units(bytes, READ_UNIT_BYTES), Ordering::Relaxed);
        self.dynamodb_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// One plain write (PutItem, DeleteItem) of `bytes`.
    pub fn write(&self, bytes: usize) {
        self.write_units.fetch_add(units(bytes, WRITE_UNIT_BYTES), Ordering::Relaxed);
        self.dynamodb_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// One TransactWriteItems of items of these sizes (deletes and checks count as 1 KB).
    pub fn transact(&self, item_bytes: impl Iterator<Item = usize>) {
        let u: u64 = item_bytes.map(|b| 2 * units(b, WRITE_UNIT_BYTES)).sum();
        self.write_units.fetch_add(u, Ordering::Relaxed);
        self.dynamodb_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// One BatchWriteItem of puts of these sizes: plain writes, one request.
    pub fn batch_write(&self, item_bytes: impl Iterator<Item = usize>) {
        let u: u64 = item_bytes.map(|b| units(b, WRITE_UNIT_BYTES)).sum();
        self.write_units.fetch_add(u, Ordering::Relaxed);
        self.dynamodb_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// One SQS request carrying `payload_bytes`.
    pub fn sqs(&self, payload_bytes: usize) {
        self.sqs_requests.fetch_add(units(payload_bytes, SQS_CHUNK_BYTES), Ordering::Relaxed);
    }

    pub fn s3_put(&self) {
        self.s3_puts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn s3_get(&self) {
        self.s3_gets.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far, and zero from here on.
    pub fn take(&self) -> Usage {
        let t = |a: &AtomicU64| a.swap(0, Ordering::Relaxed);
        Usage {
            dynamodb_read_units: t(&self.read_units),
            dynamodb_write_units: t(&self.write_units),
            dynamodb_requests: t(&self.dynamodb_requests),
            sqs_requests: t(&self.sqs_requests),
            s3_puts: t(&self.s3_puts),
            s3_gets: t(&self.s3_gets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_aws_rounding() {
        let m = Meter::default();
        m.read(0); // an empty read still costs a unit
        m.read(4 * 1024 + 1);
        m.transact([100, 1024, 1025].into_iter());
        m.sqs(64 * 1024 + 1);
        let u = m.take();
        assert_eq!((u.dynamodb_read_units, u.dynamodb_write_units, u.dynamodb_requests), (3, 8, 3));
        assert_eq!(u.sqs_requests, 2);
        assert_eq!(m.take(), Usage::default(), "take resets");
    }
}
