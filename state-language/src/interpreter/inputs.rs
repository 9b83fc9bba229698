//! Applying the host's inputs: start, task results, heartbeats, timers, stop.

use super::Input;
use super::events::{Details, EventType, Truncation};
use super::frame::{Status, Timer, Wait};
use super::run::Runtime;
use crate::Error;
use crate::entropy::Entropy;
use serde_json::Map;

impl Runtime<'_> {
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
        if let Input::Redrive = input {
            return self.redrive();
        }
        if self.exec.status != Status::Running {
            return Err(Error::NotRunning(self.exec.status));
        }
        match input {
            Input::Start { .. } => Err(Error::AlreadyStarted),
            Input::TaskStarted { task_id } => self.task_started(task_id),
            Input::TaskSucceeded { task_id, output } => self.task_succeeded(task_id, output),
            Input::TaskFailed { task_id, error, cause } => self.task_failed(task_id, error, cause, false),
            Input::ChildNotRedrivable { task_id, error, cause } => self.child_not_redrivable(task_id, error, cause),
            Input::TaskHeartbeat { task_id } => self.task_heartbeat(task_id),
            Input::TimerFired { timer_id } => self.timer_fired(timer_id),
            Input::Stop { error, cause } => {
                self.finish(Status::Aborted, None, error, cause);
                Ok(())
            }
            Input::Redrive => Err(Error::NotRedrivable(Status::Running)),
            Input::UpdateMapRun { map_run_arn, update } => self.update_map_run(&map_run_arn, update),
            Input::Fail { error, cause } => {
                self.finish(Status::Failed, None, Some(error), Some(cause));
                Ok(())
            }
        }
    }

    /// AWS's redrive: `ExecutionRedriven`, then the stopped top-level state
    /// again with its input and variables; retry counts start afresh.
    fn redrive(&mut self) -> Result<(), Error> {
        if matches!(self.exec.status, Status::Running | Status::Succeeded) {
            return Err(Error::NotRedrivable(self.exec.status));
        }
        let point = self.exec.redrive_point.take().ok_or(Error::NotRedrivable(self.exec.status))?;
        self.exec.status = Status::Running;
        self.exec.output = None;
        self.exec.error = None;
        self.exec.cause = None;
        let count = match self.exec.context.as_mut() {
            Some(c) => {
                c.redrive_count += 1;
                c.redrive_count
            }
            None => 1,
        };
        self.emit(None, EventType::ExecutionRedriven, Details::ExecutionRedriven { redrive_count: count });
        if let Some(t) = self.def.timeout_seconds {
            self.start_timer(Timer::ExecutionTimeout, self.now_ms + (t as i64) * 1000);
        }
        let top = self.spawn(0, point.state, point.input, point.vars, None, None);
        self.frame_mut(top)?.kept = point.kept;
        Ok(())
    }

    pub(super) fn timer_fired(&mut self, timer_id: u64) -> Result<(), Error> {
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
}
