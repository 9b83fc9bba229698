//! `stepwise simulate`: the real engine and API code of the serverless
//! home, over deterministic in-memory DynamoDB and SQS ([`store`],
//! [`queue`]), on a simulated clock, with every interleaving, fault and
//! workload decided by a seed. Each seed runs twice: without faults (the
//! reference) and with them; the invariants ([`check`]) compare the two and
//! inspect what the faulty run left behind. Nothing here reads the clock or
//! the operating system's randomness, so a seed replays byte for byte.

mod actors;
mod check;
mod code;
mod executor;
pub mod queue;
mod run;
mod sticky;
pub mod store;
mod workload;
pub mod world;

use std::io::Write;

pub use run::{Outcome, RunResult, run_now, run_seed};

/// A safety mechanism the simulator disables, to show the invariants catch its loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Plant {
    /// Commits skip the version check.
    StaleCommit,
    /// An outbox entry is lost after its commit.
    DropOutbox,
    /// A closed task token is accepted once more.
    ReuseToken,
}

/// A simulated store (with its queue) that injects no faults: for the
/// storage contract tests, which hold it to DynamoDB's semantics.
pub fn fault_free_store() -> store::MemStore {
    let world = std::sync::Arc::new(world::World::new(0, world::Faults { enabled: false }, None));
    store::MemStore::new(world.clone(), std::sync::Arc::new(queue::MemQueue::new(world)))
}

/// Which machines a seed's clients start.
pub fn workloads() -> Vec<&'static str> {
    let mut w = vec!["mixed"];
    w.extend(workload::STARTED);
    w
}

pub struct Options {
    pub seeds: u64,
    pub start_seed: u64,
    pub workload: String,
    pub trace: bool,
    pub plant: Option<Plant>,
}

/// Runs the seeds; prints each failure, and last `simulation: N seeds, V violations`.
/// Gives V. With a plant it stops at the first seed that finds it.
pub fn simulate(opts: &Options, out: &mut dyn Write) -> std::io::Result<u64> {
    let (mut ran, mut violations) = (0, 0);
    let mut sticky = sticky::Stats::default();
    let (mut children, mut children_redriven) = (0, 0);
    for seed in opts.start_seed..opts.start_seed.saturating_add(opts.seeds) {
        let reference = run_seed(seed, false, None, &opts.workload);
        let faulty = run_seed(seed, true, opts.plant, &opts.workload);
        let found = check::compare(&reference, &faulty);
        ran += 1;
        sticky.hits += faulty.sticky.hits;
        sticky.misses += faulty.sticky.misses;
        sticky.restarts += faulty.sticky.restarts;
        sticky.eager_activities += faulty.sticky.eager_activities;
        children += faulty.children.0;
        children_redriven += faulty.children.1;
        if opts.trace {
            for line in &faulty.trace {
                writeln!(out, "{line}")?;
            }
        }
        if !found.is_empty() {
            violations += found.len() as u64;
            report(out, seed, &found, &faulty)?;
            if opts.plant.is_some() {
                break;
            }
        }
    }
    // Shows the faults reach the sticky cache's paths: misses read the whole history.
    let sticky::Stats { hits, misses, restarts, eager_activities } = sticky;
    writeln!(out, "sticky tasks: {hits} from a kept history, {misses} read whole; {restarts} worker restarts")?;
    writeln!(out, "eager activities: {eager_activities} handed over with answers to workflow tasks")?;
    writeln!(out, "map run children: {children} child executions, {children_redriven} redriven in place")?;
    writeln!(out, "simulation: {ran} seeds, {violations} violations")?;
    Ok(violations)
}

/// Trace lines a failure report ends with.
const REPORT_TRACE_LINES: usize = 25;

fn report(out: &mut dyn Write, seed: u64, found: &[(String, String)], faulty: &RunResult) -> std::io::Result<()> {
    for (invariant, detail) in found {
        writeln!(out, "seed {seed}: violated: {invariant}: {detail}")?;
    }
    writeln!(out, "seed {seed}: the last events (replay: stepwise simulate --seeds 1 --start-seed {seed} --trace):")?;
    let from = faulty.trace.len().saturating_sub(REPORT_TRACE_LINES);
    for line in &faulty.trace[from..] {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}
