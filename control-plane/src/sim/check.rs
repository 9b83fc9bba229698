//! The invariants, checked when a run has settled: against what the run
//! left in the store, and against the fault-free run of the same seed.

use crate::model::ExecutionStatus;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::actors::Sim;
use super::run::{Outcome, RunResult, run_now};
use crate::engine::decode;
use crate::model::{ExecutionRecord, TokenRecord};

type Violations = Vec<(String, String)>;

/// Events one history page asks for.
const HISTORY_PAGE_EVENTS: usize = 1000;

/// Each planned execution's outcome, and the violations the store shows.
pub fn inspect(sim: &Sim, violations: &mut Violations) -> BTreeMap<String, Outcome> {
    let acked = sim.client.borrow().acked.clone();
    let mut outcomes = BTreeMap::new();
    for (name, arn) in &acked {
        let Some((rec, _)) = run_now(sim.api().execution(arn)).expect("reads do not fail") else {
            violations.push(("every acknowledged StartExecution exists".into(), format!("{name} does not exist")));
            continue;
        };
        let entered = history(sim, arn, name, violations);
        outcomes.insert(
            name.clone(),
            Outcome {
                status: rec.status.to_string(),
                output: rec.output.clone(),
                error: (rec.status != ExecutionStatus::Succeeded).then(|| (rec.error.clone(), rec.cause.clone())),
                entered,
            },
        );
    }
    exactly_once(sim, &acked, violations);
    schedule_fires(sim, violations);
    leftovers(sim, violations);
    let ledger = sim.world.ledger();
    for id in ledger.outbox_committed.difference(&ledger.outbox_sent) {
        violations.push(("no outbox entry is lost".into(), format!("outbox entry {id} was committed and never sent")));
    }
    for why in &ledger.limit_breaches {
        violations.push(("the store stays within its limits".into(), why.clone()));
    }
    outcomes
}

/// Reads the whole history: its ids run 1, 2, 3, … and every activity
/// scheduled has exactly one outcome. Gives the states entered.
fn history(sim: &Sim, arn: &str, name: &str, violations: &mut Violations) -> BTreeMap<String, u32> {
    let mut events: Vec<Value> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = json!({"executionArn": arn, "maxResults": HISTORY_PAGE_EVENTS, "nextToken": token});
        let page = run_now(crate::api::call(sim.api(), "GetExecutionHistory", req)).expect("history reads");
        events.extend(page["events"].as_array().expect("events").iter().cloned());
        token = page["nextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().expect("an id")).collect();
    if ids != (1..=ids.len() as u64).collect::<Vec<_>>() {
        let why = format!("{name}: ids {:?}", &ids[..ids.len().min(40)]);
        violations.push(("history event ids are contiguous, without gaps or duplicates".into(), why));
    }
    let count = |types: &[&str]| events.iter().filter(|e| types.contains(&e["type"].as_str().unwrap_or(""))).count();
    let scheduled = count(&["ActivityScheduled"]);
    let ended =
        count(&["ActivitySucceeded", "ActivityFailed", "ActivityTimedOut", "ActivityCompleted", "ActivityCancelled"]);
    if scheduled != ended {
        let why = format!("{name}: {scheduled} activities scheduled, {ended} ended");
        violations.push(("every task is answered exactly once".into(), why));
    }
    let signals = count(&["SignalReceived"]);
    if name.contains("sim-order") && signals != 1 {
        let why = format!("{name}: its one signal was received {signals} times");
        violations.push(("every acknowledged signal is applied exactly once".into(), why));
    }
    let mut entered = BTreeMap::new();
    for e in &events {
        if e["type"].as_str().is_some_and(|t| t.ends_with("StateEntered")) {
            let state = e["stateEnteredEventDetails"]["name"].as_str().expect("a state name");
            *entered.entry(state.to_string()).or_insert(0) += 1;
        }
    }
    entered
}

/// Each acknowledged start is listed exactly once under its machine.
fn exactly_once(sim: &Sim, acked: &BTreeMap<String, String>, violations: &mut Violations) {
    let mut listed: BTreeMap<String, u32> = BTreeMap::new();
    for item in sim.store.all_items().iter().filter(|i| i.pk.starts_with("SMX#")) {
        let summary: Value = decode(&item.body).expect("an index entry");
        *listed.entry(summary["arn"].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    for (name, arn) in acked {
        let n = listed.get(arn).copied().unwrap_or(0);
        if n != 1 {
            violations.push((
                "every acknowledged StartExecution exists exactly once".into(),
                format!("{name} is listed {n} times"),
            ));
        }
    }
}

/// A Map Run's child executions at the end of a run: (how many, how many were redriven in place).
pub fn map_children(sim: &Sim) -> (u64, u64) {
    let children: Vec<ExecutionRecord> = sim
        .store
        .all_items()
        .iter()
        .filter(|i| i.pk.starts_with("EX#") && i.sk == "META")
        .map(|i| record::<ExecutionRecord>(sim, i))
        .filter(|r| r.map_run_arn().is_some())
        .collect();
    (children.len() as u64, children.iter().filter(|r| r.redrive_count > 0).count() as u64)
}

/// No open token, timer or inbox entry of a closed execution remains.
fn leftovers(sim: &Sim, violations: &mut Violations) {
    let items = sim.store.all_items();
    let closed: BTreeSet<String> = items
        .iter()
        .filter(|i| i.pk.starts_with("EX#") && i.sk == "META")
        .map(|i| record::<ExecutionRecord>(sim, i))
        .filter(|r| r.status != ExecutionStatus::Running)
        .map(|r| r.arn)
        .collect();
    let mut orphan = |what: &str, arn: &str| {
        violations.push(("nothing of a closed execution stays open".into(), format!("{what} of closed {arn}")));
    };
    for i in &items {
        if i.pk.starts_with("TOK#") && i.sk == "META" {
            let t: TokenRecord = record(sim, i);
            if !t.closed && closed.contains(&t.execution_arn) {
                orphan("an open task token", &t.execution_arn);
            }
        } else if i.pk.starts_with("TIMERS#") {
            let (_, arn, _) = crate::model::keys::parse_timer(&i.sk).expect("timer index keys parse");
            if closed.contains(arn) {
                orphan("a timer", arn);
            }
        } else if let Some(arn) = i.pk.strip_prefix("EX#").filter(|_| i.sk.starts_with("I#"))
            && closed.contains(arn)
        {
            orphan("an inbox entry", arn);
        }
    }
}

/// A record stored as a blob (a head and parts), decoded.
fn record<T: serde::de::DeserializeOwned>(sim: &Sim, head: &crate::store::Item) -> T {
    let blob = run_now(crate::store::blob::assemble(&*sim.store, head.clone()))
        .expect("stored records are whole")
        .expect("nothing deletes while the checks read");
    decode(&blob.bytes).expect("stored records decode")
}

/// The faulty run's own violations, and every way it ended differently from the reference.
pub fn compare(reference: &RunResult, faulty: &RunResult) -> Violations {
    let mut found: Violations =
        reference.violations.iter().map(|(i, d)| (i.clone(), format!("in the fault-free run: {d}"))).collect();
    found.extend(faulty.violations.iter().cloned());
    for (name, want) in &reference.outcomes {
        match faulty.outcomes.get(name) {
            None => found.push(("every execution ends as without faults".into(), format!("{name} is missing"))),
            Some(got) if (&got.status, &got.output, &got.error) != (&want.status, &want.output, &want.error) => found
                .push((
                    "every execution ends as without faults".into(),
                    format!(
                        "{name}: {} {:?} {:?}, without faults {} {:?} {:?}",
                        got.status, got.output, got.error, want.status, want.output, want.error
                    ),
                )),
            Some(got) if got.entered != want.entered => found.push((
                "no state is entered twice unless a retry says so".into(),
                format!("{name}: entered {:?}, without faults {:?}", got.entered, want.entered),
            )),
            Some(_) => {}
        }
    }
    found
}

/// The seed's schedule started one execution per fire time: none missing,
/// none twice (their names are the fire times, so a second start of a fire
/// could only show as an extra name).
fn schedule_fires(sim: &Sim, violations: &mut Violations) {
    use super::workload::{SCHEDULE_NAME, SCHEDULED_MACHINE, schedule_fires};
    let machine = crate::arn::Scope::default().state_machine(SCHEDULED_MACHINE);
    let req = json!({"stateMachineArn": machine, "maxResults": 1000});
    let list = run_now(crate::api::call(sim.api(), "ListExecutions", req)).expect("listing reads");
    let got: BTreeSet<String> = list["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect();
    let want: BTreeSet<String> = schedule_fires()
        .into_iter()
        .map(|t| {
            crate::schedules::execution_name(crate::schedules::DEFAULT_GROUP, SCHEDULE_NAME, super::world::EPOCH_MS + t)
        })
        .collect();
    if got != want {
        let why = format!(
            "missing {:?}, extra {:?}",
            want.difference(&got).collect::<Vec<_>>(),
            got.difference(&want).collect::<Vec<_>>()
        );
        violations.push(("a schedule starts one execution per fire time".into(), why));
    }
}
