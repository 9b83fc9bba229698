//! The scheduler side of the control plane: starting executions, applying
//! results and timers, and committing each step atomically. Backend-neutral:
//! it speaks only the [`Store`] and [`Queue`] interfaces.

pub mod aws;
mod catalog;
mod close_waiters;
pub mod code;
pub mod code_tasks;
mod commit;
pub mod compute;
mod dynamodb_json;
mod history;
mod integrations;
mod lambda;
mod map_children;
mod new_tasks;
pub mod pollers;
mod resolve;
mod run;
mod s3;
pub mod schedules;
mod tokens;
pub mod workers;

use crate::model::ExecutionStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use state_language::definition::Definition;
use state_language::interpreter::Limits;

use crate::Error;
use crate::arn::Scope;
use crate::model::{ExecutionRecord, Key, keys};
use crate::store::{Queue, Store, blob};

pub use crate::store::sha256_hex;
pub use run::StartRequest;
pub use tokens::{EAGER_ACTIVITIES_MAX, EagerRequest, hash_token, parse_token};

/// Parsed definitions kept in memory; the store holds them all.
const DEFINITION_CACHE_ENTRIES_MAX: usize = 1024;
/// AWS's GetActivityTask long poll.
pub const POLL_WAIT_DEFAULT: std::time::Duration = std::time::Duration::from_secs(60);
/// How old an outbox item must be before the sweeper sends it: older than
/// any commit still sending its own.
pub const OUTBOX_GRACE_MS_DEFAULT: i64 = 30_000;
/// Attempts a step makes when it loses an optimistic-concurrency race.
pub const COMMIT_ATTEMPTS_MAX: usize = 16;
/// A Map Run's child executions running at once unless the host says otherwise
/// (`stepwise server --map-children-running-max`): BENCHMARKS.md, "A distributed Map over S3".
pub const MAP_CHILDREN_RUNNING_MAX_DEFAULT: u64 = 1_000;
/// How long a sticky workflow task waits for its worker: Temporal's default
/// schedule-to-start timeout of a sticky queue.
pub const STICKY_WAIT_MS_DEFAULT: i64 = 5_000;
/// AWS keeps closed executions this long.
pub const RETENTION_DAYS_DEFAULT: i64 = 90;
/// How often a wait for an execution to close reads the store: soon at
/// first, then backing off, so short executions answer fast and long ones
/// cost few reads.
const WAIT_POLL_MIN: std::time::Duration = std::time::Duration::from_millis(20);
const WAIT_POLL_MAX: std::time::Duration = std::time::Duration::from_secs(1);

pub struct Engine {
    /// The clock and randomness: the only way time and chance enter the engine.
    pub env: Arc<dyn crate::clock::Environment>,
    /// Written only by the engine's steps and the catalog (`catalog.rs`).
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    pub scope: Scope,
    pub limits: Limits,
    /// Days a closed execution is kept (AWS: 90); the AWS backend's TTL deletes it after.
    pub retention_days: i64,
    /// SQS and DynamoDB clients for service integrations; `None` disables them.
    pub aws: Option<aws::AwsClients>,
    /// How API requests are authenticated (checked before anything else).
    pub auth: crate::auth::Auth,
    definitions: Mutex<HashMap<String, Arc<Definition>>>,
    /// In-process waiters for an execution to close (StartSyncExecution, AwaitExecution).
    closed: Mutex<close_waiters::CloseWaiters>,
    /// Wake-ups of one execution step one at a time in this process (`workers::on_wake`).
    pub(crate) wake_locks: workers::WakeLocks,
    /// Where closed executions go to have their trace built, when traces are on (the host sets it).
    pub closed_for_traces: std::sync::OnceLock<tokio::sync::mpsc::Sender<String>>,
    /// Workers that polled each activity last (this process's view).
    pub pollers: pollers::Pollers,
    /// Workers that said they are shutting down: their polls in this process end at once.
    pub(crate) shutdowns: code_tasks::Shutdowns,
    /// How long GetActivityTask and the workers' polls wait for a task
    /// (AWS: 60 s; the simulator: not at all, it decides when tasks arrive).
    pub poll_wait: std::time::Duration,
    /// See [`OUTBOX_GRACE_MS_DEFAULT`]; hosts take `STEPWISE_OUTBOX_GRACE_MS` (tests shorten it).
    pub outbox_grace_ms: i64,
    /// How long a code workflow's sticky task waits for the worker that keeps
    /// its run (ms); 0 (the default) turns sticky tasks off. Only a host
    /// whose queues may be made per worker turns them on: the embedded store
    /// (and the simulator, whose queue keeps its semantics).
    pub sticky_wait_ms: i64,
    /// At most this many of a Map Run's child executions run at once (below its
    /// MaxConcurrency; AWS's own bound is 10,000). Each running child is held in
    /// the parent's state, which every step of the parent writes.
    pub map_children_running_max: u64,
    /// Where interpreter steps and TestState run: off the request threads, bounded.
    pub compute: compute::Compute,
    /// The embedded store's data dir lock, held while the engine lives.
    pub data_dir_lock: Option<std::fs::File>,
    /// The key pagination tokens are MACed with, once read from the store.
    paging_key: tokio::sync::OnceCell<[u8; 32]>,
    /// Readiness, open connections and (on `stepwise server`) the Prometheus handle.
    pub telemetry: Arc<crate::telemetry::Telemetry>,
    /// When this engine was built: the process's uptime.
    pub started: std::time::Instant,
    /// The embedded store's data dir, for its size in the metrics.
    pub data_dir: Option<std::path::PathBuf>,
}

impl Engine {
    #[allow(clippy::disallowed_methods)] // the process uptime, for metrics only
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>, scope: Scope) -> Engine {
        Engine {
            env: Arc::new(crate::clock::System),
            store,
            queue,
            scope,
            limits: Limits::default(),
            retention_days: RETENTION_DAYS_DEFAULT,
            aws: None,
            auth: crate::auth::Auth::None,
            definitions: Mutex::default(),
            closed: Mutex::default(),
            wake_locks: workers::WakeLocks::default(),
            pollers: pollers::Pollers::default(),
            closed_for_traces: std::sync::OnceLock::new(),
            shutdowns: code_tasks::Shutdowns::default(),
            poll_wait: POLL_WAIT_DEFAULT,
            outbox_grace_ms: OUTBOX_GRACE_MS_DEFAULT,
            sticky_wait_ms: 0,
            map_children_running_max: MAP_CHILDREN_RUNNING_MAX_DEFAULT,
            compute: compute::Compute::for_this_machine(),
            data_dir_lock: None,
            paging_key: tokio::sync::OnceCell::new(),
            telemetry: Arc::default(),
            started: std::time::Instant::now(),
            data_dir: None,
        }
    }

    /// The environment's time, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.env.now_ms()
    }

    pub fn random_u64(&self) -> u64 {
        self.env.random_u64()
    }

    /// A version-4 UUID from the environment's randomness.
    pub fn uuid(&self) -> String {
        let bytes = (u128::from(self.random_u64()) << 64 | u128::from(self.random_u64())).to_le_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    /// Bytes of the embedded database files (with the write-ahead log).
    pub fn database_bytes(&self) -> Option<u64> {
        let dir = self.data_dir.as_ref()?;
        let size = |name: &str| std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        Some(size("stepwise.db") + size("stepwise.db-wal"))
    }

    /// The deployment's pagination MAC key: made at random on first use and
    /// kept in the store, so that every process of the deployment shares it.
    pub async fn paging_key(&self) -> Result<[u8; 32], Error> {
        let key = self
            .paging_key
            .get_or_try_init(|| async {
                let (pk, sk) = keys::paging_key();
                if let Some(item) = self.store.get(&pk, &sk).await? {
                    return key_of(&item.body);
                }
                let mut fresh = [0u8; 32];
                for chunk in fresh.chunks_mut(8) {
                    chunk.copy_from_slice(&self.random_u64().to_le_bytes());
                }
                let put = crate::store::Write::put(
                    (pk.clone(), sk.clone()),
                    fresh.to_vec(),
                    crate::store::Condition::NotExists,
                );
                match self.store.transact(vec![put], Vec::new()).await {
                    Ok(()) => Ok(fresh),
                    // Another process made it first: use theirs.
                    Err(Error::ConditionFailed(_)) => {
                        let item = self
                            .store
                            .get(&pk, &sk)
                            .await?
                            .ok_or_else(|| Error::Corrupt("the paging key vanished".into()))?;
                        key_of(&item.body)
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(*key)
    }

    /// The parsed definition with this hash, from memory or the store.
    pub async fn definition(&self, hash: &str) -> Result<Arc<Definition>, Error> {
        if let Some(d) = self.definitions.lock().unwrap_or_else(|p| p.into_inner()).get(hash) {
            return Ok(d.clone());
        }
        let (pk, sk) = keys::definition(hash);
        let b = blob::get(&*self.store, &pk, &sk).await?.ok_or_else(|| Error::Corrupt(format!("definition {hash}")))?;
        let text = String::from_utf8(b.bytes).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.parse_definition(hash, &text)
    }

    fn parse_definition(&self, hash: &str, text: &str) -> Result<Arc<Definition>, Error> {
        let report = state_language::validate_text(text, state_language::Options::default());
        let def = Arc::new(report.definition.ok_or_else(|| Error::Corrupt(format!("definition {hash} is invalid")))?);
        let mut m = self.definitions.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= DEFINITION_CACHE_ENTRIES_MAX {
            m.clear();
        }
        m.insert(hash.to_string(), def.clone());
        Ok(def)
    }

    /// The execution a Map Run belongs to, from the index item its start wrote.
    pub async fn map_run_owner(&self, map_run_arn: &str) -> Result<Option<String>, Error> {
        let owner = self.read::<crate::model::MapRunOwner>(keys::map_run(map_run_arn)).await?;
        Ok(owner.map(|o| o.execution_arn))
    }

    /// An item of one part, decoded: `None` if it is not there.
    pub async fn read<T: serde::de::DeserializeOwned>(&self, (pk, sk): Key) -> Result<Option<T>, Error> {
        match self.store.get(&pk, &sk).await? {
            Some(item) => Ok(Some(decode(&item.body)?)),
            None => Ok(None),
        }
    }

    pub async fn execution(&self, arn: &str) -> Result<Option<(ExecutionRecord, blob::Blob)>, Error> {
        let (pk, sk) = keys::execution(arn);
        match blob::get(&*self.store, &pk, &sk).await? {
            Some(mut b) => {
                let rec = decode(&b.bytes)?;
                b.bytes.clear();
                Ok(Some((rec, b)))
            }
            None => Ok(None),
        }
    }

    /// Resolves when the execution is no longer running, or at once if it is
    /// not. This process's own commits notify it; it also reads the store now
    /// and then, because in the serverless home another process (the
    /// scheduler Lambda) closes the execution and nothing tells this one.
    #[allow(clippy::disallowed_methods)] // how long a caller waits is real time, not engine time
    pub async fn wait_closed(&self, arn: &str, timeout: std::time::Duration) -> Result<Option<ExecutionRecord>, Error> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.closed.lock().unwrap_or_else(|p| p.into_inner()).add(arn, tx);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut poll = WAIT_POLL_MIN;
        loop {
            let current = self.execution(arn).await?.map(|(r, _)| r);
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if current.as_ref().is_none_or(|r| r.status != ExecutionStatus::Running) || left.is_zero() {
                return Ok(current);
            }
            tokio::select! {
                _ = &mut rx => return Ok(self.execution(arn).await?.map(|(r, _)| r)),
                _ = tokio::time::sleep(poll.min(left)) => {}
            }
            poll = (poll * 2).min(WAIT_POLL_MAX);
        }
    }

    fn notify_closed(&self, arn: &str) {
        let waiters = self.closed.lock().unwrap_or_else(|p| p.into_inner()).take(arn);
        for w in waiters {
            let _ = w.send(());
        }
    }
}

fn key_of(bytes: &[u8]) -> Result<[u8; 32], Error> {
    bytes.try_into().map_err(|_| Error::Corrupt("the paging key is not 32 bytes".into()))
}

pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing our own records cannot fail: no maps with non-string keys.
    serde_json::to_vec(v).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}
