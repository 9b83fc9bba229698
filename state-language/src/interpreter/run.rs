//! Driving frames through states.

use serde_json::{Map, Value};

use super::context::Where;
use super::events::{Details, ErrorDetails, EventType, StateExited, Truncation};
use super::frame::{Execution, Frame, Parent, Status, Timer, Wait};
use super::io::{self, Raised, with_scope};
use super::{Command, Input, Limits, Step};
use crate::Error;
use crate::definition::{Definition, Kind, MachineId, QueryLanguage, State, StateId};
use crate::entropy::Entropy;
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

    pub fn apply(&mut self, input: Input) -> Result<(), Error> {
        if let Input::Start { input, context } = input {
            if self.exec.context.is_some() {
                return Err(Error::AlreadyStarted);
            }
            self.exec.entropy = Entropy::new(context.seed);
            self.exec.start_ms = self.now_ms;
            self.exec.input = input.clone();
            let role_arn = context.role_arn.clone();
            self.exec.context = Some(context);
            let payload = self.payload(&input);
            self.emit(
                None,
                EventType::ExecutionStarted,
                Details::ExecutionStarted { input: payload, input_details: Truncation::default(), role_arn },
            );
            if let Some(t) = self.def.timeout_seconds {
                self.start_timer(Timer::ExecutionTimeout, self.now_ms + (t as i64) * 1000);
            }
            let root = self.def.machines.first().map(|m| m.start_at).unwrap_or(0);
            self.spawn(0, root, input, Map::new(), None, None);
            return Ok(());
        }
        if self.exec.context.is_none() {
            return Err(Error::NotStarted);
        }
        if self.exec.status != Status::Running {
            return Err(Error::NotRunning(self.exec.status));
        }
        match input {
            Input::Start { .. } => Err(Error::AlreadyStarted),
            Input::TaskStarted { task_id } => self.task_started(task_id),
            Input::TaskSucceeded { task_id, output } => self.task_succeeded(task_id, output),
            Input::TaskFailed { task_id, error, cause } => self.task_failed(task_id, error, cause, false),
            Input::TaskHeartbeat { task_id } => self.task_heartbeat(task_id),
            Input::TimerFired { timer_id } => self.timer_fired(timer_id),
            Input::Stop { error, cause } => {
                self.finish(Status::Aborted, None, error, cause);
                Ok(())
            }
        }
    }

    fn timer_fired(&mut self, timer_id: u64) -> Result<(), Error> {
        // Unknown ids are stale or duplicate deliveries: harmless by design.
        let Some(purpose) = self.exec.timers.remove(&timer_id) else { return Ok(()) };
        match purpose {
            Timer::Frame(f) => {
                let fr = self.frame_mut(f)?;
                fr.wait = match std::mem::replace(&mut fr.wait, Wait::Ready) {
                    Wait::Timer { output, assigned, .. } => Wait::Elapsed { output, assigned },
                    _ => Wait::Ready,
                };
                self.exec.ready.push_back(f);
                Ok(())
            }
            Timer::TaskTimeout(t) => self.task_failed(t, "States.Timeout".into(), String::new(), true),
            Timer::HeartbeatTimeout(t) => self.task_failed(t, "States.HeartbeatTimeout".into(), String::new(), true),
            Timer::ExecutionTimeout => {
                let cause = "The execution timed out".to_string();
                self.finish(Status::TimedOut, None, Some("States.Timeout".into()), Some(cause));
                Ok(())
            }
        }
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
            entered_ms: self.now_ms,
            // AWS chains the top level's first event to 0, not to ExecutionStarted.
            last_event_id: last.unwrap_or(0),
            attempts: Vec::new(),
            wait: Wait::Ready,
            map_item,
            entering: true,
            silent,
        };
        self.exec.frames.insert(id, frame);
        self.exec.ready.push_back(id);
        id
    }

    /// Runs ready frames until every frame is blocked or the execution ends.
    pub fn drain(&mut self) -> Result<(), Error> {
        while let Some(f) = self.exec.ready.pop_front() {
            if self.exec.status != Status::Running {
                break;
            }
            if self.exec.frames.contains_key(&f) {
                self.advance(f)?;
            }
        }
        Ok(())
    }

    fn advance(&mut self, f: u64) -> Result<(), Error> {
        loop {
            self.transitions += 1;
            if self.transitions > limits::TRANSITIONS_PER_STEP_MAX {
                return Err(Error::RunawayLoop(limits::TRANSITIONS_PER_STEP_MAX));
            }
            if self.exec.last_event_id + 8 > self.limits.history_events_max {
                let cause = format!(
                    "The execution reached the maximum number of history events ({}).",
                    self.limits.history_events_max
                );
                self.finish(Status::Failed, None, Some("States.Runtime".into()), Some(cause));
                return Ok(());
            }
            let flow = self.run_state(f)?;
            match flow {
                Flow::Blocked => return Ok(()),
                Flow::Goto(next, output) => {
                    let fr = self.frame_mut(f)?;
                    fr.state = next;
                    fr.input = output;
                    fr.entering = true;
                    fr.wait = Wait::Ready;
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
        if state.query_language == QueryLanguage::JSONata {
            let entered = self.frame(f)?.entered_event_id;
            let detail = "The JSONata query language is not yet supported by Stepwise (see the JSONata issue).";
            return Ok(Flow::Failed(io::runtime(&state.name, entered, detail)));
        }
        match self.execute(f, state) {
            Ok(flow) => Ok(flow),
            Err(Ok(raised)) => self.handle_error(f, state, raised),
            Err(Err(e)) => Err(e),
        }
    }

    fn enter(&mut self, f: u64, state: &State) -> Result<(), Error> {
        let (ty, _) = event_types(&state.kind);
        let input = self.payload(&self.frame(f)?.input);
        let id = self.emit(
            Some(f),
            ty,
            Details::StateEntered { name: state.name.clone(), input, input_details: Truncation::default() },
        );
        let now = self.now_ms;
        let fr = self.frame_mut(f)?;
        fr.entered_event_id = id;
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
            Kind::Succeed => self.leave(f, state, effective).map_err(Err),
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

    /// ResultSelector, Assign, ResultPath, OutputPath, then the exit event.
    pub fn complete(&mut self, f: u64, state: &State, result: Value) -> Result<Flow, Error> {
        match self.process_result(f, state, result) {
            Ok(output) => self.leave(f, state, output),
            Err(raised) => self.handle_error(f, state, raised),
        }
    }

    fn process_result(&mut self, f: u64, state: &State, result: Value) -> Result<Value, Raised> {
        let fr = self.frame(f).map_err(|e| Raised::new("States.Runtime", e.to_string()))?;
        let (raw, entered, entered_ms) = (fr.input.clone(), fr.entered_event_id, fr.entered_ms);
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        let name = &state.name;
        let result = match &state.io.result_selector {
            Some(t) if matches!(state.kind, Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_)) => {
                with_scope(self.exec, f, &result, at, |s| io::render(s, t, name, entered))?
            }
            _ => result,
        };
        if crate::json::size_bytes(&result) > self.limits.payload_bytes_max {
            return Err(Raised::new(
                "States.DataLimitExceeded",
                format!(
                    "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
                ),
            ));
        }
        // Assign and Output both read the variables as they were when the state
        // began; the assignments take effect only after the output is computed.
        let assigned = match &state.io.assign {
            Some(assign) => Some(with_scope(self.exec, f, &result, at, |s| io::render(s, assign, name, entered))?),
            None => None,
        };
        let merged = io::merge_result(raw, result, state.io.result_path.as_ref(), name, entered)?;
        let output = match state.io.output_path.as_ref() {
            Some(p) if p.is_root_input() => merged,
            other => with_scope(self.exec, f, &merged, at, |s| io::select(s, other, name, entered))?,
        };
        if let Some(values) = assigned {
            self.assign(f, values);
        }
        if crate::json::size_bytes(&output) > self.limits.payload_bytes_max {
            return Err(Raised::new(
                "States.DataLimitExceeded",
                format!(
                    "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
                ),
            ));
        }
        Ok(output)
    }

    pub fn assign(&mut self, f: u64, values: Value) {
        if let (Value::Object(m), Some(fr)) = (values, self.exec.frames.get_mut(&f)) {
            if m.is_empty() {
                return; // AWS reports no assignedVariables for `"Assign": {}`.
            }
            let mut shown = Map::with_capacity(m.len());
            for (k, v) in m {
                shown.insert(k.clone(), Value::String(crate::json::to_string(&v)));
                fr.vars.insert(k, v);
            }
            // Reported on the state's exit event, as AWS does.
            self.assigned = Some(shown);
        }
    }

    /// The `…StateExited` event, carrying the variables the state just assigned.
    pub fn emit_exited(&mut self, f: u64, exit: EventType, state: &State, output: Value) {
        let assigned_variables = self.assigned.take();
        let assigned_variables_details = assigned_variables.as_ref().map(|_| Truncation::default());
        let details = StateExited {
            name: state.name.clone(),
            output,
            output_details: Truncation::default(),
            assigned_variables,
            assigned_variables_details,
        };
        self.emit(Some(f), exit, Details::StateExited(details));
    }

    /// Emits the exit event and moves on.
    pub fn leave(&mut self, f: u64, state: &State, output: Value) -> Result<Flow, Error> {
        let (_, exit) = event_types(&state.kind);
        if let Some(exit) = exit {
            let payload = self.payload(&output);
            self.emit_exited(f, exit, state, payload);
        }
        Ok(match (&state.kind, state.next) {
            (_, Some(next)) => Flow::Goto(next, output),
            _ => Flow::Succeeded(output),
        })
    }

    /// Retry, then Catch, then fail the frame.
    pub fn handle_error(&mut self, f: u64, state: &State, raised: Raised) -> Result<Flow, Error> {
        if raised.error != "States.Runtime" && self.try_retry(f, state, &raised)? {
            return Ok(Flow::Blocked);
        }
        self.catch_or_fail(f, state, raised)
    }

    /// The first matching catcher takes the error; otherwise the frame fails.
    fn catch_or_fail(&mut self, f: u64, state: &State, raised: Raised) -> Result<Flow, Error> {
        for c in &state.catch {
            if crate::definition::error_matches(&c.error_equals, &raised.error, raised.from_task) {
                let mut err = Map::new();
                err.insert("Error".into(), Value::String(raised.error.clone()));
                err.insert("Cause".into(), Value::String(raised.cause.clone()));
                let err = Value::Object(err);
                let fr = self.frame(f)?;
                let (raw, entered, entered_ms) = (fr.input.clone(), fr.entered_event_id, fr.entered_ms);
                let mut assigned = None;
                if let Some(assign) = &c.assign {
                    let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
                    match with_scope(self.exec, f, &err, at, |s| io::render(s, assign, &state.name, entered)) {
                        Ok(v) => assigned = Some(v),
                        Err(r) => return Ok(Flow::Failed(r)),
                    }
                }
                let output = match io::merge_result(raw, err, c.result_path.as_ref(), &state.name, entered) {
                    Ok(o) => o,
                    Err(r) => return Ok(Flow::Failed(r)),
                };
                if let Some(v) = assigned {
                    self.assign(f, v);
                }
                let (_, exit) = event_types(&state.kind);
                if let Some(exit) = exit {
                    let payload = self.payload(&output);
                    self.emit_exited(f, exit, state, payload);
                }
                return Ok(Flow::Goto(c.next, output));
            }
        }
        Ok(Flow::Failed(raised))
    }

    /// Schedules a retry when a retrier matches and has attempts left.
    fn try_retry(&mut self, f: u64, state: &State, raised: &Raised) -> Result<bool, Error> {
        let Some((i, r)) = state
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| crate::definition::error_matches(&r.error_equals, &raised.error, raised.from_task))
        else {
            return Ok(false);
        };
        let used = self.frame(f)?.attempts.get(i).copied().unwrap_or(0);
        if used >= r.max_attempts {
            return Ok(false);
        }
        let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(used.min(1000) as i32);
        if let Some(max) = r.max_delay_seconds {
            delay = delay.min(max as f64);
        }
        delay = delay.min(limits::SECONDS_MAX as f64);
        if r.jitter == crate::definition::Jitter::Full {
            delay *= self.exec.entropy.next_f64();
        }
        if let Some(a) = self.frame_mut(f)?.attempts.get_mut(i) {
            *a += 1;
        }
        let timer_id = self.start_timer(Timer::Frame(f), self.now_ms + (delay * 1000.0) as i64);
        self.frame_mut(f)?.wait = Wait::Backoff { timer_id };
        Ok(true)
    }

    fn frame_succeeded(&mut self, f: u64, output: Value) -> Result<(), Error> {
        let fr = self.exec.frames.remove(&f).ok_or_else(|| Error::Corrupt(format!("missing frame {f}")))?;
        match fr.parent {
            None => {
                self.finish(Status::Succeeded, Some(output), None, None);
                Ok(())
            }
            Some(p) => self.child_done(f, p, fr.last_event_id, Ok(output)),
        }
    }

    fn frame_failed(&mut self, f: u64, raised: Raised) -> Result<(), Error> {
        let fr = self.exec.frames.remove(&f).ok_or_else(|| Error::Corrupt(format!("missing frame {f}")))?;
        match fr.parent {
            None => {
                self.finish(Status::Failed, None, Some(raised.error), Some(raised.cause));
                Ok(())
            }
            Some(p) => self.child_done(f, p, fr.last_event_id, Err(raised)),
        }
    }

    /// Ends the execution: aborts every frame and emits the terminal event.
    pub fn finish(&mut self, status: Status, output: Option<Value>, error: Option<String>, cause: Option<String>) {
        // AWS omits an empty error or cause (a Fail state without them).
        let error = error.filter(|e| !e.is_empty());
        let cause = cause.filter(|c| !c.is_empty());
        let tasks: Vec<u64> = self.exec.tasks.keys().copied().collect();
        for task_id in tasks {
            self.out.commands.push(Command::CancelTask { task_id });
        }
        self.exec.tasks.clear();
        self.exec.timers.clear();
        self.exec.frames.clear();
        self.exec.ready.clear();
        let details = ErrorDetails { error: error.clone(), cause: cause.clone() };
        let (ty, d) = match status {
            Status::Succeeded => {
                let o = self.payload(output.as_ref().unwrap_or(&Value::Null));
                (
                    EventType::ExecutionSucceeded,
                    Details::ExecutionSucceeded { output: o, output_details: Truncation::default() },
                )
            }
            Status::TimedOut => (EventType::ExecutionTimedOut, Details::ExecutionTimedOut(details)),
            Status::Aborted => (EventType::ExecutionAborted, Details::ExecutionAborted(details)),
            _ => (EventType::ExecutionFailed, Details::ExecutionFailed(details)),
        };
        self.emit(None, ty, d);
        self.exec.status = status;
        self.exec.output.clone_from(&output);
        self.exec.error.clone_from(&error);
        self.exec.cause.clone_from(&cause);
        self.out.commands.push(Command::Finish { status, output, error, cause });
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

impl Runtime<'_> {
    /// AWS's Map Run ARN: the state machine ARN with `mapRun`, the label and a UUID.
    pub fn map_run_arn(&mut self, label: &str) -> String {
        let sm = self.exec.context.as_ref().map(|c| c.state_machine_arn.clone()).unwrap_or_default();
        let uuid = crate::entropy::uuid_v4(self.exec.entropy.next_u64(), self.exec.entropy.next_u64());
        format!("{}/{label}:{uuid}", sm.replacen(":stateMachine:", ":mapRun:", 1))
    }
}
