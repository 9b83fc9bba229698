//! The simulated code workers' sticky caches, as the SDK's worker keeps
//! them: a run's history as of its last workflow task, kept between tasks so
//! a sticky task brings only the events since. Faults restart a worker (a
//! new name: its cache and its queue of sticky tasks are left behind, for
//! another worker to take once stale) and evict a run it said it kept.

use std::cell::RefCell;
use std::collections::BTreeMap;

use stepwise_workflow_core::history::Event;

use super::world::World;

/// Per mille of workflow tasks before which the worker restarts.
const RESTART_PER_MILLE: u64 = 20;
/// Per mille of kept runs evicted before their next task.
const EVICT_PER_MILLE: u64 = 50;
/// Runs one worker keeps at most; past it, the one kept longest goes first.
const RUNS_MAX: usize = 64;

#[derive(Default)]
struct Cache {
    generation: u32,
    /// By execution ARN: the history the worker's last task of the run had.
    runs: BTreeMap<String, Vec<Event>>,
    /// ARNs in the order kept, oldest first (eviction order).
    order: Vec<String>,
}

/// What the code workers' caches did, and how many activity tasks they
/// were handed eagerly, for the simulator's report and its tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Sticky tasks served from a kept history.
    pub hits: u64,
    /// Sticky tasks whose kept history was gone or did not fit: read whole.
    pub misses: u64,
    pub restarts: u64,
    /// Activity tasks handed to code workers with their answers (eager).
    pub eager_activities: u64,
}

#[derive(Default)]
pub struct Caches {
    workers: RefCell<BTreeMap<usize, Cache>>,
    pub stats: RefCell<Stats>,
}

impl Caches {
    /// The name worker `p` polls with now: it changes when the worker restarts.
    pub fn name(&self, p: usize) -> String {
        let generation = self.workers.borrow().get(&p).map_or(0, |c| c.generation);
        format!("cw{p}g{generation}")
    }

    /// Maybe restarts worker `p` before it polls: a new name, nothing kept.
    pub fn maybe_restart(&self, world: &World, p: usize) {
        if world.fault(RESTART_PER_MILLE) {
            let mut w = self.workers.borrow_mut();
            let c = w.entry(p).or_default();
            *c = Cache { generation: c.generation + 1, ..Cache::default() };
            self.stats.borrow_mut().restarts += 1;
            world.trace(|| format!("code worker {p}: restarts as generation {}", c.generation));
        }
    }

    /// The run's whole history for a task that brought `part`, the events
    /// from index `from` on; `None` when `from` is past 0 and the kept history
    /// does not end just before it (the worker then reads the history).
    pub fn history(&self, p: usize, arn: &str, from: usize, part: Vec<Event>) -> Option<Vec<Event>> {
        if from == 0 {
            return Some(part);
        }
        let w = self.workers.borrow();
        let kept = w.get(&p).and_then(|c| c.runs.get(arn)).filter(|h| h.len() == from);
        let mut s = self.stats.borrow_mut();
        match kept {
            Some(h) => {
                s.hits += 1;
                Some(h.iter().cloned().chain(part).collect())
            }
            None => {
                s.misses += 1;
                None
            }
        }
    }

    /// Keeps `history` as the run's, unless the run ends with this task;
    /// says whether the worker keeps it (it then names itself in its answer).
    /// An eviction fault drops it right after: the worker said it kept it.
    pub fn keep(&self, world: &World, p: usize, arn: &str, history: Vec<Event>, closing: bool) -> bool {
        let mut w = self.workers.borrow_mut();
        let c = w.entry(p).or_default();
        c.order.retain(|a| a != arn);
        c.runs.remove(arn);
        if closing {
            return false;
        }
        if c.order.len() >= RUNS_MAX {
            let oldest = c.order.remove(0);
            c.runs.remove(&oldest);
        }
        if !world.fault(EVICT_PER_MILLE) {
            c.runs.insert(arn.to_string(), history);
            c.order.push(arn.to_string());
        }
        true
    }
}

/// Pages of history a whole read takes at most (the history's bound, in pages of 1,000).
const HISTORY_PAGES_MAX: usize = stepwise_workflow_core::host::HISTORY_EVENTS_MAX / 1000 + 2;

/// The current run's first `len` events, read with GetExecutionHistory as
/// the SDK's worker reads them on a miss; `None` if a read fails or the
/// history is shorter (the task then times out and comes again).
pub async fn read_run(sim: &super::actors::Sim, arn: &str, len: usize) -> Option<Vec<Event>> {
    let mut events: Vec<Event> = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..HISTORY_PAGES_MAX {
        let mut req = serde_json::json!({"executionArn": arn, "maxResults": 1000});
        if let Some(t) = &token {
            req["nextToken"] = serde_json::json!(t);
        }
        let page = crate::api::call(sim.api(), "GetExecutionHistory", req).await.ok()?;
        for e in page["events"].as_array().expect("a page of events") {
            let event = stepwise_workflow_core::history::event_from_history(e);
            events.push(event.expect("a code workflow's event"));
        }
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let start = events.iter().rposition(|e| matches!(e, Event::WorkflowStarted { .. })).expect("a run starts");
    let run: Vec<Event> = events.split_off(start);
    (run.len() >= len).then(|| run.into_iter().take(len).collect())
}
