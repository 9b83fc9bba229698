//! The catalog: state machines, their versions and aliases, activities and
//! tags. The API reads and writes these records directly (no step, no
//! outbox), and reaches the store only through here: executions, their
//! history, inbox, tokens and timers, and the queues, are written by the
//! engine's steps alone.

use serde::de::DeserializeOwned;

use super::{Engine, decode};
use crate::Error;
use crate::model::Key;
use crate::store::{Backlog, Item, Page, Query, Write, blob, meter};

/// Whether a partition holds catalog records (machines and their index,
/// versions, aliases, activities and their index, tags, definitions).
fn is_catalog(pk: &str) -> bool {
    pk == "SM"
        || pk.starts_with("SM#")
        || pk == "ACT"
        || pk.starts_with("ACT#")
        || pk.starts_with("TAG#")
        || pk.starts_with("DEF#")
}

impl Engine {
    /// A record stored as one item, decoded.
    pub async fn get_record<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, Error> {
        self.store.get(&key.0, &key.1).await?.map(|i| decode(&i.body)).transpose()
    }

    /// A record stored as a blob (a head and parts).
    pub async fn get_blob(&self, key: &Key) -> Result<Option<blob::Blob>, Error> {
        blob::get(&*self.store, &key.0, &key.1).await
    }

    /// Completes a blob whose head a page returned; `None` if it was deleted since.
    pub async fn assemble(&self, head: Item) -> Result<Option<blob::Blob>, Error> {
        blob::assemble(&*self.store, head).await
    }

    /// One page of any partition, for listings.
    pub async fn read_page(&self, q: Query) -> Result<Page, Error> {
        self.store.query(q).await
    }

    /// Writes catalog records in one transaction (all or none).
    pub async fn write_catalog(&self, writes: Vec<Write>) -> Result<(), Error> {
        for w in &writes {
            let (Write::Put { pk, .. } | Write::Delete { pk, .. } | Write::Check { pk, .. }) = w;
            assert!(is_catalog(pk), "the API wrote {pk}, which only the engine's steps may write");
        }
        self.store.transact(writes, Vec::new()).await
    }

    /// What waits in the queues, where the backend can say cheaply.
    pub async fn backlog(&self) -> Result<Option<Backlog>, Error> {
        self.queue.backlog().await
    }

    /// Messages waiting in an activity's task queue (approximate on SQS;
    /// tasks that closed before a worker took them are counted until polled).
    pub async fn activity_backlog(&self, activity_arn: &str) -> Result<u64, Error> {
        self.queue.depth(&crate::model::queues::activity(activity_arn)).await
    }

    /// What the store has spent since the last call (billed backends).
    pub fn take_usage(&self) -> Option<meter::Usage> {
        self.store.take_usage()
    }
}

#[cfg(test)]
mod tests {
    use super::is_catalog;
    use crate::model::keys;

    #[test]
    fn the_catalog_is_machines_activities_tags_and_definitions_only() {
        let m = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        for (pk, _) in [
            keys::machine(m),
            keys::machines_index("m"),
            keys::version(m, 1),
            keys::alias(m, "a"),
            keys::tags(m),
            keys::definition("ab"),
            keys::activities_index("a"),
        ] {
            assert!(is_catalog(&pk), "{pk}");
        }
        let e = "arn:aws:states:us-east-1:123456789012:execution:m:e";
        for (pk, _) in [
            keys::execution(e),
            keys::execution_index(m, 0, "e"),
            keys::token("ab"),
            keys::timer(0, e, 1),
            keys::inbox(e, 1, "3r"),
        ] {
            assert!(!is_catalog(&pk), "{pk}");
        }
    }
}
