//! Task states: scheduling, results, failures, timeouts and heartbeats.

use serde_json::Value;

use super::context::Where;
use super::events::{Details, ErrorDetails, EventType, TaskRef, TaskScheduled};
use super::frame::{PendingTask, Purpose, Timer, Wait};
use super::io::{self, Raised, with_scope};
use super::run::{Flow, Runtime};
use super::{Command, TaskCommand};
use crate::Error;
use crate::definition::{State, Task};

type Res<T> = Result<T, Result<Raised, Error>>;

impl Runtime<'_> {
    pub(super) fn schedule_task(
        &mut self,
        f: u64,
        state: &State,
        task: &Task,
        effective: Value,
        entered: u64,
    ) -> Res<Flow> {
        let timeout = match &task.timeout {
            Some(a) => Some(self.amount(f, state, a, "TimeoutSeconds", &effective, entered)?),
            None => None,
        };
        let heartbeat = match &task.heartbeat {
            Some(a) => Some(self.amount(f, state, a, "HeartbeatSeconds", &effective, entered)?),
            None => None,
        };
        let task_id = self.exec.fresh_id();
        let (a, b) = (self.exec.entropy.next_u64(), self.exec.entropy.next_u64());
        let key = self.exec.context.as_ref().map_or("", |c| c.token_key.as_str());
        let token = task_token(task_id, a, b, key);
        let fr = self.frame(f).map_err(Err)?;
        let (entered_ms, retry_count) = (fr.entered_ms, fr.attempts.iter().sum());
        let at = Where {
            state_name: &state.name,
            entered_ms,
            retry_count: Some(retry_count),
            task_token: Some(&token),
            map_item: None,
        };
        let payload = match (&state.io.parameters, &state.io.arguments) {
            (Some(t), _) => {
                with_scope(self.exec, f, &effective, at, |s| io::render(s, t, &state.name, entered)).map_err(Ok)?
            }
            // JSONata: `effective` is the state input; the context carries the task token.
            (None, Some(jt)) => {
                let states = super::jsonata::StatesVar::input(&effective);
                self.eval_jt(f, state, jt, "Arguments", states, at).map_err(Ok)?
            }
            (None, None) => effective,
        };
        let r = TaskRef::from_arn(&task.resource);
        let parameters = self.payload(&payload);
        self.emit(
            Some(f),
            EventType::TaskScheduled,
            Details::TaskScheduled(TaskScheduled {
                resource: r.resource,
                resource_type: r.resource_type,
                region: "us-east-1".into(),
                parameters,
                timeout_in_seconds: timeout,
                heartbeat_in_seconds: heartbeat,
            }),
        );
        let timeout_timer =
            timeout.map(|t| self.start_timer(Timer::TaskTimeout(task_id), self.now_ms + t as i64 * 1000));
        // The heartbeat clock starts when a worker starts the task (`TaskStarted`).
        let heartbeat_timer = None;
        self.exec.tasks.insert(
            task_id,
            PendingTask {
                frame: f,
                token: token.clone(),
                resource: task.resource.clone(),
                started: false,
                timeout_timer,
                heartbeat_timer,
                heartbeat_seconds: heartbeat,
                purpose: Purpose::State,
            },
        );
        self.out.commands.push(Command::RunTask(TaskCommand {
            task_id,
            resource: task.resource.clone(),
            payload,
            state_name: state.name.clone(),
            task_token: token,
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
            attempt: retry_count,
        }));
        self.frame_mut(f).map_err(Err)?.wait = Wait::Task { task_id };
        Ok(Flow::Blocked)
    }

    pub(super) fn task_started(&mut self, task_id: u64) -> Result<(), Error> {
        let t = self.exec.tasks.get_mut(&task_id).ok_or(Error::UnknownTask(task_id))?;
        if std::mem::replace(&mut t.started, true) || t.purpose != Purpose::State {
            return Ok(()); // duplicate delivery, or a Map Run's S3 call (no task events)
        }
        let (f, r) = (t.frame, TaskRef::from_arn(&t.resource));
        self.emit(Some(f), EventType::TaskStarted, Details::TaskStarted(r));
        self.restart_heartbeat(task_id)
    }

    pub(super) fn task_succeeded(&mut self, task_id: u64, output: Value) -> Result<(), Error> {
        if self.exec.tasks.get(&task_id).is_some_and(|t| t.purpose != Purpose::State) {
            let t = self.take_task(task_id)?;
            return self.map_io_succeeded(task_id, t, output);
        }
        if crate::json::size_bytes(&output) > self.limits.payload_bytes_max {
            // AWS records an oversized result as a failed task, which Catch can handle.
            let resource = self.exec.tasks.get(&task_id).ok_or(Error::UnknownTask(task_id))?.resource.clone();
            let shown = match resource.strip_prefix("arn:aws:states:::") {
                Some(_) => TaskRef::from_arn(&resource).resource_type,
                None => resource,
            };
            let cause = format!(
                "The state/task '{shown}' returned a result with a size exceeding the maximum number of bytes service limit."
            );
            return self.task_failed(task_id, "States.DataLimitExceeded".into(), cause, false);
        }
        let t = self.take_task(task_id)?;
        let payload = self.payload(&output);
        let task = TaskRef::from_arn(&t.resource);
        self.emit(
            Some(t.frame),
            EventType::TaskSucceeded,
            Details::TaskSucceeded { task, output: payload, output_details: Default::default() },
        );
        self.frame_mut(t.frame)?.wait = Wait::Completed { result: output };
        self.exec.ready.push_back(t.frame);
        Ok(())
    }

    pub(super) fn task_failed(
        &mut self,
        task_id: u64,
        error: String,
        cause: String,
        timed_out: bool,
    ) -> Result<(), Error> {
        let t = self.take_task(task_id)?;
        if t.purpose != Purpose::State {
            return self.map_io_failed(t, error, cause);
        }
        let task = TaskRef::from_arn(&t.resource);
        let details = ErrorDetails { error: Some(error.clone()), cause: (!cause.is_empty()).then(|| cause.clone()) };
        if timed_out {
            self.out.commands.push(Command::CancelTask { task_id });
            self.emit(Some(t.frame), EventType::TaskTimedOut, Details::TaskTimedOut { task, error: details });
        } else {
            self.emit(Some(t.frame), EventType::TaskFailed, Details::TaskFailed { task, error: details });
        }
        self.frame_mut(t.frame)?.wait = Wait::Errored { error, cause, failed_event: None, from_task: true };
        self.exec.ready.push_back(t.frame);
        Ok(())
    }

    pub(super) fn task_heartbeat(&mut self, task_id: u64) -> Result<(), Error> {
        let t = self.exec.tasks.get(&task_id).ok_or(Error::UnknownTask(task_id))?;
        if !t.started {
            // A heartbeat means a worker has the task, even if its start was not reported.
            return self.task_started(task_id);
        }
        self.restart_heartbeat(task_id)
    }

    /// (Re)arms the heartbeat deadline; the superseded timer is forgotten, so its firing is ignored.
    fn restart_heartbeat(&mut self, task_id: u64) -> Result<(), Error> {
        let t = self.exec.tasks.get(&task_id).ok_or(Error::UnknownTask(task_id))?;
        let (Some(secs), old) = (t.heartbeat_seconds, t.heartbeat_timer) else { return Ok(()) };
        if let Some(old) = old {
            self.exec.timers.remove(&old);
        }
        let id = self.start_timer(Timer::HeartbeatTimeout(task_id), self.now_ms + secs as i64 * 1000);
        if let Some(t) = self.exec.tasks.get_mut(&task_id) {
            t.heartbeat_timer = Some(id);
        }
        Ok(())
    }

    /// Removes a pending task and its timers.
    pub(super) fn take_task(&mut self, task_id: u64) -> Result<PendingTask, Error> {
        let t = self.exec.tasks.remove(&task_id).ok_or(Error::UnknownTask(task_id))?;
        for timer in [t.timeout_timer, t.heartbeat_timer].into_iter().flatten() {
            self.exec.timers.remove(&timer);
        }
        Ok(t)
    }
}

/// A task token: the task id and 128 bits from the execution's entropy
/// stream, identical on replay. With a host key the 128 bits are a keyed
/// hash, so one token reveals nothing about the next.
pub fn task_token(task_id: u64, a: u64, b: u64, key: &str) -> String {
    if key.is_empty() {
        return format!("{task_id:016x}{a:016x}{b:016x}");
    }
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(key.as_bytes());
    h.update(task_id.to_be_bytes());
    h.update(a.to_be_bytes());
    h.update(b.to_be_bytes());
    let d = h.finalize();
    let hex: String = d[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!("{task_id:016x}{hex}")
}
