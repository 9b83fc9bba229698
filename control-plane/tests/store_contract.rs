//! The storage contract every backend keeps, checked on the embedded one
//! and on the simulator's in-memory one (which must keep DynamoDB's
//! semantics to be worth simulating over): versions and conditions, the
//! transaction limits, and values split over several items.
#![allow(clippy::unwrap_used)] // the checks are shared helpers, not #[test] functions

use stepwise_control_plane::Error;
use stepwise_control_plane::store::sqlite::Sqlite;
use stepwise_control_plane::store::{Condition, ITEM_BYTES_MAX, Query, Store, TRANSACT_WRITES_MAX, Write, blob};

fn sqlite(name: &str) -> Sqlite {
    let dir = std::env::temp_dir().join(format!("stepwise-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    Sqlite::open(&dir.join("db")).expect("a store")
}

/// Both stores, by name, each fresh.
fn stores(name: &str) -> Vec<(&'static str, Box<dyn Store>)> {
    vec![("sqlite", Box::new(sqlite(name))), ("simulated", Box::new(stepwise_control_plane::sim::fault_free_store()))]
}

#[tokio::test]
async fn values_bigger_than_an_item_round_trip_and_shrink() {
    for (which, s) in stores("blob") {
        eprintln!("store: {which}");
        blob_round_trip(&*s).await;
    }
}

async fn blob_round_trip(s: &dyn Store) {
    let big: Vec<u8> = (0..3 * blob::PART_BYTES + 17).map(|i| (i % 251) as u8).collect();
    s.transact(blob::puts("P", "K", &big, Condition::NotExists, 0).unwrap(), Vec::new()).await.unwrap();
    let got = blob::get(s, "P", "K").await.unwrap().unwrap();
    assert_eq!((got.bytes.len(), got.parts, got.version), (big.len(), 4, 1));
    assert_eq!(got.bytes, big);
    // Replacing it with a small value removes the parts it no longer needs.
    let writes = blob::puts("P", "K", b"small", Condition::Version(1), got.parts).unwrap();
    s.transact(writes, Vec::new()).await.unwrap();
    let got = blob::get(s, "P", "K").await.unwrap().unwrap();
    assert_eq!((got.bytes.as_slice(), got.parts, got.version), (&b"small"[..], 1, 2));
    let q = Query { pk: "P".into(), sk_prefix: String::new(), after: None, limit: 100, descending: false };
    assert_eq!(s.query(q).await.unwrap().items.len(), 1, "no stale parts left");
    // A stale version loses; an oversized value is refused up front.
    let stale = blob::puts("P", "K", b"x", Condition::Version(1), 1).unwrap();
    assert!(matches!(s.transact(stale, Vec::new()).await, Err(Error::ConditionFailed(_))));
    assert!(blob::puts("P", "K", &vec![0; blob::BLOB_BYTES_MAX + 1], Condition::None, 0).is_err());
}

/// A store whose first query of parts runs just after a rewrite shrank the
/// value, or a delete removed it: the get and the query of one read see two versions.
struct ChangedMidRead {
    inner: Sqlite,
    delete: bool,
    changed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Store for ChangedMidRead {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<stepwise_control_plane::store::Item>, Error> {
        self.inner.get(pk, sk).await
    }
    async fn query(&self, q: Query) -> Result<stepwise_control_plane::store::Page, Error> {
        if !self.changed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let head = self.inner.get("P", "K").await?.expect("the value");
            let writes = if self.delete {
                let parts = (1..4).map(|n| Write::delete(("P".into(), format!("K~{n:04}"))));
                std::iter::once(Write::delete(("P".into(), "K".into()))).chain(parts).collect()
            } else {
                blob::puts("P", "K", b"small", Condition::Version(head.version), 4)?
            };
            self.inner.transact(writes, Vec::new()).await?;
        }
        self.inner.query(q).await
    }
    async fn transact(
        &self,
        writes: Vec<Write>,
        outbox: Vec<stepwise_control_plane::store::OutMessage>,
    ) -> Result<(), Error> {
        self.inner.transact(writes, outbox).await
    }
}

#[tokio::test]
async fn a_value_rewritten_or_deleted_while_it_is_read_is_read_again_whole() {
    for (delete, want) in [(false, Some((b"small".to_vec(), 1, 2))), (true, None)] {
        let s = ChangedMidRead { inner: sqlite(&format!("torn-{delete}")), delete, changed: Default::default() };
        let big: Vec<u8> = (0..3 * blob::PART_BYTES + 17).map(|i| (i % 251) as u8).collect();
        s.transact(blob::puts("P", "K", &big, Condition::NotExists, 0).unwrap(), Vec::new()).await.unwrap();
        let got = blob::get(&s, "P", "K").await.expect("not torn");
        assert_eq!(got.map(|b| (b.bytes, b.parts, b.version)), want, "the value as it is now (deleted: {delete})");
    }
}

#[tokio::test]
async fn transactions_keep_dynamodb_limits_and_are_all_or_nothing() {
    for (which, s) in stores("limits") {
        eprintln!("store: {which}");
        limits(&*s).await;
    }
}

async fn limits(s: &dyn Store) {
    let put = |k: usize| Write::put(("P".into(), format!("{k:04}")), vec![1], Condition::None);
    let too_many: Vec<Write> = (0..=TRANSACT_WRITES_MAX).map(put).collect();
    assert!(matches!(s.transact(too_many, Vec::new()).await, Err(Error::Limit(_))));
    let too_big = vec![Write::put(("P".into(), "big".into()), vec![0; ITEM_BYTES_MAX + 1], Condition::None)];
    assert!(matches!(s.transact(too_big, Vec::new()).await, Err(Error::Limit(_))));
    // One failed condition undoes the whole transaction.
    let mixed = vec![put(1), Write::Check { pk: "P".into(), sk: "none".into(), condition: Condition::Exists }];
    assert!(matches!(s.transact(mixed, Vec::new()).await, Err(Error::ConditionFailed(_))));
    assert!(s.get("P", "0001").await.unwrap().is_none());
    // Pages resume after the last key, in either direction.
    s.transact((0..5).map(put).collect(), Vec::new()).await.unwrap();
    let page = |after: Option<String>, descending| Query {
        pk: "P".into(),
        sk_prefix: String::new(),
        after,
        limit: 2,
        descending,
    };
    let first = s.query(page(None, false)).await.unwrap();
    let second = s.query(page(first.last.clone(), false)).await.unwrap();
    let keys: Vec<&str> = first.items.iter().chain(&second.items).map(|i| i.sk.as_str()).collect();
    assert_eq!(keys, ["0000", "0001", "0002", "0003"]);
    let back = s.query(page(None, true)).await.unwrap();
    assert_eq!(back.items[0].sk, "0004");
}

#[tokio::test]
async fn a_transaction_touches_an_item_once_and_stays_under_four_megabytes() {
    // DynamoDB refuses both; the simulated store must too (the embedded one is laxer).
    let s = stepwise_control_plane::sim::fault_free_store();
    let twice =
        vec![Write::put(("P".into(), "K".into()), vec![1], Condition::None), Write::delete(("P".into(), "K".into()))];
    assert!(matches!(s.transact(twice, Vec::new()).await, Err(Error::Limit(_))));
    let big = |k: usize| Write::put(("P".into(), format!("{k:04}")), vec![0; ITEM_BYTES_MAX - 100], Condition::None);
    assert!(matches!(s.transact((0..11).map(big).collect(), Vec::new()).await, Err(Error::Limit(_))));
    assert!(s.get("P", "0000").await.unwrap().is_none(), "nothing of a refused transaction is written");
}

/// SQS's visibility: a received message is hidden from other receives until
/// its visibility passes or it is deleted; a receive already waiting gets it
/// when it reappears; a stale receipt deletes nothing; queues do not mix.
#[tokio::test]
async fn a_received_message_reappears_after_its_visibility_unless_deleted() {
    use std::time::Duration;
    use stepwise_control_plane::store::{OutMessage, Queue};
    let q = sqlite("visibility");
    let msg = |queue: &str, body: &str| OutMessage { queue: queue.into(), body: body.into(), delay_ms: 0 };
    q.send(vec![msg("a", "one"), msg("b", "other")]).await.unwrap();
    let short = Duration::from_millis(200);
    let first = q.receive("a", 10, Duration::ZERO, short).await.unwrap();
    assert_eq!(first.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["one"]);
    assert!(q.receive("a", 10, Duration::ZERO, short).await.unwrap().is_empty(), "hidden while received");
    // A waiting receive: the message comes back once its visibility passes.
    let again = q.receive("a", 10, Duration::from_secs(20), Duration::from_secs(60)).await.unwrap();
    assert_eq!((again.len(), again[0].body.as_str(), again[0].receive_count), (1, "one", 2));
    q.delete("a", &first[0].receipt).await.unwrap(); // stale: received again since
    q.delete("a", &again[0].receipt).await.unwrap();
    assert!(q.receive("a", 10, Duration::from_millis(300), short).await.unwrap().is_empty(), "deleted");
    let other = q.receive("b", 10, Duration::ZERO, short).await.unwrap();
    assert_eq!(other[0].body, "other", "the other queue kept its message");
}

#[tokio::test]
// The store keeps its own clock for visibility: the test measures the wait with a real one.
#[allow(clippy::disallowed_methods)]
async fn a_receive_over_sources_takes_its_own_then_the_stale_then_the_shared() {
    use std::time::{Duration, Instant};
    use stepwise_control_plane::store::{OutMessage, Queue, Source};
    let q = sqlite("sources");
    let msg = |queue: &str, body: &str| OutMessage { queue: queue.into(), body: body.into(), delay_ms: 0 };
    let sent = Instant::now();
    q.send(vec![msg("w#b", "left by b"), msg("w", "shared"), msg("w#a", "mine"), msg("v#c", "another task queue's")])
        .await
        .unwrap();
    let age = Duration::from_millis(400);
    let sources = [Source::Queue("w#a"), Source::Stale { prefix: "w#", age_ms: 400 }, Source::Queue("w")];
    let vis = Duration::from_secs(60);
    let take = |wait| q.receive_first(&sources, wait, vis);
    let got = |r: Option<(String, stepwise_control_plane::store::Received)>| r.map(|(q, m)| (q, m.body));
    assert_eq!(got(take(Duration::ZERO).await.unwrap()), Some(("w#a".into(), "mine".into())), "its own first");
    assert_eq!(got(take(Duration::ZERO).await.unwrap()), Some(("w".into(), "shared".into())), "b's is not stale yet");
    assert_eq!(got(take(Duration::ZERO).await.unwrap()), None, "what it took is hidden");
    let stale = take(Duration::from_secs(10)).await.unwrap();
    assert!(sent.elapsed() >= age, "taken only once it waited the age, after {:?}", sent.elapsed());
    let (queue, m) = stale.expect("b's message, once stale");
    assert_eq!((queue.as_str(), m.body.as_str()), ("w#b", "left by b"));
    q.delete(&queue, &m.receipt).await.unwrap();
    assert_eq!(got(take(Duration::from_millis(300)).await.unwrap()), None, "deleted, and the others hidden");
    assert_eq!(q.depth("v#c").await.unwrap(), 1, "another prefix's queue is not a source");
}
