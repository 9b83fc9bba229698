//! The engine in-process, over the simulator's fault-free in-memory store
//! and queue, on a clock the test moves: no server, no threads, no sleeps.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use stepwise_control_plane::Error;
use stepwise_control_plane::arn::Scope;
use stepwise_control_plane::engine::{Engine, compute::Compute, workers};
use stepwise_control_plane::model::queues;
use stepwise_control_plane::sim::queue::MemQueue;
use stepwise_control_plane::sim::run_now;
use stepwise_control_plane::sim::store::MemStore;
use stepwise_control_plane::sim::world::{Faults, SimEnv, World};
use stepwise_control_plane::store::{Item, OutMessage, Page, Query, Queue, Store, Write};

/// Decides whether a transaction fails before it applies (an injected store error).
pub type Injector = Box<dyn FnMut(&[Write]) -> Option<Error> + Send>;

/// The in-memory store, recording every transaction and failing those the injector picks.
pub struct Recording {
    pub inner: MemStore,
    pub log: Mutex<Vec<Vec<Write>>>,
    pub inject: Mutex<Option<Injector>>,
}

#[async_trait]
impl Store for Recording {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, Error> {
        self.inner.get(pk, sk).await
    }
    async fn query(&self, q: Query) -> Result<Page, Error> {
        self.inner.query(q).await
    }
    async fn transact(&self, writes: Vec<Write>, outbox: Vec<OutMessage>) -> Result<(), Error> {
        let injected = self.inject.lock().expect("lock").as_mut().and_then(|f| f(&writes));
        if let Some(e) = injected {
            return Err(e);
        }
        self.log.lock().expect("lock").push(writes.clone());
        self.inner.transact(writes, outbox).await
    }
    async fn flush_outbox(&self, older_than_ms: i64) -> Result<usize, Error> {
        self.inner.flush_outbox(older_than_ms).await
    }
}

pub struct Host {
    pub world: Arc<World>,
    pub store: Arc<Recording>,
    pub queue: Arc<MemQueue>,
    pub engine: Engine,
}

/// How far [`Host::settle`] lets time run at most.
const SETTLE_MS_MAX: i64 = 24 * 3600 * 1000;
/// Messages [`Host::settle`] handles at most.
const SETTLE_MESSAGES_MAX: usize = 10_000;

pub fn host() -> Host {
    let world = Arc::new(World::new(1, Faults { enabled: false }, None));
    let queue = Arc::new(MemQueue::new(world.clone()));
    let inner = MemStore::new(world.clone(), queue.clone());
    let store = Arc::new(Recording { inner, log: Mutex::default(), inject: Mutex::default() });
    let mut engine = Engine::new(store.clone(), queue.clone(), Scope::default());
    engine.env = Arc::new(SimEnv { world: world.clone(), skew_ms: 0 });
    engine.compute = Compute::inline();
    engine.poll_wait = std::time::Duration::ZERO;
    Host { world, store, queue, engine }
}

impl Host {
    pub fn call(&self, op: &str, req: Value) -> Result<Value, Error> {
        run_now(stepwise_control_plane::api::call(&self.engine, op, req))
    }

    /// A Scheduler API request (REST-JSON): method, path with query, and body.
    pub fn sched(&self, method: &str, path_and_query: &str, body: Value) -> Result<Value, Error> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        run_now(stepwise_control_plane::api::scheduler::call(&self.engine, method, path, query, &body))
    }

    pub fn ok(&self, op: &str, req: Value) -> Value {
        self.call(op, req).unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    /// Creates an activity `work` and a machine; gives the machine's ARN.
    pub fn machine(&self, name: &str, definition: Value) -> String {
        self.ok("CreateActivity", json!({"name": "work"}));
        let req =
            json!({"name": name, "definition": definition.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"});
        self.ok("CreateStateMachine", req)["stateMachineArn"].as_str().expect("an ARN").to_string()
    }

    pub fn activity(&self) -> String {
        Scope::default().activity("work")
    }

    /// Handles scheduler and integration messages, moving time to the next
    /// one due, until none is left within `within_ms`.
    pub fn settle(&self, within_ms: i64) {
        assert!(within_ms <= SETTLE_MS_MAX);
        let end = self.world.now_ms() + within_ms;
        for _ in 0..SETTLE_MESSAGES_MAX {
            for queue in [queues::SCHEDULER, queues::TASKS] {
                let batch = run_now(self.queue.receive(queue, 10, Default::default(), workers::VISIBILITY))
                    .expect("a fault-free receive");
                for m in &batch {
                    if queue == queues::SCHEDULER {
                        run_now(workers::on_scheduler_message(&self.engine, m));
                    } else {
                        run_now(workers::on_task_message(&self.engine, m));
                    }
                }
            }
            let due =
                [queues::SCHEDULER, queues::TASKS].iter().filter_map(|q| self.queue.next_visible_ms(Some(q))).min();
            match due {
                Some(at) if at <= end => self.world.advance_to(at),
                _ => return,
            }
        }
        panic!("{SETTLE_MESSAGES_MAX} messages did not settle");
    }

    /// Deletes a received message unhandled (a lost message).
    pub async fn queue_delete(&self, m: &stepwise_control_plane::store::Received) -> Result<(), Error> {
        self.queue.delete(stepwise_control_plane::model::queues::SCHEDULER, &m.receipt).await
    }

    pub fn status(&self, arn: &str) -> String {
        self.ok("DescribeExecution", json!({"executionArn": arn}))["status"].as_str().expect("a status").to_string()
    }

    /// A worker takes the next activity task: its token and input.
    pub fn take_task(&self) -> Option<(String, Value)> {
        let t = self.ok("GetActivityTask", json!({"activityArn": self.activity()}));
        let token = t["taskToken"].as_str()?.to_string();
        Some((token, serde_json::from_str(t["input"].as_str().expect("input")).expect("JSON")))
    }
}

/// Another engine (another scheduler) over the same store and queue.
pub fn second_engine(h: &Host) -> Engine {
    let mut engine = Engine::new(h.store.clone(), h.queue.clone(), Scope::default());
    engine.env = Arc::new(SimEnv { world: h.world.clone(), skew_ms: 0 });
    engine.compute = Compute::inline();
    engine
}
