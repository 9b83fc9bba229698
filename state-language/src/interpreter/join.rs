//! Parallel and Map: spawning children and joining their results.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value};

use super::Command;
use super::amount::Number;
use super::context::Where;
use super::events::{Details, ErrorDetails, EventType, Iteration};
use super::frame::{Join, Parent, Status, Wait};
use super::io::{self, Raised, with_scope};
use super::run::{Flow, Runtime};
use crate::Error;
use crate::definition::{Amount, MachineId, MapSpec, State};
use crate::intrinsics::Env;
use crate::limits;

type Res<T> = Result<T, Result<Raised, Error>>;

impl Runtime<'_> {
    pub(super) fn start_parallel(
        &mut self,
        f: u64,
        state: &State,
        branches: &[MachineId],
        effective: Value,
        entered: u64,
    ) -> Res<Flow> {
        let at = Where { state_name: &state.name, ..Where::default() };
        let input = match (&state.io.parameters, &state.io.arguments) {
            (Some(t), _) => {
                with_scope(self.exec, f, &effective, at, |s| io::render(s, t, &state.name, entered)).map_err(Ok)?
            }
            (None, Some(jt)) => {
                let states = super::jsonata::StatesVar::input(&effective);
                self.eval_jt(f, state, jt, "Arguments", states, at).map_err(Ok)?
            }
            (None, None) => effective,
        };
        self.emit(Some(f), EventType::ParallelStateStarted, Details::None {});
        let vars = self.frame(f).map_err(Err)?.vars.clone();
        // A redrive runs again only the branches that did not succeed.
        let kept = self.frame_mut(f).map_err(Err)?.kept.take().map(|k| k.results).unwrap_or_default();
        let mut results = vec![Value::Null; branches.len()];
        let mut children = BTreeMap::new();
        for (i, m) in branches.iter().enumerate() {
            if let Some(v) = kept.get(&(i as u64)) {
                results[i] = v.clone();
                continue;
            }
            let start = self.def.machines[*m].start_at;
            let parent = Parent { frame: f, index: i as u64 };
            let child = self.spawn(*m, start, input.clone(), vars.clone(), Some(parent), None);
            children.insert(child, i as u64);
        }
        let all_kept = children.is_empty();
        let join = Join {
            is_map: false,
            distributed: false,
            effective_input: Value::Null,
            results,
            children,
            queued: VecDeque::new(),
            max_concurrency: 0,
            failures: 0,
            tolerated_count: None,
            tolerated_percentage: None,
            map_run_arn: String::new(),
            inputs: Vec::new(),
            failed_items: Vec::new(),
            redrive_kept: BTreeMap::new(),
            batch_sizes: Vec::new(),
            stream: None,
            express_started: BTreeMap::new(),
            express: false,
        };
        self.frame_mut(f).map_err(Err)?.wait = Wait::Join(Box::new(join));
        if all_kept && !branches.is_empty() {
            self.join_finished(f).map_err(Err)?;
        }
        Ok(Flow::Blocked)
    }

    pub(super) fn start_map(
        &mut self,
        f: u64,
        state: &State,
        spec: &MapSpec,
        effective: Value,
        entered: u64,
    ) -> Res<Flow> {
        let at = Where { state_name: &state.name, ..Where::default() };
        let items = if spec.item_reader.is_some() {
            Vec::new() // read by the Map Run, once it has started
        } else if state.query_language == crate::definition::QueryLanguage::JSONata {
            match self.jsonata_items(f, state, spec, &effective) {
                Ok(items) => items,
                Err(e) => {
                    // AWS records the Map state's failure after the failed evaluation.
                    if e.is_ok() {
                        self.emit(Some(f), EventType::MapStateFailed, Details::None {});
                    }
                    return Err(e);
                }
            }
        } else {
            let items = match &spec.items_path {
                Some(p) => with_scope(self.exec, f, &effective, at, |s| s.read(p))
                    .map_err(|e| Ok(io::runtime(&state.name, entered, format!("Invalid path '{}' : {e}", p.text))))?,
                None => effective.clone(),
            };
            let Value::Array(items) = items else {
                let msg = format!("Map state input must be an array but was: {}", crate::json::to_string(&items));
                return Err(Ok(io::runtime(&state.name, entered, msg)));
            };
            items
        };
        if items.len() > limits::MAP_ITEMS_MAX {
            let msg = format!("The Map state has {} items; the limit is {}", items.len(), limits::MAP_ITEMS_MAX);
            return Err(Ok(io::runtime(&state.name, entered, msg)));
        }
        let max_concurrency = match &spec.max_concurrency {
            Some(a) => self.amount(f, state, a, "MaxConcurrency", &effective, entered)?,
            None => 0,
        };
        // AWS reports the length after reading MaxConcurrency but before the
        // tolerance fields; items an ItemReader reads are not counted.
        let length = items.len() as u64;
        self.emit(Some(f), EventType::MapStateStarted, Details::MapStateStarted { length });
        let tolerated_count = match &spec.tolerated_failure_count {
            Some(a) => Some(self.tolerance(f, state, a, "ToleratedFailureCount", &effective, entered, false)? as u64),
            None => None,
        };
        let tolerated_percentage = match &spec.tolerated_failure_percentage {
            Some(a) => Some(self.tolerance(f, state, a, "ToleratedFailurePercentage", &effective, entered, true)?),
            None => None,
        };
        // A redrive runs again only the iterations that did not succeed, in the same Map Run.
        let kept = self.frame_mut(f).map_err(Err)?.kept.take().map(|k| *k).unwrap_or_default();
        let redriven_run = spec.distributed && !kept.map_run_arn.is_empty();
        let map_run_arn = match (spec.distributed, redriven_run) {
            (false, _) => String::new(),
            (true, true) => kept.map_run_arn,
            (true, false) => self.map_run_arn(spec.label.as_deref().unwrap_or(&state.name)),
        };
        let join = Join {
            is_map: true,
            distributed: spec.distributed,
            effective_input: effective,
            results: Vec::new(),
            children: BTreeMap::new(),
            queued: VecDeque::new(),
            max_concurrency,
            failures: 0,
            tolerated_count,
            tolerated_percentage,
            map_run_arn,
            inputs: Vec::new(),
            failed_items: Vec::new(),
            redrive_kept: kept.results,
            batch_sizes: Vec::new(),
            // A streamed Map Run's redrive skips what succeeded before.
            stream: kept.stream,
            express_started: BTreeMap::new(),
            express: spec.distributed && spec.child_definition.is_none(),
        };
        if redriven_run {
            self.map_run_redriven(f, &join);
        } else if spec.distributed {
            if !self.frame(f).map_err(Err)?.silent {
                self.map_run_started(&join);
            }
            let map_run_arn = join.map_run_arn.clone();
            self.emit(Some(f), EventType::MapRunStarted, Details::MapRunStarted { map_run_arn });
        }
        match &spec.item_reader {
            Some(reader) => self.start_reader(f, state, reader, join, entered),
            None => self.map_items_ready(f, state, spec, join, items),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tolerance(
        &mut self,
        f: u64,
        state: &State,
        a: &Amount,
        field: &str,
        input: &Value,
        entered: u64,
        pct: bool,
    ) -> Res<f64> {
        let kind = if pct { Number::Float } else { Number::Integer };
        let x = self.number(f, state, a, field, input, entered, kind)?;
        if pct && !(0.0..=100.0).contains(&x) {
            return Err(Ok(io::runtime(&state.name, entered, "ToleratedFailurePercentage must be between 0 and 100.")));
        }
        if !pct && x < 0.0 {
            return Err(Ok(io::runtime(&state.name, entered, "ToleratedFailureCount cannot be negative.")));
        }
        Ok(x)
    }

    /// Starts queued iterations up to MaxConcurrency.
    pub(super) fn fill_map(&mut self, f: u64, state: &State, spec: &MapSpec) -> Res<()> {
        // The Map's input is lent out for the loop, not cloned per item (that was quadratic).
        let effective = match &mut self.frame_mut(f).map_err(Err)?.wait {
            Wait::Join(join) => std::mem::take(&mut join.effective_input),
            _ => return Ok(()),
        };
        let result = self.fill_map_with(f, state, spec, &effective);
        if let Ok(fr) = self.frame_mut(f)
            && let Wait::Join(join) = &mut fr.wait
        {
            join.effective_input = effective;
        }
        result?;
        self.stream_more(f).map_err(Err)
    }

    fn fill_map_with(&mut self, f: u64, state: &State, spec: &MapSpec, effective: &Value) -> Res<()> {
        let children_max = self.children_running_max(spec.distributed);
        loop {
            // At the history cap no more iterations start: their frames would only hold memory.
            if self.capped {
                return Ok(());
            }
            let fr = self.frame_mut(f).map_err(Err)?;
            let Wait::Join(join) = &mut fr.wait else { return Ok(()) };
            let running_max = if children_max > 0 { join.running_max().min(children_max) } else { join.running_max() };
            if join.children.len() as u64 >= running_max {
                return Ok(());
            }
            if Self::stream_blocked(join) {
                return Ok(());
            }
            let Some((index, item)) = join.queued.pop_front() else { return Ok(()) };
            let started = (!join.map_run_arn.is_empty()).then(|| (join.map_run_arn.clone(), join.items_in(index)));
            if let Some(w) = join.stream.as_deref_mut().and_then(|s| s.writer.as_deref_mut()) {
                w.inputs.insert(index, item.clone());
            }
            let entered = fr.entered_event_id;
            let vars = fr.vars.clone();
            let at = Where { state_name: &state.name, map_item: Some((index, &item)), ..Where::default() };
            let input = match (&spec.item_selector, &spec.item_selector_jsonata) {
                (Some(t), _) => {
                    with_scope(self.exec, f, effective, at, |s| io::render(s, t, &state.name, entered)).map_err(Ok)?
                }
                (None, Some(jt)) => {
                    let states = super::jsonata::StatesVar::input(effective);
                    self.eval_jt(f, state, jt, "ItemSelector", states, at).map_err(Ok)?
                }
                (None, None) => item,
            };
            if let Some((arn, items)) = started {
                self.map_run_child_started(&arn, items);
            }
            if !spec.distributed {
                let it = Iteration { name: state.name.clone(), index };
                self.emit(Some(f), EventType::MapIterationStarted, Details::MapIterationStarted(it));
            }
            let parent = Parent { frame: f, index };
            if children_max > 0 && spec.child_definition.is_some() {
                let child = self.start_child(f, parent, input).map_err(Err)?;
                if let Wait::Join(join) = &mut self.frame_mut(f).map_err(Err)?.wait {
                    join.children.insert(child, index);
                }
                continue;
            }
            let start = self.def.machines[spec.processor].start_at;
            let child = self.spawn(spec.processor, start, input, vars, Some(parent), None);
            if spec.distributed {
                // Each iteration is a child execution on AWS, with a history of its own.
                self.frame_mut(child).map_err(Err)?.silent = true;
                self.express_child_started(f, index);
            }
            if let Wait::Join(join) = &mut self.frame_mut(f).map_err(Err)?.wait {
                join.children.insert(child, index);
            }
        }
    }

    /// A child frame finished. Records its result and, when the join is
    /// complete or has failed, wakes the parent.
    pub(super) fn child_done(
        &mut self,
        child: u64,
        p: Parent,
        child_last_event: u64,
        result: Result<Value, Raised>,
    ) -> Result<(), Error> {
        let def = self.def;
        let Some(pf) = self.exec.frames.get_mut(&p.frame) else { return Ok(()) };
        pf.last_event_id = pf.last_event_id.max(child_last_event);
        let state = &def.machines[pf.machine].states[pf.state];
        let Wait::Join(join) = &mut pf.wait else { return Ok(()) };
        let is_map = join.is_map;
        let iteration_events = is_map && !join.distributed;
        join.children.remove(&child);
        let i = p.index as usize;
        let map_run = (!join.map_run_arn.is_empty()).then(|| (join.map_run_arn.clone(), join.items_in(p.index)));
        if let Some(s) = join.stream.as_deref_mut() {
            s.batch_items.remove(&p.index);
        }
        // A streamed Map with a ResultWriter keeps no results: they go to the next part.
        let streamed_out = join.stream.as_ref().is_some_and(|s| s.writer.is_some());
        let ok = result.is_ok();
        let it = || Iteration { name: state.name.clone(), index: p.index };
        let mut entry = None;
        let failure = result.as_ref().err().map(|r| (r.error.clone(), r.cause.clone()));
        let failed = match result {
            Ok(v) => {
                if let Some(s) = join.stream.as_deref_mut() {
                    s.mark_succeeded(p.index);
                }
                if streamed_out {
                    entry = Some(Ok(v));
                } else {
                    join.results[i] = v;
                }
                if iteration_events {
                    self.emit(Some(p.frame), EventType::MapIterationSucceeded, Details::MapIterationSucceeded(it()));
                }
                None
            }
            Err(r) => {
                join.failures += 1;
                let mut err = Map::new();
                err.insert("Error".into(), Value::String(r.error.clone()));
                err.insert("Cause".into(), Value::String(r.cause.clone()));
                if streamed_out {
                    entry = Some(Err(Value::Object(err)));
                } else {
                    join.results[i] = Value::Object(err);
                    join.failed_items.push(p.index);
                }
                if iteration_events {
                    self.emit(Some(p.frame), EventType::MapIterationFailed, Details::MapIterationFailed(it()));
                }
                Some(r)
            }
        };
        if let Some((arn, items)) = &map_run {
            self.map_run_child_ended(arn, *items, ok);
            match &failure {
                None => self.express_children_closed(p.frame, &[(p.index, Status::Succeeded)]),
                Some((error, cause)) => self.express_child_failed(p.frame, p.index, error, cause),
            }
        }
        if let Some(e) = entry {
            self.stream_result(p.frame, p.index, e)?;
        }
        if let Some(r) = failed
            && let Some(fr) = self.exec.frames.get(&p.frame)
            && let Wait::Join(join) = &fr.wait
            && !is_tolerated(join)
        {
            return self.join_failed(p.frame, r);
        }
        let Some(pf) = self.exec.frames.get_mut(&p.frame) else { return Ok(()) };
        let Wait::Join(join) = &mut pf.wait else { return Ok(()) };
        if join.is_done() {
            self.join_finished(p.frame)?;
        } else if is_map {
            self.refill(p.frame)?;
        }
        Ok(())
    }

    /// A child failed past what the Map tolerates (or a Parallel's branch
    /// failed): the join fails and its other children are aborted.
    pub(super) fn join_failed(&mut self, f: u64, r: Raised) -> Result<(), Error> {
        let fr = self.frame(f)?;
        let Wait::Join(join) = &fr.wait else { return Ok(()) };
        let (is_map, distributed) = (join.is_map, join.distributed);
        // Distributed Maps always have a threshold (default 0); inline ones only when set.
        let threshold = distributed || join.tolerated_count.is_some() || join.tolerated_percentage.is_some();
        let map_run = join.map_run_arn.clone();
        let ty = if is_map { EventType::MapStateFailed } else { EventType::ParallelStateFailed };
        self.keep_for_redrive(f)?;
        self.abort_children(f)?;
        if !map_run.is_empty() {
            self.map_run_closed(&map_run, super::map_run::MapRunStatus::Failed, false);
        }
        if distributed {
            let d = ErrorDetails { error: Some(r.error.clone()), cause: Some(r.cause.clone()) };
            self.emit(Some(f), EventType::MapRunFailed, Details::MapRunFailed(d));
        }
        let exceeded = is_map && threshold && (distributed || r.error != "States.Runtime");
        let (error, cause) = if exceeded {
            (
                "States.ExceedToleratedFailureThreshold".to_string(),
                "The specified tolerated failure threshold was exceeded".to_string(),
            )
        } else {
            (r.error, r.cause)
        };
        self.frame_mut(f)?.wait = Wait::Errored { error, cause, failed_event: Some(ty), from_task: false };
        self.exec.ready.push_back(f);
        Ok(())
    }

    /// Starts what a Map's concurrency now allows; an iteration that cannot
    /// start (its ItemSelector failed) fails the Map.
    pub(super) fn refill(&mut self, f: u64) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(f)?;
        let state = &def.machines[fr.machine].states[fr.state];
        let crate::definition::Kind::Map(spec) = &state.kind else { return Ok(()) };
        let Err(e) = self.fill_map(f, state, spec) else { return Ok(()) };
        let r = e?;
        self.abort_children(f)?;
        self.frame_mut(f)?.wait = Wait::Errored {
            error: r.error,
            cause: r.cause,
            failed_event: Some(EventType::MapStateFailed),
            from_task: false,
        };
        self.exec.ready.push_back(f);
        Ok(())
    }

    /// A top-level Parallel or Map is failing: what its children finished
    /// stays for a redrive (inner levels re-run whole, as their branch does).
    pub(super) fn keep_for_redrive(&mut self, f: u64) -> Result<(), Error> {
        let fr = self.frame_mut(f)?;
        if fr.parent.is_some() {
            return Ok(());
        }
        if let Wait::Join(join) = &fr.wait {
            fr.kept = Some(Box::new(join.kept()));
        }
        Ok(())
    }

    /// Cancels a streamed Map's reads and writes in flight.
    fn cancel_io(&mut self, tasks: Vec<u64>) -> Result<(), Error> {
        for task_id in tasks {
            if self.exec.tasks.contains_key(&task_id) {
                self.take_task(task_id)?;
                self.out.commands.push(Command::CancelTask { task_id });
            }
        }
        Ok(())
    }

    /// Removes every descendant frame of `f`, cancelling their tasks and timers.
    pub(super) fn abort_children(&mut self, f: u64) -> Result<(), Error> {
        let aborted: Vec<(u64, Status)> = match self.exec.frames.get(&f).map(|fr| &fr.wait) {
            Some(Wait::Join(j)) => j.children.values().map(|i| (*i, Status::Aborted)).collect(),
            _ => Vec::new(),
        };
        self.express_children_closed(f, &aborted);
        let mut stack: Vec<u64> = match self.exec.frames.get(&f).map(|fr| &fr.wait) {
            Some(Wait::Join(j)) => {
                let (children, running) = (j.children.keys().copied().collect(), super::map_run::running(j));
                let io: Vec<u64> = j.stream.iter().flat_map(|s| s.tasks()).collect();
                self.map_run_children_aborted(running);
                self.cancel_io(io)?;
                children
            }
            _ => Vec::new(),
        };
        if let Some(Wait::Join(j)) = self.exec.frames.get_mut(&f).map(|fr| &mut fr.wait) {
            j.children.clear();
            j.queued.clear();
        }
        while let Some(c) = stack.pop() {
            let Some(fr) = self.exec.frames.remove(&c) else { continue };
            match fr.wait {
                Wait::Join(j) => {
                    self.cancel_io(j.stream.iter().flat_map(|s| s.tasks()).collect())?;
                    if !j.map_run_arn.is_empty() {
                        let aborted: Vec<(u64, Status)> = j.children.values().map(|i| (*i, Status::Aborted)).collect();
                        let closed = self.express_listings(&j, &aborted);
                        self.out.commands.extend(closed);
                        self.map_run_children_aborted(super::map_run::running(&j));
                        self.map_run_closed(&j.map_run_arn, super::map_run::MapRunStatus::Aborted, false);
                    }
                    stack.extend(j.children.keys().copied())
                }
                Wait::Task { task_id } => {
                    let t = self.take_task(task_id)?;
                    self.cancel(task_id, &t);
                }
                Wait::Timer { timer_id, .. } | Wait::Backoff { timer_id } => {
                    self.exec.timers.remove(&timer_id);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A streamed Map's total became known: failures that were tolerated by
/// the percentage of an unknown total may now be too many.
pub(super) fn threshold_crossed(join: &Join) -> Option<Raised> {
    let pending = join.failures > 0 && join.tolerated_percentage.is_some() && !is_tolerated(join);
    pending.then(|| Raised::new("States.ExceedToleratedFailureThreshold", ""))
}

/// Whether a Map's failures so far are within its tolerated threshold. A
/// percentage of a streamed Map's total is judged once the total is known.
fn is_tolerated(join: &Join) -> bool {
    let by_count = join.tolerated_count.is_some_and(|c| join.failures <= c);
    let by_percentage = join.tolerated_percentage.is_some_and(|pc| match join.children_total() {
        Some(total) => join.failures as f64 * 100.0 / total as f64 <= pc,
        None => true,
    });
    join.is_map && (by_count || by_percentage)
}
