//! The actors of a simulated deployment and their operations: schedulers,
//! the integration worker and the sweeper (the engine's own loops, one
//! message batch per operation), activity workers, and the clients that
//! start, stop, redrive and answer callbacks. Each operation is a future
//! the executor polls; what it learns goes into [`Client`].

use crate::AwsError;
use crate::model::ExecutionStatus;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::{Value, json};

use super::queue::MemQueue;
use super::store::MemStore;
use super::workload::{self, FAULTY_ATTEMPTS_MAX};
use super::world::World;
use crate::Error;
use crate::engine::{Engine, workers};
use crate::model::queues;

/// How often a client looks at an execution it waits on.
pub const OBSERVE_MS: i64 = 20_000;
/// How soon a client retries a call that failed in transit.
const RETRY_MS: i64 = 1_000;
/// How often a heartbeat-sending worker beats.
const HEARTBEAT_EVERY_MS: i64 = 20_000;
/// How long long work takes (beyond one heartbeat timeout).
const LONG_WORK_MS: i64 = 90_000;
/// Per mille of first attempts a worker misbehaves on.
const WORKER_FAULT_PER_MILLE: u64 = 250;

/// Something a client or worker will do at a time.
#[derive(Debug, Clone)]
pub enum Action {
    Start {
        name: String,
    },
    Stop {
        name: String,
    },
    Redrive {
        name: String,
    },
    /// Look at an execution: redrive it once it failed, answer its callback.
    Observe {
        name: String,
    },
    Callback {
        token: String,
        x: i64,
    },
    Answer {
        token: String,
        answer: Result<Value, (String, String)>,
    },
    Heartbeat {
        token: String,
    },
    /// A worker's answer to a workflow task.
    Respond {
        token: String,
        commands: Vec<stepwise_workflow_core::history::Command>,
        time_ms: i64,
        /// The worker's name when it keeps the run's history (sticky).
        worker: Option<String>,
    },
    Signal {
        name: String,
    },
    Cancel {
        name: String,
    },
    Update {
        name: String,
    },
    Query {
        name: String,
    },
}

impl Action {
    /// A client retries its calls after a crash; a worker that dies does not come back to its task.
    pub fn survives_crash(&self) -> bool {
        !matches!(self, Action::Answer { .. } | Action::Heartbeat { .. } | Action::Respond { .. })
    }
}

/// One execution a client starts.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    pub machine: String,
    pub input: Value,
}

/// What the clients and workers know and have been told.
#[derive(Default)]
pub struct Client {
    pub planned: BTreeMap<String, Planned>,
    /// Executions whose start was acknowledged, by name.
    pub acked: BTreeMap<String, String>,
    actions: BTreeMap<(i64, u64), Action>,
    seq: u64,
    /// Results (task answers and callbacks) acknowledged, by token.
    pub results_acked: BTreeMap<String, u32>,
    pub redriven: BTreeSet<String>,
    pub stopped: BTreeSet<String>,
    pub callbacks_sent: BTreeSet<String>,
    /// Distributed Map children's tasks, by token: (execution, item).
    item_tasks: BTreeMap<String, (String, i64)>,
    /// Children a failed execution recorded as succeeded: (execution, item).
    items_done: BTreeSet<(String, i64)>,
    pub violations: Vec<(String, String)>,
}

impl Client {
    pub fn push(&mut self, at_ms: i64, action: Action) {
        self.seq += 1;
        self.actions.insert((at_ms, self.seq), action);
    }
    pub fn pop_due(&mut self, now_ms: i64) -> Option<Action> {
        let key = *self.actions.keys().next().filter(|(at, _)| *at <= now_ms)?;
        self.actions.remove(&key)
    }
    pub fn next_due(&self) -> Option<i64> {
        self.actions.keys().next().map(|(at, _)| *at)
    }
    pub fn idle(&self) -> bool {
        self.actions.is_empty()
    }
}

/// Everything the operations share.
pub struct Sim {
    pub world: Arc<World>,
    pub store: Arc<MemStore>,
    pub queue: Arc<MemQueue>,
    /// One engine per scheduler (each with its own clock skew), then the
    /// integration worker's, the sweeper's and the API's.
    pub engines: Vec<Engine>,
    pub activity: String,
    pub client: RefCell<Client>,
    /// The code workers' sticky caches.
    pub sticky: super::sticky::Caches,
}

impl Sim {
    pub fn api(&self) -> &Engine {
        self.engines.last().expect("the API engine")
    }
    pub fn machine_arn(&self, machine: &str) -> String {
        self.api().scope.state_machine(machine)
    }
    pub fn execution_arn(&self, p: &Planned) -> String {
        self.api().scope.execution(&p.machine, &p.name, false)
    }
    fn now(&self) -> i64 {
        self.world.now_ms()
    }
    fn later(&self, delay_ms: i64, action: Action) {
        self.client.borrow_mut().push(self.now() + delay_ms, action);
    }
}

/// A scheduler (or the integration worker) takes one batch and handles it.
pub async fn drain(sim: Rc<Sim>, engine: usize, queue: &'static str) {
    let e = &sim.engines[engine];
    let Ok(batch) = workers::receive_now(e, queue).await else {
        return;
    };
    sim.world.trace(|| format!("actor {engine}: {} message(s) from {queue}", batch.len()));
    for m in &batch {
        if queue == queues::SCHEDULER {
            workers::on_scheduler_message(e, m).await;
        } else {
            workers::on_task_message(e, m).await;
        }
    }
}

pub async fn sweep(sim: Rc<Sim>, engine: usize) {
    let swept = workers::sweep(&sim.engines[engine]).await;
    sim.world.trace(|| format!("actor {engine}: sweep {}", if swept.is_ok() { "done" } else { "failed" }));
}

/// An activity worker asks for a task and plans its answer.
pub async fn poll(sim: Rc<Sim>, worker: usize) {
    let req = json!({"activityArn": sim.activity, "workerName": format!("w{worker}")});
    let Ok(got) = crate::api::call(sim.api(), "GetActivityTask", req).await else { return };
    let Some(token) = got["taskToken"].as_str().map(str::to_string) else { return };
    let input: Value = serde_json::from_str(got["input"].as_str().expect("a task has input")).expect("JSON input");
    let answer = workload::answer(&input);
    child_task(&sim, &token, &input);
    let attempt = input["attempt"].as_u64().expect("attempt");
    let work_ms = if workload::long_work(&input) { LONG_WORK_MS } else { 500 + sim.world.below(3000) as i64 };
    let fault = attempt < FAULTY_ATTEMPTS_MAX && sim.world.fault(WORKER_FAULT_PER_MILLE);
    let how = if fault { sim.world.below(4) } else { 4 };
    sim.world.trace(|| {
        format!("worker {worker}: task {} ({} x={}), behaviour {how}", short(&token), input["mode"], input["x"])
    });
    let mut c = sim.client.borrow_mut();
    let now = sim.now();
    match how {
        0 => {} // dies holding the task
        1 => c.push(now + workload::task_timeout_ms() + 30_000, Action::Answer { token, answer }), // after the timeout
        2 => {
            c.push(now + work_ms, Action::Answer { token: token.clone(), answer: answer.clone() });
            c.push(now + work_ms + sim.world.below(5_000) as i64, Action::Answer { token, answer }); // twice
        }
        _ => {
            // 3: works without heartbeats; otherwise beats while it works.
            if how == 4 {
                for at in (HEARTBEAT_EVERY_MS..work_ms).step_by(HEARTBEAT_EVERY_MS as usize) {
                    c.push(now + at, Action::Heartbeat { token: token.clone() });
                }
            }
            c.push(now + work_ms, Action::Answer { token, answer });
        }
    }
}

/// A code worker takes a workflow task and plans its answer: the new commands.
/// It keeps the run's history between tasks (a sticky cache), and names
/// itself in its answer when it does, so the next task comes to it first.
pub async fn poll_workflow(sim: Rc<Sim>, worker: usize) {
    sim.sticky.maybe_restart(&sim.world, worker);
    let me = sim.sticky.name(worker);
    let req = json!({"taskQueue": super::code::TASK_QUEUE, "workerName": me});
    let Ok(t) = crate::api::call(sim.api(), "PollWorkflowTask", req).await else { return };
    if t["kind"] == "QUERY" {
        return answer_query(&sim, &t).await;
    }
    if t["kind"] != "WORKFLOW" {
        return;
    }
    let token = t["taskToken"].as_str().expect("a token").to_string();
    let part: Vec<stepwise_workflow_core::history::Event> =
        serde_json::from_value(t["history"].clone()).expect("a code history");
    let arn = t["executionArn"].as_str().expect("an ARN");
    let from = t["historyFrom"].as_u64().expect("a workflow task says where its history starts") as usize;
    let len = from + part.len();
    let history = match sim.sticky.history(worker, arn, from, part) {
        Some(h) => h,
        // Not kept: the whole history, as the SDK's worker reads it. A failed
        // read leaves the task to time out and come again.
        None => match super::sticky::read_run(&sim, arn, len).await {
            Some(h) => h,
            None => return,
        },
    };
    let name = arn.rsplit(':').next().expect("a name");
    let commands = super::code::decide(t["workflowType"].as_str().expect("a type"), name, &history);
    let closing = commands.iter().any(|c| {
        use stepwise_workflow_core::history::Command as C;
        matches!(
            c,
            C::CompleteWorkflow { .. } | C::FailWorkflow { .. } | C::CancelWorkflow { .. } | C::ContinueAsNew { .. }
        )
    });
    let kept = sim.sticky.keep(&sim.world, worker, arn, history, closing).then_some(me);
    let how = if sim.world.fault(WORKER_FAULT_PER_MILLE / 2) { sim.world.below(3) } else { 3 };
    sim.world.trace(|| {
        format!(
            "code worker {worker}: workflow task {} from event {from} ({} commands, kept: {}), behaviour {how}",
            short(&token),
            commands.len(),
            kept.is_some()
        )
    });
    let now = sim.now();
    let respond =
        || Action::Respond { token: token.clone(), commands: commands.clone(), time_ms: now, worker: kept.clone() };
    let mut c = sim.client.borrow_mut();
    match how {
        0 => {} // dies holding the task: it times out and is scheduled again
        1 => c.push(now + stepwise_workflow_core::host::WORKFLOW_TASK_TIMEOUT_MS + 5_000, respond()),
        2 => {
            c.push(now + 10, respond());
            c.push(now + 10 + sim.world.below(3_000) as i64, respond());
        }
        _ => c.push(now + 10 + sim.world.below(200) as i64, respond()),
    }
}

/// A code worker answers a query or an update's validation at once.
async fn answer_query(sim: &Sim, t: &Value) {
    let history: Vec<stepwise_workflow_core::history::Event> =
        serde_json::from_value(t["history"].clone()).expect("a code history");
    let (kind, name) = (t["queryType"].as_str().expect("a kind"), t["queryName"].as_str().expect("a name"));
    let id = t["queryId"].as_str().expect("an id");
    let req = match super::code::answer_query(kind, name, &t["queryInput"], &history) {
        Ok(output) => json!({"queryId": id, "output": output}),
        Err(cause) => json!({"queryId": id, "error": "UpdateRejected", "cause": cause}),
    };
    let answered = crate::api::call(sim.api(), "RespondQueryTaskCompleted", req).await;
    sim.world.trace(|| format!("code worker: {kind} {name} answered: {}", answered.is_ok()));
}

/// A code worker takes an activity task and plans its answer.
pub async fn poll_code_activity(sim: Rc<Sim>, worker: usize) {
    let req = json!({"taskQueue": super::code::TASK_QUEUE, "workerName": format!("ca{worker}")});
    let Ok(t) = crate::api::call(sim.api(), "PollActivityTask", req).await else { return };
    if t["kind"] != "ACTIVITY" {
        return;
    }
    run_code_activity(&sim, &format!("ca{worker}"), &t);
}

/// A code worker plans its answer to an activity task it polled or was
/// handed with its answer to a workflow task (eager).
fn run_code_activity(sim: &Sim, worker: &str, t: &Value) {
    let token = t["taskToken"].as_str().expect("a token").to_string();
    let output = super::code::activity_result(t["activityType"].as_str().expect("a type"), &t["input"]);
    let attempt = t["attempt"].as_u64().expect("an attempt");
    let how =
        if attempt <= FAULTY_ATTEMPTS_MAX && sim.world.fault(WORKER_FAULT_PER_MILLE) { sim.world.below(3) } else { 3 };
    sim.world.trace(|| format!("code worker {worker}: activity {} attempt {attempt}, behaviour {how}", short(&token)));
    let now = sim.now();
    let answer = || Action::Answer { token: token.clone(), answer: Ok(output.clone()) };
    let mut c = sim.client.borrow_mut();
    match how {
        0 => {}
        1 => c.push(now + 90_000, answer()), // after its start-to-close timeout
        2 => {
            c.push(now + 500, answer());
            c.push(now + 500 + sim.world.below(3_000) as i64, answer());
        }
        _ => c.push(now + 200 + sim.world.below(2_000) as i64, answer()),
    }
}

fn short(token: &str) -> String {
    crate::store::sha256_hex(token.as_bytes())[..8].to_string()
}

/// Runs one client or worker action.
pub async fn act(sim: Rc<Sim>, action: Action) {
    let api = sim.api();
    let call = |op: &'static str, req: Value| crate::api::call(api, op, req);
    match action {
        Action::Start { name } => {
            let p = sim.client.borrow().planned[&name].clone();
            let req =
                json!({"stateMachineArn": sim.machine_arn(&p.machine), "name": p.name, "input": p.input.to_string()});
            match call("StartExecution", req).await {
                Ok(_) | Err(Error::Api { kind: AwsError::ExecutionAlreadyExists, .. }) => started(&sim, &p),
                Err(e) => retry(&sim, "start", e, Action::Start { name }),
            }
        }
        Action::Stop { name } => {
            let arn = sim.client.borrow().acked[&name].clone();
            let req = json!({"executionArn": arn, "error": "Sim.Stop", "cause": "the client stopped it"});
            match call("StopExecution", req).await {
                Ok(_) => {
                    sim.client.borrow_mut().stopped.insert(name);
                }
                Err(e) => retry(&sim, "stop", e, Action::Stop { name }),
            }
        }
        Action::Redrive { name } => {
            let arn = sim.client.borrow().acked[&name].clone();
            children_kept(&sim, &name, &arn).await;
            match call("RedriveExecution", json!({"executionArn": arn})).await {
                Ok(_) | Err(Error::Api { kind: AwsError::ExecutionNotRedrivable, .. }) => {
                    sim.world.trace(|| format!("client: redrove {name}"));
                    sim.client.borrow_mut().redriven.insert(name);
                }
                Err(e) => retry(&sim, "redrive", e, Action::Redrive { name }),
            }
        }
        Action::Observe { name } => observe(&sim, name).await,
        Action::Callback { token, x } => {
            let req = json!({"taskToken": token, "output": json!({"cb": x}).to_string()});
            match call("SendTaskSuccess", req).await {
                Ok(_) => acked_result(&sim, &token),
                Err(Error::Api { kind: AwsError::TaskTimedOut | AwsError::InvalidToken, .. }) => {}
                Err(e) => retry(&sim, "callback", e, Action::Callback { token, x }),
            }
        }
        Action::Answer { token, answer } => {
            let (op, req) = match &answer {
                Ok(output) => ("SendTaskSuccess", json!({"taskToken": token, "output": output.to_string()})),
                Err((error, cause)) => ("SendTaskFailure", json!({"taskToken": token, "error": error, "cause": cause})),
            };
            match call(op, req).await {
                Ok(_) => acked_result(&sim, &token),
                Err(Error::Api { kind: AwsError::TaskTimedOut | AwsError::InvalidToken, .. }) => {
                    sim.world.trace(|| format!("worker: answer to {} refused", short(&token)));
                }
                Err(e) => retry(&sim, "answer", e, Action::Answer { token, answer }),
            }
        }
        Action::Heartbeat { token } => {
            let _ = call("SendTaskHeartbeat", json!({"taskToken": token})).await;
        }
        Action::Respond { token, commands, time_ms, worker } => {
            // Some answers ask for the activity tasks they schedule (eager).
            let eager = sim.world.below(3);
            let req = json!({"taskToken": token, "commands": commands, "timeMs": time_ms, "workerName": worker,
                "eagerActivities": eager});
            match call("RespondWorkflowTaskCompleted", req).await {
                Ok(out) => {
                    acked_result(&sim, &token);
                    let tasks = out["activityTasks"].as_array().expect("a list of tasks");
                    sim.sticky.stats.borrow_mut().eager_activities += tasks.len() as u64;
                    for t in tasks {
                        sim.world.trace(|| {
                            format!("worker: eager activity {}", short(t["taskToken"].as_str().unwrap_or("-")))
                        });
                        run_code_activity(&sim, "eager", t);
                    }
                }
                Err(Error::Api { kind: AwsError::TaskTimedOut | AwsError::InvalidToken, .. }) => {
                    sim.world.trace(|| format!("worker: workflow task answer {} refused", short(&token)));
                }
                Err(e) => retry(&sim, "respond", e, Action::Respond { token, commands, time_ms, worker }),
            }
        }
        Action::Signal { name } => {
            let arn = sim.client.borrow().acked[&name].clone();
            // One request id for the signal and its retries: applied once however often it is sent.
            let req = json!({"executionArn": arn, "signalName": super::code::SIGNAL, "input": "{\"by\":\"client\"}",
                "requestId": format!("signal-{name}")});
            match call("SignalExecution", req).await {
                Ok(_) => sim.world.trace(|| format!("client: signalled {name}")),
                Err(e) => retry(&sim, "signal", e, Action::Signal { name }),
            }
        }
        Action::Update { name } => {
            let arn = sim.client.borrow().acked[&name].clone();
            let req = json!({"executionArn": arn, "updateName": super::code::UPDATE, "input": "{\"n\":7}"});
            match call("UpdateExecution", req).await {
                Ok(out) if out["output"] == json!({"echo": {"n": 7}}) => {
                    sim.world.trace(|| format!("client: updated {name}"))
                }
                Ok(out) => {
                    let why = format!("{name}: the update answered {out}");
                    sim.client.borrow_mut().violations.push(("an update gets its workflow's answer".into(), why));
                }
                Err(e) => retry(&sim, "update", e, Action::Update { name }),
            }
        }
        Action::Query { name } => {
            let arn = sim.client.borrow().acked[&name].clone();
            let req = json!({"executionArn": arn, "queryName": super::code::QUERY});
            match call("QueryExecution", req).await {
                Ok(out) => sim.world.trace(|| format!("client: queried {name}: {}", out["output"])),
                Err(e) => retry(&sim, "query", e, Action::Query { name }),
            }
        }
        Action::Cancel { name } => {
            let arn = sim.client.borrow().acked[&name].clone();
            match call("RequestCancelExecution", json!({"executionArn": arn})).await {
                Ok(_) => sim.world.trace(|| format!("client: asked {name} to cancel")),
                Err(e) => retry(&sim, "cancel", e, Action::Cancel { name }),
            }
        }
    }
}

fn started(sim: &Sim, p: &Planned) {
    sim.world.trace(|| format!("client: started {}", p.name));
    let arn = sim.execution_arn(p);
    let first = sim.client.borrow_mut().acked.insert(p.name.clone(), arn).is_none();
    if !first {
        return;
    }
    match p.machine.as_str() {
        "sleeper" => sim.later(workload::STOP_AFTER_MS, Action::Stop { name: p.name.clone() }),
        "redrive" | workload::REDRIVE_MAP | "callback" => {
            sim.later(OBSERVE_MS, Action::Observe { name: p.name.clone() })
        }
        "sim-order" => {
            sim.later(sim.world.below(60_000) as i64, Action::Signal { name: p.name.clone() });
            sim.later(sim.world.below(20_000) as i64, Action::Update { name: p.name.clone() });
            sim.later(sim.world.below(20_000) as i64, Action::Query { name: p.name.clone() });
        }
        "sim-cancel" => sim.later(120_000, Action::Cancel { name: p.name.clone() }),
        _ => {}
    }
}

/// A call that failed in transit (throttled, a lost response) is made
/// again; one the API refused is not (an earlier try whose answer was lost
/// may have done it: a cancellation of an execution that has since closed).
fn retry(sim: &Sim, what: &str, e: Error, action: Action) {
    let transient = !matches!(&e, Error::Api { kind, .. } if !matches!(*kind, AwsError::ThrottlingException | AwsError::InternalFailure));
    sim.world.trace(|| format!("client: {what} failed ({e}); {}", if transient { "retried" } else { "given up" }));
    if transient {
        sim.later(RETRY_MS, action);
    }
}

/// The children a failed `redrive-map` execution recorded as succeeded, read
/// before it is redriven. (A worker's acknowledged answer is not enough: an
/// answer that races the Map's failure is dropped with the aborted child, as
/// on AWS, and the redrive runs that child again.)
async fn children_kept(sim: &Sim, name: &str, arn: &str) {
    let Ok(Some((rec, _))) = sim.api().execution(arn).await else { return };
    let kept = rec.asl().and_then(|s| s.redrive_point.as_ref()).and_then(|p| p.kept.as_ref());
    let mut c = sim.client.borrow_mut();
    for result in kept.iter().flat_map(|k| k.results.values()) {
        let y = result["y"].as_i64().expect("a kept child's result has y");
        c.items_done.insert((name.to_string(), workload::redrive_map_item(y)));
    }
}

/// A distributed Map child's task (its input names the execution): a new
/// task for a child recorded as succeeded is a re-run.
fn child_task(sim: &Sim, token: &str, input: &Value) {
    let Some(exec) = input["exec"].as_str() else { return };
    let item = (exec.to_string(), input["x"].as_i64().expect("x"));
    let mut c = sim.client.borrow_mut();
    if c.item_tasks.insert(token.to_string(), item.clone()).is_none() && c.items_done.contains(&item) {
        let why = format!("{} item {} ran again after the execution recorded its success", item.0, item.1);
        c.violations.push(("a succeeded child is never re-run".into(), why));
    }
}

fn acked_result(sim: &Sim, token: &str) {
    let mut c = sim.client.borrow_mut();
    let n = c.results_acked.entry(token.to_string()).or_default();
    *n += 1;
    if *n > 1 {
        let why = format!("a result for the closed task {} was accepted again", short(token));
        c.violations.push(("a closed task's token is refused".into(), why));
    }
}

async fn observe(sim: &Sim, name: String) {
    let arn = sim.client.borrow().acked[&name].clone();
    let Ok(Some((rec, _))) = sim.api().execution(&arn).await else {
        return sim.later(RETRY_MS, Action::Observe { name });
    };
    let machine = sim.client.borrow().planned[&name].machine.clone();
    let running = rec.status == ExecutionStatus::Running;
    if machine == "redrive" || machine == workload::REDRIVE_MAP {
        let redriven = sim.client.borrow().redriven.contains(&name);
        if rec.status == ExecutionStatus::Failed && !redriven {
            sim.later(0, Action::Redrive { name: name.clone() });
        }
        if running || !redriven {
            sim.later(OBSERVE_MS, Action::Observe { name });
        }
        return;
    }
    // A callback: its child's input names the parent and carries the token.
    let list = json!({"stateMachineArn": sim.machine_arn("cb-child"), "maxResults": 1000});
    let Ok(children) = crate::api::call(sim.api(), "ListExecutions", list).await else {
        return sim.later(RETRY_MS, Action::Observe { name });
    };
    for child in children["executions"].as_array().expect("a list") {
        let child_arn = child["executionArn"].as_str().expect("an ARN");
        let Ok(Some((c, _))) = sim.api().execution(child_arn).await else { continue };
        let input: Value = serde_json::from_str(&c.input).expect("JSON input");
        if input["parent"] != json!(name) {
            continue;
        }
        let token = input["token"].as_str().expect("the child has the token").to_string();
        if sim.client.borrow_mut().callbacks_sent.insert(token.clone()) {
            let x = input["x"].as_i64().expect("x");
            sim.later(sim.world.below(10_000) as i64, Action::Callback { token, x });
        }
    }
    if running {
        sim.later(OBSERVE_MS, Action::Observe { name });
    }
}
