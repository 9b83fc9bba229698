//! Driving frames through states.

use serde_json::{Map, Value};

use super::context::Where;
use super::events::{Details, EventType, Truncation};
use super::frame::{Execution, Frame, Parent, Status, Timer, Wait};
use super::io::{self, Raised, with_scope};
use super::{Command, Limits, Step};
use crate::Error;
use crate::definition::{Definition, Kind, MachineId, QueryLanguage, State, StateId};
use crate::limits;

pub(super) struct Runtime<'a> {
    pub def: &'a Definition,
    pub exec: &'a mut Execution,
    pub now_ms: i64,
    pub limits: Limits,
    pub out: Step,
    pub transitions: usize,
    /// Variables assigned by the state now finishing, for its exit event.
    pub assigned: Option<Map<String, Value>>,
    /// The history reached its cap inside this step: no further event is
    /// recorded but the execution's close, and no frame runs on.
    pub capped: bool,
}

/// How a state ended for its frame.
pub(super) enum Flow {
    Goto(StateId, Value),
    Blocked,
    Succeeded(Value),
    Failed(Raised),
}

impl Runtime<'_> {
    pub fn frame(&self, f: u64) -> Result<&Frame, Error> {
        self.exec.frames.get(&f).ok_or_else(|| Error::Corrupt(format!("missing frame {f}")))
    }

    pub fn frame_mut(&mut self, f: u64) -> Result<&mut Frame, Error> {
        self.exec.frames.get_mut(&f).ok_or_else(|| Error::Corrupt(format!("missing frame {f}")))
    }

    /// Appends an event, chained to the frame's previous event.
    pub fn emit(&mut self, f: Option<u64>, event_type: EventType, details: Details) -> u64 {
        if f.and_then(|f| self.exec.frames.get(&f)).is_some_and(|fr| fr.silent) {
            return 0;
        }
        // The cap holds as events are produced, not after a step: one state
        // (an inline Map over many items) can produce any number at once. The
        // last id is kept for the execution's close.
        let closing = matches!(
            event_type,
            EventType::ExecutionFailed
                | EventType::ExecutionSucceeded
                | EventType::ExecutionAborted
                | EventType::ExecutionTimedOut
        );
        if !closing && self.exec.last_event_id + 1 >= self.limits.history_events_max {
            self.capped = true;
        }
        if self.capped && !closing {
            return 0;
        }
        let id = self.exec.last_event_id + 1;
        let prev = match f.and_then(|f| self.exec.frames.get_mut(&f)) {
            Some(fr) => std::mem::replace(&mut fr.last_event_id, id),
            None => self.exec.last_event_id,
        };
        self.exec.last_event_id = id;
        self.out.events.push(super::HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp: self.now_ms,
            event_type,
            details,
        });
        id
    }

    /// A payload for an event detail: a copy, or null when payloads are not recorded.
    pub fn payload(&self, v: &Value) -> Value {
        if self.limits.record_payloads { v.clone() } else { Value::Null }
    }

    pub fn start_timer(&mut self, purpose: Timer, fire_at_ms: i64) -> u64 {
        let timer_id = self.exec.fresh_id();
        self.exec.timers.insert(timer_id, purpose);
        self.out.commands.push(Command::StartTimer { timer_id, fire_at_ms });
        timer_id
    }

    pub fn spawn(
        &mut self,
        machine: MachineId,
        state: StateId,
        input: Value,
        vars: Map<String, Value>,
        parent: Option<Parent>,
        map_item: Option<(u64, Value)>,
    ) -> u64 {
        let id = self.exec.fresh_id();
        let parent_frame = parent.as_ref().and_then(|p| self.exec.frames.get(&p.frame));
        let last = parent_frame.map(|p| p.last_event_id);
        let silent = parent_frame.is_some_and(|p| p.silent);
        let frame = Frame {
            machine,
            parent,
            state,
            input,
            vars,
            entered_event_id: 0,
            entered_previous_event_id: 0,
            entered_ms: self.now_ms,
            // AWS chains the top level's first event to 0, not to ExecutionStarted.
            last_event_id: last.unwrap_or(0),
            attempts: Vec::new(),
            wait: Wait::Ready,
            map_item,
            entering: true,
            silent,
            kept: None,
        };
        self.exec.frames.insert(id, frame);
        self.exec.ready.push_back(id);
        id
    }

    /// Runs ready frames until every frame is blocked or the execution ends.
    pub fn drain(&mut self) -> Result<(), Error> {
        while let Some(f) = self.exec.ready.pop_front() {
            if self.exec.status != Status::Running || self.capped {
                break;
            }
            if self.exec.frames.contains_key(&f) {
                self.advance(f)?;
            }
        }
        Ok(())
    }

    /// Fails the execution when the history reached its cap during the step.
    pub fn close_if_capped(&mut self) {
        if self.capped && self.exec.status == Status::Running {
            let cause = format!(
                "The execution reached the maximum number of history events ({}).",
                self.limits.history_events_max
            );
            self.finish(Status::Failed, None, Some("States.Runtime".into()), Some(cause));
        }
    }

    fn advance(&mut self, f: u64) -> Result<(), Error> {
        loop {
            self.transitions += 1;
            if self.transitions > self.limits.transitions_per_step_max {
                // A loop of Pass/Choice states that never waits: fail the execution, don't spin.
                let cause = format!(
                    "The execution took more than {} transitions without waiting on a task or timer.",
                    self.limits.transitions_per_step_max
                );
                self.finish(Status::Failed, None, Some("States.Runtime".into()), Some(cause));
                return Ok(());
            }
            if self.exec.last_event_id + limits::HISTORY_EVENTS_PER_STATE_ROOM > self.limits.history_events_max {
                let cause = format!(
                    "The execution reached the maximum number of history events ({}).",
                    self.limits.history_events_max
                );
                self.finish(Status::Failed, None, Some("States.Runtime".into()), Some(cause));
                return Ok(());
            }
            let flow = self.run_state(f)?;
            if self.capped {
                return Ok(());
            }
            match flow {
                Flow::Blocked => return Ok(()),
                Flow::Goto(next, output) => {
                    let fr = self.frame_mut(f)?;
                    fr.state = next;
                    fr.input = output;
                    fr.entering = true;
                    fr.wait = Wait::Ready;
                    fr.kept = None;
                }
                Flow::Succeeded(output) => return self.frame_succeeded(f, output),
                Flow::Failed(r) => return self.frame_failed(f, r),
            }
        }
    }

    fn run_state(&mut self, f: u64) -> Result<Flow, Error> {
        let def = self.def;
        let fr = self.frame(f)?;
        let state = def.machines[fr.machine].states.get(fr.state).ok_or_else(|| Error::Corrupt("bad state".into()))?;
        let wait = std::mem::replace(&mut self.frame_mut(f)?.wait, Wait::Ready);
        match wait {
            Wait::Completed { result } => return self.complete(f, state, result),
            Wait::Errored { error, cause, failed_event, from_task } => {
                let raised = Raised { error, cause, from_task };
                if raised.error != "States.Runtime" && self.try_retry(f, state, &raised)? {
                    // A retry runs the whole state again, as on AWS.
                    self.frame_mut(f)?.kept = None;
                    return Ok(Flow::Blocked);
                }
                // The state failed for good: AWS records that only now, not per retried attempt.
                if let Some(ty) = failed_event {
                    self.emit(Some(f), ty, Details::None {});
                }
                return self.catch_or_fail(f, state, raised);
            }
            Wait::Elapsed { output, assigned } => {
                if let Some(v) = assigned {
                    self.assign(f, v);
                }
                return self.leave(f, state, output);
            }
            Wait::Ready => {}
            other => {
                // Still blocked: put it back.
                self.frame_mut(f)?.wait = other;
                return Ok(Flow::Blocked);
            }
        }
        if self.frame(f)?.entering {
            self.enter(f, state)?;
        }
        let flow = match state.query_language {
            QueryLanguage::JSONata => self.execute_jsonata(f, state),
            QueryLanguage::JSONPath => self.execute(f, state),
        };
        match flow {
            Ok(flow) => Ok(flow),
            Err(Ok(raised)) => self.handle_error(f, state, raised),
            Err(Err(e)) => Err(e),
        }
    }

    fn enter(&mut self, f: u64, state: &State) -> Result<(), Error> {
        let (ty, _) = event_types(&state.kind);
        let input = self.payload(&self.frame(f)?.input);
        let previous = self.frame(f)?.last_event_id;
        let id = self.emit(
            Some(f),
            ty,
            Details::StateEntered { name: state.name.clone(), input, input_details: Truncation::default() },
        );
        let now = self.now_ms;
        let fr = self.frame_mut(f)?;
        fr.entered_event_id = id;
        fr.entered_previous_event_id = previous;
        fr.entered_ms = now;
        fr.entering = false;
        fr.attempts = vec![0; state.retry.len()];
        Ok(())
    }

    /// Effective input: the raw input through InputPath.
    pub fn effective_input(&mut self, f: u64, state: &State) -> Result<Value, Result<Raised, Error>> {
        let fr = self.frame(f).map_err(Err)?;
        let (raw, entered, entered_ms) = (fr.input.clone(), fr.entered_event_id, fr.entered_ms);
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        with_scope(self.exec, f, &raw, at, |s| io::select(s, state.io.input_path.as_ref(), &state.name, entered))
            .map_err(Ok)
    }

    fn execute(&mut self, f: u64, state: &State) -> Result<Flow, Result<Raised, Error>> {
        let effective = self.effective_input(f, state)?;
        let entered = self.frame(f).map_err(Err)?.entered_event_id;
        let entered_ms = self.frame(f).map_err(Err)?.entered_ms;
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        match &state.kind {
            Kind::Pass { result } => {
                let value = match (&state.io.parameters, result) {
                    (Some(t), _) => {
                        with_scope(self.exec, f, &effective, at, |s| io::render(s, t, &state.name, entered))
                            .map_err(Ok)?
                    }
                    (None, Some(r)) => r.clone(),
                    (None, None) => effective,
                };
                self.complete(f, state, value).map_err(Err)
            }
            Kind::Succeed => {
                // InputPath gave `effective`; OutputPath selects from it (a Succeed has no result).
                let output = with_scope(self.exec, f, &effective, at, |s| {
                    io::select(s, state.io.output_path.as_ref(), &state.name, entered)
                })
                .map_err(Ok)?;
                self.leave(f, state, output).map_err(Err)
            }
            Kind::Fail { error, cause } => {
                let mut text = |t: &Option<crate::definition::Text>, field: &str| -> Result<Option<String>, Raised> {
                    self.fail_text(f, state, t, field, &effective, entered)
                };
                let error = text(error, "ErrorPath").map_err(Ok)?;
                let cause = text(cause, "CausePath").map_err(Ok)?;
                // A Fail state's error bypasses Retry and Catch: it fails its frame directly.
                Ok(Flow::Failed(Raised {
                    error: error.unwrap_or_default(),
                    cause: cause.unwrap_or_default(),
                    from_task: false,
                }))
            }
            Kind::Choice { rules, default } => self.choice(f, state, rules, *default, effective, entered),
            Kind::Wait(w) => self.wait(f, state, w, effective, entered),
            Kind::Task(task) => self.schedule_task(f, state, task, effective, entered),
            Kind::Parallel { branches } => self.start_parallel(f, state, branches, effective, entered),
            Kind::Map(spec) => self.start_map(f, state, spec, effective, entered),
        }
    }
}

/// (entered, exited) event types of a state kind.
pub(super) fn event_types(kind: &Kind) -> (EventType, Option<EventType>) {
    use EventType::*;
    match kind {
        Kind::Pass { .. } => (PassStateEntered, Some(PassStateExited)),
        Kind::Task(_) => (TaskStateEntered, Some(TaskStateExited)),
        Kind::Choice { .. } => (ChoiceStateEntered, Some(ChoiceStateExited)),
        Kind::Wait(_) => (WaitStateEntered, Some(WaitStateExited)),
        Kind::Succeed => (SucceedStateEntered, Some(SucceedStateExited)),
        Kind::Fail { .. } => (FailStateEntered, None),
        Kind::Parallel { .. } => (ParallelStateEntered, Some(ParallelStateExited)),
        Kind::Map(_) => (MapStateEntered, Some(MapStateExited)),
    }
}
