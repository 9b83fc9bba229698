//! One seeded run: build the deployment, plan the clients' executions, and
//! step the executor until every execution has closed and everything has
//! settled, or simulated time runs out.

use crate::AwsError;
use crate::model::ExecutionStatus;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use serde_json::json;

use super::actors::{self, Action, Client, Planned, Sim};
use super::executor::Executor;
use super::queue::MemQueue;
use super::store::MemStore;
use super::world::{EPOCH_MS, Faults, SimEnv, World};
use super::{Plant, check, workload};
use crate::arn::Scope;
use crate::engine::{Engine, compute::Compute};
use crate::model::queues;

const SCHEDULERS: usize = 4;
const INTEGRATIONS: usize = SCHEDULERS;
const SWEEPER: usize = SCHEDULERS + 1;
const API: usize = SCHEDULERS + 2;
const POLLERS: std::ops::Range<usize> = 7..9;
const WORKFLOW_POLLERS: std::ops::Range<usize> = 9..11;
const CODE_ACTIVITY_POLLERS: std::ops::Range<usize> = 11..13;
const COURIERS: std::ops::Range<usize> = 13..19;
const ACTORS: usize = COURIERS.end;
/// Executions one seed's clients start.
const EXECUTIONS_MIN: u64 = 3;
const EXECUTIONS_MAX: u64 = 8;
/// When clients start them: within this much of the run's start.
const START_SPREAD_MS: u64 = 30_000;
/// Every execution must close within this much simulated time.
pub const RUN_MS_MAX: i64 = 6 * 3600 * 1000;
/// After the last execution closes, time runs this much longer, so the
/// sweeper flushes what a crash left and late answers arrive.
const SETTLE_MS: i64 = 400_000;
/// The clock skew of a scheduler, at most, either way.
const SKEW_MS_MAX: u64 = 2_000;
/// Per mille of polls at which the polled actor crashes.
const CRASH_PER_MILLE: u64 = 5;
/// The sweeper runs this often without faults; at random moments within it with them.
const SWEEP_EVERY_MS: i64 = 30_000;
/// Executor steps one run may take: far beyond any workload's.
const STEPS_MAX: u64 = 20_000_000;
/// Calls of the run's setup, each retried this often through injected faults.
const SETUP_ATTEMPTS_MAX: usize = 100;

/// How one execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: String,
    pub output: Option<String>,
    /// The error and cause of an execution that failed.
    pub error: Option<(Option<String>, Option<String>)>,
    /// The states entered, with how often, from the history.
    pub entered: BTreeMap<String, u32>,
}

pub struct RunResult {
    pub outcomes: BTreeMap<String, Outcome>,
    pub violations: Vec<(String, String)>,
    pub trace: Vec<String>,
    /// What the code workers' sticky caches did.
    pub sticky: super::sticky::Stats,
    /// Map Run child executions, and those of them redriven in place.
    pub children: (u64, u64),
}

pub fn run_seed(seed: u64, faults: bool, plant: Option<Plant>, workload_name: &str) -> RunResult {
    let world = Arc::new(World::new(seed, Faults { enabled: faults }, plant));
    let queue = Arc::new(MemQueue::new(world.clone()));
    let store = Arc::new(MemStore::new(world.clone(), queue.clone()));
    let engines = (0..=API)
        .map(|i| {
            let skew_ms =
                if i < SCHEDULERS && faults { world.below(2 * SKEW_MS_MAX + 1) as i64 - SKEW_MS_MAX as i64 } else { 0 };
            let mut e = Engine::new(store.clone(), queue.clone(), Scope::default());
            e.env = Arc::new(SimEnv { world: world.clone(), skew_ms });
            e.compute = Compute::inline();
            e.poll_wait = std::time::Duration::ZERO;
            // Sticky workflow tasks, with their fall-back, as on the embedded server.
            e.sticky_wait_ms = crate::engine::STICKY_WAIT_MS_DEFAULT;
            e
        })
        .collect();
    let activity = Scope::default().activity("work");
    let sim = Rc::new(Sim {
        world: world.clone(),
        store,
        queue,
        engines,
        activity,
        client: Default::default(),
        sticky: Default::default(),
    });
    setup(&sim);
    plan(&sim, seed, workload_name);
    let mut violations = drive(&sim);
    let outcomes = check::inspect(&sim, &mut violations);
    violations.extend(sim.client.borrow().violations.iter().cloned());
    for (name, o) in &outcomes {
        world.trace(|| format!("outcome {name}: {} {}", o.status, o.output.as_deref().unwrap_or("-")));
    }
    let sticky = *sim.sticky.stats.borrow();
    let children = super::check::map_children(&sim);
    RunResult { outcomes, violations, trace: world.take_trace(), sticky, children }
}

/// Runs a future that completes without waiting on anything outside (setup and checks).
pub fn run_now<T>(f: impl std::future::Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000_000 {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("a setup or check call did not finish");
}

fn setup(sim: &Sim) {
    let api = sim.api();
    let call = |op: &str, req: serde_json::Value| {
        for _ in 0..SETUP_ATTEMPTS_MAX {
            match run_now(crate::api::call(api, op, req.clone())) {
                Ok(_) | Err(crate::Error::Api { kind: AwsError::StateMachineAlreadyExists, .. }) => return,
                Err(_) => continue, // an injected fault
            }
        }
        panic!("{op} failed {SETUP_ATTEMPTS_MAX} times in the setup");
    };
    call("CreateActivity", json!({"name": "work"}));
    let code = super::code::TYPES.map(|t| (t, super::code::definition()));
    for (name, def) in workload::definitions(&sim.activity, |m| sim.machine_arn(m)).into_iter().chain(code) {
        let req = json!({"name": name, "definition": def.to_string(), "roleArn": "arn:aws:iam::123456789012:role/sim"});
        call("CreateStateMachine", req);
    }
    schedule(api);
}

/// The seed's schedule, created through the Scheduler API (a retried create
/// is answered by its `ClientToken`).
fn schedule(api: &Engine) {
    let body = json!({
        "ScheduleExpression": "rate(1 minute)",
        "StartDate": (EPOCH_MS + workload::SCHEDULE_START_MS) / 1000,
        "EndDate": (EPOCH_MS + workload::SCHEDULE_END_MS) / 1000,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ClientToken": "sim",
        "Target": {"Arn": Scope::default().state_machine(workload::SCHEDULED_MACHINE), "RoleArn": "arn:aws:iam::123456789012:role/sim"},
    })
    .to_string();
    let path = format!("/schedules/{}", workload::SCHEDULE_NAME);
    for _ in 0..SETUP_ATTEMPTS_MAX {
        if run_now(crate::api::scheduler::call(api, "POST", &path, None, body.as_bytes())).is_ok() {
            return;
        }
    }
    panic!("CreateSchedule failed {SETUP_ATTEMPTS_MAX} times in the setup");
}

/// The clients' executions: from a stream of the seed's own, so that the
/// runs with and without faults plan the same.
fn plan(sim: &Sim, seed: u64, workload_name: &str) {
    let w = &World::new(seed, Faults { enabled: false }, None);
    let n = EXECUTIONS_MIN + w.below(EXECUTIONS_MAX - EXECUTIONS_MIN + 1);
    let mut c = sim.client.borrow_mut();
    for i in 0..n {
        let machine = match workload_name {
            "mixed" => workload::STARTED[w.below(workload::STARTED.len() as u64) as usize],
            one => workload::STARTED.iter().find(|m| **m == one).expect("a known workload"),
        };
        let items: Vec<u64> = (1..=1 + w.below(4)).collect();
        let input = match machine {
            "sim-order" | "sim-cancel" => json!({"x": w.below(30), "round": 0}),
            _ => json!({"x": w.below(30), "items": items}),
        };
        let start_ms = EPOCH_MS + w.below(START_SPREAD_MS) as i64;
        let name = format!("e{i}-{machine}");
        c.planned.insert(name.clone(), Planned { name: name.clone(), machine: machine.to_string(), input });
        c.push(start_ms, Action::Start { name });
    }
}

/// Steps the executor until everything settled; gives the violations it saw.
fn drive(sim: &Rc<Sim>) -> Vec<(String, String)> {
    let w = &sim.world;
    let mut exec = Executor::new(ACTORS);
    let mut couriers: Vec<Option<Action>> = vec![None; COURIERS.len()];
    let activity_queue = queues::activity(&sim.activity);
    let mut next_sweep = EPOCH_MS + SWEEP_EVERY_MS;
    let mut settle_until: Option<i64> = None;
    for _ in 0..STEPS_MAX {
        let now = w.now_ms();
        spawn_engine_loops(sim, &mut exec, &activity_queue, &mut next_sweep);
        for (k, slot) in COURIERS.zip(couriers.iter_mut()) {
            if exec.busy(k) {
                continue;
            }
            let Some(action) = sim.client.borrow_mut().pop_due(now) else { break };
            *slot = Some(action.clone());
            exec.spawn(k, actors::act(sim.clone(), action));
        }
        let flying = exec.in_flight();
        let (asleep, first_wake) = w.sleeps();
        if !flying.is_empty() && asleep == flying.len() {
            // Every operation in flight waits on the clock: time moves on.
            let next = [next_message_ms(sim), sim.client.borrow().next_due(), Some(next_sweep), first_wake];
            w.advance_to(next.into_iter().flatten().min().expect("a sleep ends").max(now));
        }
        if flying.is_empty() {
            if settle_until.is_none() && finished(sim) {
                settle_until = Some(now + SETTLE_MS);
            }
            let next = [next_message_ms(sim), sim.client.borrow().next_due(), Some(next_sweep)]
                .into_iter()
                .flatten()
                .min()
                .expect("the sweeper is always due at some time");
            if settle_until.is_some_and(|end| next > end) {
                return Vec::new();
            }
            if next > EPOCH_MS + RUN_MS_MAX {
                let open = unfinished(sim);
                return vec![(
                    "every execution closes in bounded time".into(),
                    format!("still open after {} simulated hours: {open}", RUN_MS_MAX / 3_600_000),
                )];
            }
            w.advance_to(next);
            continue;
        }
        let actor = flying[w.below(flying.len() as u64) as usize];
        if w.fault(CRASH_PER_MILLE) {
            w.trace(|| format!("CRASH actor {actor}"));
            exec.crash(actor);
            if let Some(action) = COURIERS.contains(&actor).then(|| couriers[actor - COURIERS.start].take()).flatten()
                && action.survives_crash()
            {
                sim.client.borrow_mut().push(now + 1_000, action);
            }
        } else if exec.poll(actor) && COURIERS.contains(&actor) {
            couriers[actor - COURIERS.start] = None;
        }
        w.advance_to(now + w.below(3) as i64);
    }
    panic!("a run took {STEPS_MAX} steps");
}

fn spawn_engine_loops(sim: &Rc<Sim>, exec: &mut Executor, activity_queue: &str, next_sweep: &mut i64) {
    let w = &sim.world;
    for s in 0..SCHEDULERS {
        if !exec.busy(s) && sim.queue.has_visible(queues::SCHEDULER) {
            exec.spawn(s, actors::drain(sim.clone(), s, queues::SCHEDULER));
        }
    }
    if !exec.busy(INTEGRATIONS) && sim.queue.has_visible(queues::TASKS) {
        exec.spawn(INTEGRATIONS, actors::drain(sim.clone(), INTEGRATIONS, queues::TASKS));
    }
    if !exec.busy(SWEEPER) && w.now_ms() >= *next_sweep {
        exec.spawn(SWEEPER, actors::sweep(sim.clone(), SWEEPER));
        let every = if w.faults.enabled { 1 + w.below(2 * SWEEP_EVERY_MS as u64) as i64 } else { SWEEP_EVERY_MS };
        *next_sweep = w.now_ms() + every;
    }
    for p in POLLERS {
        if !exec.busy(p) && sim.queue.has_visible(activity_queue) {
            exec.spawn(p, actors::poll(sim.clone(), p));
        }
    }
    let workflow_queue = crate::engine::code_tasks::workflow_queue(super::code::TASK_QUEUE);
    let stale = sim.queue.has_stale(&sticky_prefix(), crate::engine::STICKY_WAIT_MS_DEFAULT);
    for p in WORKFLOW_POLLERS {
        let own = crate::engine::code_tasks::sticky_queue(&workflow_queue, &sim.sticky.name(p));
        if !exec.busy(p) && (stale || sim.queue.has_visible(&workflow_queue) || sim.queue.has_visible(&own)) {
            exec.spawn(p, actors::poll_workflow(sim.clone(), p));
        }
    }
    let code_activity_queue = crate::engine::code_tasks::activity_queue(super::code::TASK_QUEUE);
    for p in CODE_ACTIVITY_POLLERS {
        if !exec.busy(p) && sim.queue.has_visible(&code_activity_queue) {
            exec.spawn(p, actors::poll_code_activity(sim.clone(), p));
        }
    }
}

/// What the code task queue's sticky queues' names start with.
fn sticky_prefix() -> String {
    crate::engine::code_tasks::sticky_queue(&crate::engine::code_tasks::workflow_queue(super::code::TASK_QUEUE), "")
}

/// When the next queue message comes due for a poller: a live worker's
/// sticky task at once, a gone one's once it waited the sticky wait.
fn next_message_ms(sim: &Sim) -> Option<i64> {
    let shared = crate::engine::code_tasks::workflow_queue(super::code::TASK_QUEUE);
    let live: Vec<String> =
        WORKFLOW_POLLERS.map(|p| crate::engine::code_tasks::sticky_queue(&shared, &sim.sticky.name(p))).collect();
    sim.queue.next_due_ms(&sticky_prefix(), crate::engine::STICKY_WAIT_MS_DEFAULT, |q| live.iter().any(|l| l == q))
}

/// Every planned execution was acknowledged and has closed, and no client waits on anything.
fn finished(sim: &Sim) -> bool {
    let c = sim.client.borrow();
    c.idle() && c.acked.len() == c.planned.len() && unfinished_in(sim, &c).is_empty() && schedule_done(sim)
}

/// The seed's schedule has no fire to come.
fn schedule_done(sim: &Sim) -> bool {
    run_now(sim.api().schedule(crate::schedules::DEFAULT_GROUP, workload::SCHEDULE_NAME))
        .ok()
        .flatten()
        .is_some_and(|(r, _)| r.next_ms.is_none() && r.buffered.is_empty())
}

fn unfinished(sim: &Sim) -> String {
    let c = sim.client.borrow();
    let mut open = unfinished_in(sim, &c);
    open.extend(
        c.planned.keys().filter(|n| !c.acked.contains_key(*n)).map(|n| format!("{n} (start not acknowledged)")),
    );
    open.join(", ")
}

fn unfinished_in(sim: &Sim, c: &Client) -> Vec<String> {
    c.acked
        .iter()
        .filter(|(_, arn)| {
            run_now(sim.api().execution(arn)).ok().flatten().is_none_or(|(r, _)| r.status == ExecutionStatus::Running)
        })
        .map(|(name, _)| name.clone())
        .collect()
}
