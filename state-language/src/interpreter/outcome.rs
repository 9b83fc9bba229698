//! How a state ends: output processing, Retry and Catch, and how frames
//! and the execution finish.

use super::Command;
use super::context::Where;
use super::events::{Details, ErrorDetails, EventType, StateExited, Truncation};
use super::frame::{RedrivePoint, Status, Timer, Wait};
use super::io::{self, Raised, with_scope};
use super::run::{Flow, Runtime, event_types};
use crate::Error;
use crate::definition::{Kind, State};
use crate::limits;
use serde_json::{Map, Value};

impl Runtime<'_> {
    /// ResultSelector, Assign, ResultPath, OutputPath, then the exit event.
    pub fn complete(&mut self, f: u64, state: &State, result: Value) -> Result<Flow, Error> {
        let processed = match state.query_language {
            crate::definition::QueryLanguage::JSONata => self.process_result_jsonata(f, state, result),
            crate::definition::QueryLanguage::JSONPath => self.process_result(f, state, result),
        };
        match processed {
            Ok(output) => self.leave(f, state, output),
            Err(raised) => self.handle_error(f, state, raised),
        }
    }

    pub(super) fn process_result(&mut self, f: u64, state: &State, result: Value) -> Result<Value, Raised> {
        let fr = self.frame(f).map_err(|e| Raised::new("States.Runtime", e.to_string()))?;
        let (raw, entered, entered_ms) = (fr.input.clone(), fr.entered_event_id, fr.entered_ms);
        let retry_count = matches!(state.kind, Kind::Task(_)).then(|| fr.attempts.iter().sum());
        let at = Where { state_name: &state.name, entered_ms, retry_count, ..Where::default() };
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
    pub(super) fn catch_or_fail(&mut self, f: u64, state: &State, raised: Raised) -> Result<Flow, Error> {
        // A runtime error ends the execution: no catcher takes it, even one naming it.
        if raised.error == "States.Runtime" {
            return Ok(Flow::Failed(raised));
        }
        let Some(c) = state
            .catch
            .iter()
            .find(|c| crate::definition::error_matches(&c.error_equals, &raised.error, raised.from_task))
        else {
            return Ok(Flow::Failed(raised));
        };
        let err = super::jsonata::error_output(&raised);
        let caught = match state.query_language {
            crate::definition::QueryLanguage::JSONata => self.catch_output_jsonata(f, state, c, &err),
            crate::definition::QueryLanguage::JSONPath => self.catch_output_jsonpath(f, state, c, err),
        };
        let (output, assigned) = match caught {
            Ok(v) => v,
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
        Ok(Flow::Goto(c.next, output))
    }

    /// A JSONPath catcher's `Assign` (over the error output) and `ResultPath`.
    fn catch_output_jsonpath(
        &mut self,
        f: u64,
        state: &State,
        c: &crate::definition::Catcher,
        err: Value,
    ) -> Result<(Value, Option<Value>), Raised> {
        let fr = self.frame(f).map_err(|e| Raised::new("States.Runtime", e.to_string()))?;
        let (raw, entered, entered_ms) = (fr.input.clone(), fr.entered_event_id, fr.entered_ms);
        let assigned = match &c.assign {
            Some(assign) => {
                let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
                Some(with_scope(self.exec, f, &err, at, |s| io::render(s, assign, &state.name, entered))?)
            }
            None => None,
        };
        let output = io::merge_result(raw, err, c.result_path.as_ref(), &state.name, entered)?;
        Ok((output, assigned))
    }

    /// Schedules a retry when a retrier matches and has attempts left.
    pub(super) fn try_retry(&mut self, f: u64, state: &State, raised: &Raised) -> Result<bool, Error> {
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

    pub(super) fn frame_succeeded(&mut self, f: u64, output: Value) -> Result<(), Error> {
        let fr = self.exec.frames.remove(&f).ok_or_else(|| Error::Corrupt(format!("missing frame {f}")))?;
        match fr.parent {
            None => {
                let point = RedrivePoint { state: fr.state, input: fr.input, vars: fr.vars, kept: None };
                self.exec.redrive_point = Some(point);
                self.finish(Status::Succeeded, Some(output), None, None);
                Ok(())
            }
            Some(p) => self.child_done(f, p, fr.last_event_id, Ok(output)),
        }
    }

    pub(super) fn frame_failed(&mut self, f: u64, raised: Raised) -> Result<(), Error> {
        let fr = self.exec.frames.remove(&f).ok_or_else(|| Error::Corrupt(format!("missing frame {f}")))?;
        match fr.parent {
            None => {
                let point = RedrivePoint { state: fr.state, input: fr.input, vars: fr.vars, kept: fr.kept };
                self.exec.redrive_point = Some(point);
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
        if status != Status::Succeeded
            && let Some(top) = self.exec.frames.values().find(|fr| fr.parent.is_none())
        {
            // Stopped or timed out in a Parallel or Map: what its children finished stays.
            let kept = match &top.wait {
                Wait::Join(j) => Some(Box::new(j.kept())),
                _ => top.kept.clone(),
            };
            let (state, input, vars) = (top.state, top.input.clone(), top.vars.clone());
            self.exec.redrive_point = Some(RedrivePoint { state, input, vars, kept });
        }
        self.map_runs_aborted();
        for (task_id, t) in std::mem::take(&mut self.exec.tasks) {
            self.cancel(task_id, &t);
        }
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
    /// AWS's Map Run ARN: the state machine ARN with `mapRun`, the label and a UUID.
    pub fn map_run_arn(&mut self, label: &str) -> String {
        let sm = self.exec.context.as_ref().map(|c| c.state_machine_arn.clone()).unwrap_or_default();
        let uuid = crate::entropy::uuid_v4(self.exec.entropy.next_u64(), self.exec.entropy.next_u64());
        format!("{}/{label}:{uuid}", sm.replacen(":stateMachine:", ":mapRun:", 1))
    }
}
