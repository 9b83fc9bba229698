//! A distributed Map's Map Run: the record DescribeMapRun and ListMapRuns
//! read, its counts as iterations start and end, its redrive, and
//! UpdateMapRun's changes to a running one.

use serde::{Deserialize, Serialize};

use super::events::{Details, EventType};
use super::frame::{Execution, Join, Status, Wait};
use super::run::Runtime;
use crate::Error;
use crate::limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MapRunStatus {
    Running,
    Succeeded,
    Failed,
    Aborted,
}

impl MapRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MapRunStatus::Running => "RUNNING",
            MapRunStatus::Succeeded => "SUCCEEDED",
            MapRunStatus::Failed => "FAILED",
            MapRunStatus::Aborted => "ABORTED",
        }
    }
}

/// Children (or items) that ended, and how many there are in all. Those
/// pending or running are the rest, read live from the Map's join.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    pub succeeded: u64,
    pub failed: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
    /// Of those failed: children that no redrive can change (AWS's NOT_REDRIVABLE).
    #[serde(default)]
    pub not_redrivable: u64,
    /// Unsuccessful children a redrive restarts that have not started yet.
    /// A redrive queues them first, in item order, so they are the next to start.
    #[serde(default)]
    pub pending_redrive: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRun {
    pub arn: String,
    pub status: MapRunStatus,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub max_concurrency: u64,
    pub tolerated_failure_count: u64,
    pub tolerated_failure_percentage: f64,
    pub executions: Ended,
    pub items: Ended,
    pub redrive_count: u64,
    pub redrive_ms: Option<i64>,
}

/// One of DescribeMapRun's `executionCounts` or `itemCounts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
    pub failures_not_redrivable: u64,
    pub pending_redrive: u64,
}

/// What UpdateMapRun changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MapRunUpdate {
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
}

/// A Map Run's running children and the items in them.
pub(super) struct Running {
    arn: String,
    executions: u64,
    items: u64,
}

/// What of a join runs, if it is a Map Run's.
pub(super) fn running(join: &Join) -> Option<Running> {
    if join.map_run_arn.is_empty() {
        return None;
    }
    let items = join.children.values().map(|i| join.items_in(*i)).sum();
    Some(Running { arn: join.map_run_arn.clone(), executions: join.children.len() as u64, items })
}

/// `arn:aws:states:…:stateMachine:<machine>/<label>`: the state machine AWS names a
/// Map Run's children under (ListMapRuns, the ResultWriter's entries).
pub fn run_machine_arn(map_run_arn: &str) -> String {
    let machine = map_run_arn.replacen(":mapRun:", ":stateMachine:", 1);
    machine.rsplit_once(':').map_or(machine.clone(), |(m, _)| m.to_string())
}

fn counts(ended: &Ended, running: u64) -> Counts {
    let closed = ended.succeeded + ended.failed + ended.aborted + running;
    Counts {
        pending: ended.total.saturating_sub(closed),
        running,
        succeeded: ended.succeeded,
        failed: ended.failed,
        timed_out: 0,
        aborted: ended.aborted,
        total: ended.total,
        results_written: ended.results_written,
        failures_not_redrivable: ended.not_redrivable,
        pending_redrive: ended.pending_redrive.min(ended.total.saturating_sub(closed)),
    }
}

impl Execution {
    /// The join of a running Map Run.
    fn map_run_join(&self, arn: &str) -> Option<(u64, &Join)> {
        self.frames.iter().find_map(|(id, fr)| match &fr.wait {
            Wait::Join(j) if j.map_run_arn == arn => Some((*id, &**j)),
            _ => None,
        })
    }

    pub fn map_run(&self, arn: &str) -> Option<&MapRun> {
        self.map_runs.iter().find(|r| r.arn == arn)
    }

    /// The Map Run a redrive would continue, when it was redriven as often as
    /// AWS allows (then the execution is not redrivable).
    pub fn map_run_redrives_exhausted(&self) -> Option<&str> {
        let arn = &self.redrive_point.as_ref()?.kept.as_ref()?.map_run_arn;
        self.map_run(arn).filter(|r| r.redrive_count >= limits::MAP_RUN_REDRIVES_MAX).map(|r| r.arn.as_str())
    }

    /// DescribeMapRun's `executionCounts` and `itemCounts`.
    pub fn map_run_counts(&self, arn: &str) -> Option<(Counts, Counts)> {
        let run = self.map_run(arn)?;
        let (executions, items) = match self.map_run_join(arn).and_then(|(_, j)| running(j)) {
            Some(r) => (r.executions, r.items),
            None => (0, 0),
        };
        Some((counts(&run.executions, executions), counts(&run.items, items)))
    }
}

impl Runtime<'_> {
    fn record_mut(&mut self, arn: &str) -> Option<&mut MapRun> {
        self.exec.map_runs.iter_mut().find(|r| r.arn == arn)
    }

    /// A new Map Run: its record, keeping at most the limit (closed ones go first).
    pub(super) fn map_run_started(&mut self, join: &Join) {
        if self.exec.map_runs.len() >= limits::MAP_RUNS_PER_EXECUTION_MAX
            && let Some(i) = self.exec.map_runs.iter().position(|r| r.status != MapRunStatus::Running)
        {
            self.exec.map_runs.remove(i);
        }
        self.exec.map_runs.push(MapRun {
            arn: join.map_run_arn.clone(),
            status: MapRunStatus::Running,
            start_ms: self.now_ms,
            stop_ms: None,
            max_concurrency: join.max_concurrency,
            tolerated_failure_count: join.tolerated_count.unwrap_or(0),
            tolerated_failure_percentage: join.tolerated_percentage.unwrap_or(0.0),
            executions: Ended::default(),
            items: Ended::default(),
            redrive_count: 0,
            redrive_ms: None,
        });
    }

    /// A redrive continues a Map Run: what failed or was aborted runs again.
    pub(super) fn map_run_redriven(&mut self, f: u64, join: &Join) {
        let now = self.now_ms;
        let Some(run) = self.record_mut(&join.map_run_arn) else {
            // Its record was dropped (over the limit): a redrive starts it afresh.
            self.map_run_started(join);
            let map_run_arn = join.map_run_arn.clone();
            self.emit(Some(f), EventType::MapRunStarted, Details::MapRunStarted { map_run_arn });
            return;
        };
        run.status = MapRunStatus::Running;
        run.stop_ms = None;
        run.redrive_count += 1;
        run.redrive_ms = Some(now);
        run.max_concurrency = join.max_concurrency;
        for e in [&mut run.executions, &mut run.items] {
            let pending_redrive = e.failed + e.aborted;
            *e = Ended { succeeded: e.succeeded, total: e.total, pending_redrive, ..Ended::default() };
        }
        let details =
            Details::MapRunRedriven { map_run_arn: join.map_run_arn.clone(), redrive_count: run.redrive_count };
        self.emit(Some(f), EventType::MapRunRedriven, details);
    }

    /// The items are known: the totals.
    pub(super) fn map_run_sized(&mut self, join: &Join) {
        if join.map_run_arn.is_empty() {
            return;
        }
        let items = (0..join.results.len() as u64).map(|i| join.items_in(i)).sum();
        if let Some(run) = self.record_mut(&join.map_run_arn) {
            run.executions.total = join.results.len() as u64;
            run.items.total = items;
        }
    }

    /// A child (or inline iteration) of Map Run `arn` starts.
    pub(super) fn map_run_child_started(&mut self, arn: &str, items: u64) {
        if let Some(run) = self.record_mut(arn) {
            run.executions.pending_redrive = run.executions.pending_redrive.saturating_sub(1);
            run.items.pending_redrive = run.items.pending_redrive.saturating_sub(items);
        }
    }

    /// A child failed, and no redrive can change that: counted once it ends.
    pub(super) fn map_run_not_redrivable(&mut self, arn: &str, items: u64) {
        if let Some(run) = self.record_mut(arn) {
            run.executions.not_redrivable += 1;
            run.items.not_redrivable += items;
        }
    }

    /// A child ended, successfully or not.
    pub(super) fn map_run_child_ended(&mut self, arn: &str, items: u64, ok: bool) {
        if let Some(run) = self.record_mut(arn) {
            for (e, n) in [(&mut run.executions, 1), (&mut run.items, items)] {
                if ok {
                    e.succeeded += n;
                } else {
                    e.failed += n;
                }
            }
        }
    }

    /// A join's running children are being aborted.
    pub(super) fn map_run_children_aborted(&mut self, running: Option<Running>) {
        let Some(r) = running else { return };
        if let Some(run) = self.record_mut(&r.arn) {
            run.executions.aborted += r.executions;
            run.items.aborted += r.items;
        }
    }

    /// The Map Run ended; with a ResultWriter, every ended child's result was written.
    pub(super) fn map_run_closed(&mut self, arn: &str, status: MapRunStatus, written: bool) {
        let now = self.now_ms;
        if let Some(run) = self.record_mut(arn)
            && run.status == MapRunStatus::Running
        {
            run.status = status;
            run.stop_ms = Some(now);
            // AWS: a Map Run that ended has nothing pending a redrive.
            run.executions.pending_redrive = 0;
            run.items.pending_redrive = 0;
            if written {
                for e in [&mut run.executions, &mut run.items] {
                    e.results_written = e.succeeded + e.failed;
                }
            }
        }
    }

    /// The execution ends: every Map Run still running is aborted, with its children.
    pub(super) fn map_runs_aborted(&mut self) {
        let joins: Vec<(u64, Running)> = self
            .exec
            .frames
            .iter()
            .filter_map(|(id, fr)| match &fr.wait {
                Wait::Join(j) => running(j).map(|r| (*id, r)),
                _ => None,
            })
            .collect();
        for (f, r) in joins {
            if self.exec.map_run(&r.arn).is_none_or(|run| run.status != MapRunStatus::Running) {
                continue;
            }
            if let Some(Wait::Join(j)) = self.exec.frames.get(&f).map(|fr| &fr.wait) {
                let aborted: Vec<(u64, Status)> = j.children.values().map(|i| (*i, Status::Aborted)).collect();
                self.express_children_closed(f, &aborted);
            }
            let arn = r.arn.clone();
            self.map_run_children_aborted(Some(r));
            self.map_run_closed(&arn, MapRunStatus::Aborted, false);
            self.emit(Some(f), EventType::MapRunAborted, Details::None {});
        }
    }

    /// UpdateMapRun: the new limits hold at once; a higher concurrency starts
    /// queued iterations now.
    pub(super) fn update_map_run(&mut self, arn: &str, update: MapRunUpdate) -> Result<(), Error> {
        let running = self.exec.map_run(arn).is_some_and(|r| r.status == MapRunStatus::Running);
        let Some((f, _)) = self.exec.map_run_join(arn).filter(|_| running) else {
            return Err(Error::MapRunNotRunning(arn.to_string()));
        };
        let run = self.record_mut(arn).expect("a running Map Run has a record");
        if let Some(m) = update.max_concurrency {
            run.max_concurrency = m;
        }
        if let Some(c) = update.tolerated_failure_count {
            run.tolerated_failure_count = c;
        }
        if let Some(p) = update.tolerated_failure_percentage {
            run.tolerated_failure_percentage = p;
        }
        let fr = self.frame_mut(f)?;
        let Wait::Join(join) = &mut fr.wait else { return Err(Error::Corrupt("a Map Run's join moved".into())) };
        if let Some(m) = update.max_concurrency {
            join.max_concurrency = m;
        }
        if let Some(c) = update.tolerated_failure_count {
            join.tolerated_count = Some(c);
        }
        if let Some(p) = update.tolerated_failure_percentage {
            join.tolerated_percentage = Some(p);
        }
        self.refill(f)
    }
}
