//! Workflow tasks: handed out with the history to replay; an answer's
//! commands are recorded after the events the code saw, then carried out;
//! a failed, malformed or late answer is handed out again (with backoff
//! after failures), recorded only the first time in a row.

use serde::Deserialize;
use serde_json::{Value, json};
use state_language::interpreter::{Command as HostCommand, Status};

use super::{
    CHILD_RESOURCE, Effects, Run, TASK_COMMANDS_MAX, TaskKind, TimerKind, UPDATE_RESULTS_MAX, WORKFLOW_CANCELLED_ERROR,
    WORKFLOW_TASK_RESOURCE, WORKFLOW_TASK_RETRY_MS_MAX,
};
use crate::history::{Command, Event};

/// The failure a workflow task that no worker answered in time counts as.
pub const TASK_TIMED_OUT: &str = "Stepwise.WorkflowTaskTimedOut";

/// What a worker answers a workflow task with.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    pub commands: Vec<Command>,
    /// The time the code ran at (the worker's clock), kept within the run's
    /// last event and the server's now.
    pub time_ms: i64,
    /// The worker that ran it, which keeps the run's replayed state.
    #[serde(default)]
    pub worker: Option<String>,
}

impl Run {
    /// Queues a workflow task on the current history, unless one is out.
    /// Its payload names the history's range; the host reads the events.
    pub(super) fn schedule_workflow_task(&mut self, now: i64, out: &mut Effects) {
        if self.closed || self.workflow_task_out() {
            return;
        }
        if self.task_failures == 0 {
            self.push(Event::WorkflowTaskScheduled {}, now, out);
        }
        let (id, token) = self.new_task(TaskKind::Workflow { history_len: self.events as usize });
        let mut payload = json!({
            "workflowType": self.workflow_type,
            "firstEventId": self.run_first_event,
            "lastEventId": self.events,
            // When the host must look at a started task: its timeout.
            "startTimeoutMs": self.task_timeout_ms,
        });
        // Its worker first, with the events since; anyone after the wait, with them all.
        if let Some(s) =
            self.sticky.as_ref().filter(|s| self.sticky_wait_ms > 0 && s.seen_event >= self.run_first_event)
        {
            payload["stickyWorker"] = json!(s.worker);
            payload["stickyFirstEventId"] = json!(s.seen_event + 1);
        }
        let resource = format!("{WORKFLOW_TASK_RESOURCE}{}", self.task_queue);
        out.commands.push(self.run_task(id, token, resource, payload, None));
    }

    pub(super) fn workflow_task_completed(
        &mut self,
        task_id: u64,
        history_len: u64,
        output: &Value,
        now: i64,
        out: &mut Effects,
    ) {
        self.drop_timers(|k| matches!(k, TimerKind::WorkflowTaskTimeout { task_id: t } if *t == task_id));
        let done = match Completion::deserialize(output) {
            Ok(c) if c.commands.len() <= TASK_COMMANDS_MAX => c,
            Ok(c) => {
                let cause = format!("{} commands; at most {TASK_COMMANDS_MAX}", c.commands.len());
                return self.workflow_task_failed(task_id, "Stepwise.TooManyCommands".into(), cause, now, out);
            }
            Err(e) => {
                return self.workflow_task_failed(
                    task_id,
                    "Stepwise.MalformedCommands".into(),
                    e.to_string(),
                    now,
                    out,
                );
            }
        };
        if let Some(why) = done.commands.iter().find_map(|c| c.check().err()) {
            return self.workflow_task_failed(task_id, crate::history::ACTIVITY_TIMEOUT_MISSING.into(), why, now, out);
        }
        self.task_failures = 0;
        self.last_task_failure = None;
        // The worker replayed the history through `history_len` and ran on: it keeps that state.
        self.sticky = done.worker.clone().map(|worker| super::Sticky { worker, seen_event: history_len });
        let time_ms = done.time_ms.clamp(self.last_time_ms.min(now), now);
        self.push(Event::WorkflowTaskStarted { time_ms }, now, out);
        self.push(Event::WorkflowTaskCompleted {}, now, out);
        for c in done.commands {
            if self.closed {
                break; // nothing follows the command that closed the run
            }
            let continues = matches!(c, Command::ContinueAsNew { .. });
            self.push(c.event(), now, out);
            self.carry_out(c, now, out);
            if continues {
                return; // a new history has begun, with its own workflow task
            }
        }
        if self.closed {
            return;
        }
        let woken = self.buffered.iter().any(|(e, _)| e.wakes_workflow());
        self.flush_buffer(now, out);
        if woken {
            self.schedule_workflow_task(now, out);
        }
    }

    /// A worker could not run the task (a non-determinism, a panic): hand it
    /// out again after a backoff, so that a fixed deploy picks it up.
    pub(super) fn workflow_task_failed(
        &mut self,
        task_id: u64,
        error: String,
        cause: String,
        now: i64,
        out: &mut Effects,
    ) {
        self.drop_timers(|k| matches!(k, TimerKind::WorkflowTaskTimeout { task_id: t } if *t == task_id));
        // Whatever the worker keeps, the next task starts from the whole history.
        self.sticky = None;
        // A failure like the last one in a row is not recorded again: a
        // stuck workflow must not fill its history while it waits for a fix.
        if self.last_task_failure.as_ref().is_none_or(|(e, _)| *e != error) {
            self.push(Event::WorkflowTaskFailed { error: error.clone(), cause: cause.clone() }, now, out);
        }
        self.task_failures = self.task_failures.saturating_add(1);
        self.last_task_failure = Some((error, cause));
        self.flush_buffer(now, out);
        let backoff = 1_000i64.saturating_mul(1 << self.task_failures.min(10).saturating_sub(1));
        self.start_timer(now + backoff.min(WORKFLOW_TASK_RETRY_MS_MAX), TimerKind::WorkflowTaskRetry, out);
    }

    /// The worker holding the task went quiet: another gets it now.
    pub(super) fn workflow_task_timed_out(&mut self, task_id: u64, now: i64, out: &mut Effects) {
        if self.tasks.remove(&task_id).is_none() {
            return;
        }
        out.commands.push(HostCommand::CancelTask { task_id });
        self.sticky = None;
        if self.last_task_failure.as_ref().is_none_or(|(e, _)| e != TASK_TIMED_OUT) {
            self.push(Event::WorkflowTaskTimedOut {}, now, out);
        }
        self.task_failures = self.task_failures.saturating_add(1);
        let cause = format!("no worker answered within {} ms", self.task_timeout_ms);
        self.last_task_failure = Some((TASK_TIMED_OUT.into(), cause));
        self.flush_buffer(now, out);
        self.schedule_workflow_task(now, out);
    }

    fn carry_out(&mut self, c: Command, now: i64, out: &mut Effects) {
        match c {
            Command::ScheduleActivity { seq, name, input, options } => {
                self.schedule_activity(seq, name, input, options, now, out)
            }
            Command::CancelActivity { seq } => self.cancel_activity(seq, now, out),
            Command::StartTimer { seq, fire_at_ms } => {
                self.start_timer(fire_at_ms, TimerKind::Workflow { seq }, out);
            }
            Command::CancelTimer { seq } => self.drop_timers(|k| *k == TimerKind::Workflow { seq }),
            Command::RecordMarker { .. } => {}
            Command::CompleteUpdate { id, result } => {
                if self.update_results.len() >= UPDATE_RESULTS_MAX {
                    self.update_results.pop_front();
                }
                self.update_results.push_back((id, result));
            }
            Command::StartChild { seq, workflow_type, id, input } => {
                let (task_id, token) = self.new_task(TaskKind::Child { seq });
                let payload = json!({
                    "StateMachineArn": format!("{}{workflow_type}", self.machine_arn_prefix),
                    "Name": id,
                    "Input": input,
                });
                out.commands.push(self.run_task(task_id, token, CHILD_RESOURCE.into(), payload, None));
            }
            Command::CompleteWorkflow { result } => self.close(Status::Succeeded, Some(result), None, None, out),
            Command::FailWorkflow { error, cause } => self.close(Status::Failed, None, Some(error), Some(cause), out),
            Command::CancelWorkflow { cause } => {
                self.close(Status::Aborted, None, Some(WORKFLOW_CANCELLED_ERROR.into()), Some(cause), out)
            }
            Command::ContinueAsNew { input } => self.continue_as_new(input, now, out),
        }
    }

    /// The run starts afresh on `input`: a new history within the same
    /// execution (earlier runs' events stay in the store). What was pending
    /// is dropped; signals that came meanwhile carry over.
    fn continue_as_new(&mut self, input: Value, now: i64, out: &mut Effects) {
        for id in std::mem::take(&mut self.tasks).into_keys() {
            out.commands.push(HostCommand::CancelTask { task_id: id });
        }
        self.timers.clear();
        self.activities.clear();
        self.update_results.clear();
        self.continued += 1;
        self.seed = self.seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.run_first_event = self.events + 1;
        self.sticky = None;
        let seed = self.seed;
        let info = self.info(now);
        self.push(Event::WorkflowStarted { workflow_type: self.workflow_type.clone(), input, seed, info }, now, out);
        self.flush_buffer(now, out);
        self.schedule_workflow_task(now, out);
    }
}
