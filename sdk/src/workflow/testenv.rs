//! A test environment: workflows and activities in process, on virtual
//! time, so a workflow that sleeps for months is tested in milliseconds.
//! Every workflow task replays the whole history through a fresh copy of
//! the code, as a worker that just restarted would.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::activity::{ActivityContext, ActivityFn, activity_fn};
use super::history::{ActivityError, ActivityOptions, Command, Event, RunInfo};
use super::pending::Pending;
use super::{WorkflowContext, WorkflowError, WorkflowFn, workflow_fn, workflow_query, workflow_validate};
use crate::Error;

/// Steps (workflow tasks, activity attempts, timer firings) one `run` may take.
pub const RUN_STEPS_MAX: usize = 100_000;
/// Where virtual time starts: 2027-01-15T08:00:00Z.
pub const START_MS: i64 = 1_800_000_000_000;
/// How deep child workflows may nest.
pub const CHILD_DEPTH_MAX: usize = 16;

struct Run {
    workflow_type: String,
    history: Vec<Event>,
    /// Histories of the runs this one continued as new from, oldest first.
    previous: Vec<Vec<Event>>,
}

pub struct TestEnv {
    workflows: HashMap<String, WorkflowFn>,
    activities: HashMap<String, ActivityFn>,
    runs: BTreeMap<String, Run>,
    now_ms: i64,
    /// Attempts of each activity, task-queue and local ones alike.
    calls: Rc<RefCell<BTreeMap<String, u32>>>,
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            workflows: HashMap::new(),
            activities: HashMap::new(),
            runs: BTreeMap::new(),
            now_ms: START_MS,
            calls: Rc::default(),
        }
    }

    pub fn register_workflow<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(WorkflowContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, WorkflowError>> + 'static,
    {
        self.workflows.insert(name.to_string(), workflow_fn(f));
    }

    /// Registers (or replaces: a test may swap in a fake) an activity.
    pub fn register_activity<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
    {
        self.add_activity(name, activity_fn(f));
    }

    /// Registers an activity that takes its [`ActivityContext`] (its
    /// heartbeats go nowhere here).
    pub fn register_activity_with_context<I, O, F, Fut>(&mut self, name: &str, f: F)
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(ActivityContext, I) -> Fut + 'static,
        Fut: Future<Output = Result<O, ActivityError>> + 'static,
    {
        self.add_activity(name, super::activity_fn_with_context(f));
    }

    /// Keeps `f`, counting its attempts.
    fn add_activity(&mut self, name: &str, f: ActivityFn) {
        let (calls, key) = (self.calls.clone(), name.to_string());
        let counted: ActivityFn = Rc::new(move |ctx, input| {
            *calls.borrow_mut().entry(key.clone()).or_default() += 1;
            f(ctx, input)
        });
        self.activities.insert(name.to_string(), counted);
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// How many times the activity `name` was attempted, in every run.
    pub fn calls(&self, name: &str) -> u32 {
        self.calls.borrow().get(name).copied().unwrap_or(0)
    }

    pub fn start<I: Serialize>(&mut self, id: &str, workflow_type: &str, input: &I) -> Result<(), Error> {
        self.start_run(id, workflow_type, input, None)
    }

    fn start_run<I: Serialize>(
        &mut self,
        id: &str,
        workflow_type: &str,
        input: &I,
        parent: Option<&str>,
    ) -> Result<(), Error> {
        if !self.workflows.contains_key(workflow_type) {
            return Err(Error::Unknown(format!("workflow type {workflow_type:?}")));
        }
        let input = serde_json::to_value(input).map_err(|e| Error::History(e.to_string()))?;
        let seed = self.runs.len() as u64 + 1;
        let info = Some(test_info(id, workflow_type, 1, self.now_ms, parent));
        let history = vec![Event::WorkflowStarted { workflow_type: workflow_type.to_string(), input, seed, info }];
        self.runs
            .insert(id.to_string(), Run { workflow_type: workflow_type.to_string(), history, previous: Vec::new() });
        Ok(())
    }

    /// Resumes a run from a saved history, as a restarted server would.
    pub fn resume(&mut self, id: &str, history: Vec<Event>) -> Result<(), Error> {
        let Some(Event::WorkflowStarted { workflow_type, .. }) = history.first() else {
            return Err(Error::History("a history starts with WorkflowStarted".into()));
        };
        let workflow_type = workflow_type.clone();
        self.runs.insert(id.to_string(), Run { workflow_type, history, previous: Vec::new() });
        Ok(())
    }

    /// Asks the run to stop: its `ctx.cancelled()` resolves.
    pub fn cancel(&mut self, id: &str) -> Result<(), Error> {
        self.push(id, Event::CancelRequested {})
    }

    /// Answers a query from the run's replayed state; the history is unchanged.
    pub fn query(&self, id: &str, name: &str) -> Result<Value, Error> {
        let run = self.runs.get(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
        let code = self.workflows.get(&run.workflow_type).ok_or_else(|| Error::Unknown(run.workflow_type.clone()))?;
        workflow_query(code, &run.history, name)
    }

    /// Sends an update: validated on the run's replayed state (a rejection
    /// records nothing), then handled by the code; gives its answer.
    pub fn update<T: Serialize>(&mut self, id: &str, name: &str, payload: &T) -> Result<Value, Error> {
        let payload = serde_json::to_value(payload).map_err(|e| Error::History(e.to_string()))?;
        let run = self.runs.get(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
        let code = self.workflows.get(&run.workflow_type).ok_or_else(|| Error::Unknown(run.workflow_type.clone()))?;
        workflow_validate(code, &run.history, name, &payload)?;
        let update_id = format!("u{}", run.history.len());
        self.push(id, Event::UpdateAccepted { id: update_id.clone(), name: name.to_string(), payload })?;
        let now = self.now_ms;
        self.run_until(id, now)?;
        let history = self.history(id).unwrap_or_default();
        history
            .iter()
            .find_map(|e| match e {
                Event::UpdateCompleted { id: u, result } if *u == update_id => Some(result.clone()),
                _ => None,
            })
            .ok_or(Error::UpdatePending(update_id))
    }

    /// How many runs continued as new before the current one.
    pub fn continued_runs(&self, id: &str) -> usize {
        self.runs.get(id).map_or(0, |r| r.previous.len())
    }

    pub fn signal<T: Serialize>(&mut self, id: &str, name: &str, payload: &T) -> Result<(), Error> {
        let payload = serde_json::to_value(payload).map_err(|e| Error::History(e.to_string()))?;
        let run = self.runs.get_mut(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
        run.history.push(Event::SignalReceived { name: name.to_string(), payload });
        Ok(())
    }

    pub fn history(&self, id: &str) -> Option<&[Event]> {
        self.runs.get(id).map(|r| r.history.as_slice())
    }

    /// The run's outcome once closed.
    pub fn result(&self, id: &str) -> Option<Result<Value, WorkflowError>> {
        self.runs.get(id)?.history.iter().rev().find_map(|e| match e {
            Event::WorkflowCompleted { result } => Some(Ok(result.clone())),
            Event::WorkflowFailed { error, cause } => Some(Err(WorkflowError::new(error, cause.clone()))),
            Event::WorkflowCancelled { cause } => Some(Err(WorkflowError::new(super::CANCELLED, cause.clone()))),
            _ => None,
        })
    }

    /// Runs `id` until it closes or waits for a signal, moving virtual time
    /// to each timer as nothing else is left to do.
    pub fn run(&mut self, id: &str) -> Result<(), Error> {
        self.run_until(id, i64::MAX)
    }

    /// Like [`run`](Self::run), but virtual time stops at `until_ms`: timers
    /// due later stay pending (say, to signal a workflow while it waits).
    pub fn run_until(&mut self, id: &str, until_ms: i64) -> Result<(), Error> {
        self.run_nested(id, until_ms, 0)
    }

    fn run_nested(&mut self, id: &str, until_ms: i64, depth: usize) -> Result<(), Error> {
        if depth > CHILD_DEPTH_MAX {
            return Err(Error::History(format!("child workflows nest deeper than {CHILD_DEPTH_MAX}")));
        }
        for _ in 0..RUN_STEPS_MAX {
            let run = self.runs.get(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
            let state = Pending::of(&run.history);
            if state.closed {
                return Ok(());
            }
            if state.needs_task {
                self.workflow_task(id)?;
            } else if let Some((seq, name, input, options)) = state.activities.into_iter().next() {
                let event = self.perform(seq, &name, input, &options);
                self.push(id, event)?;
            } else if let Some(event) = self.advance_children(id, state.children, until_ms, depth)? {
                self.push(id, event)?;
            } else if let Some((at, seq)) = state.timers.into_iter().min().filter(|(at, _)| *at <= until_ms) {
                self.now_ms = self.now_ms.max(at);
                self.push(id, Event::TimerFired { seq })?;
            } else {
                if until_ms != i64::MAX {
                    self.now_ms = self.now_ms.max(until_ms);
                }
                return Ok(()); // waiting for a signal, or for a timer after `until_ms`
            }
        }
        Err(Error::TooManySteps(RUN_STEPS_MAX))
    }

    fn push(&mut self, id: &str, e: Event) -> Result<(), Error> {
        let run = self.runs.get_mut(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
        run.history.push(e);
        Ok(())
    }

    /// Runs pending children; gives the first one's end, if one ended.
    fn advance_children(
        &mut self,
        parent: &str,
        children: Vec<(u64, String, String, Value)>,
        until_ms: i64,
        depth: usize,
    ) -> Result<Option<Event>, Error> {
        for (seq, workflow_type, child, input) in children {
            if !self.runs.contains_key(&child) {
                self.start_run(&child, &workflow_type, &input, Some(parent))?;
            }
            self.run_nested(&child, until_ms, depth + 1)?;
            match self.result(&child) {
                Some(Ok(result)) => return Ok(Some(Event::ChildCompleted { seq, result })),
                Some(Err(e)) => return Ok(Some(Event::ChildFailed { seq, error: e.error, cause: e.cause })),
                None => {}
            }
        }
        Ok(None)
    }

    fn workflow_task(&mut self, id: &str) -> Result<(), Error> {
        let run = self.runs.get(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
        let code = self.workflows.get(&run.workflow_type).ok_or_else(|| Error::Unknown(run.workflow_type.clone()))?;
        let task = super::workflow_task_with_locals(code, &run.history, self.now_ms, &self.activities);
        let commands = futures::executor::block_on(task)?;
        let mut events = vec![Event::WorkflowTaskStarted { time_ms: self.now_ms }];
        events.extend(commands.iter().map(Command::event));
        let run = self.runs.get_mut(id).ok_or_else(|| Error::Unknown(format!("run {id:?}")))?;
        run.history.extend(events);
        // Continuing as new: this run's history closes and a fresh one starts.
        if let Some(Command::ContinueAsNew { input }) = commands.last() {
            let seed = run.previous.len() as u64 + 2;
            let parent = match run.history.first() {
                Some(Event::WorkflowStarted { info: Some(i), .. }) => i.parent_execution_arn.clone(),
                _ => None,
            };
            let number = run.previous.len() as u32 + 2;
            let mut info = test_info(id, &run.workflow_type, number, self.now_ms, None);
            info.parent_execution_arn = parent;
            let (workflow_type, input) = (run.workflow_type.clone(), input.clone());
            let started = Event::WorkflowStarted { workflow_type, input, seed, info: Some(info) };
            let old = std::mem::replace(&mut run.history, vec![started]);
            run.previous.push(old);
        }
        Ok(())
    }

    /// Attempts an activity until it succeeds, fails for good or runs out
    /// of attempts, waiting out each backoff in virtual time.
    fn perform(&mut self, seq: u64, name: &str, input: Value, options: &ActivityOptions) -> Event {
        let Some(f) = self.activities.get(name).cloned() else {
            let error = ActivityError::non_retryable("Stepwise.ActivityNotRegistered", format!("no activity {name:?}"));
            return Event::ActivityFailed { seq, error, attempts: 0 };
        };
        let policy = &options.retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match futures::executor::block_on(f(ActivityContext::detached(attempt), input.clone())) {
                Ok(result) => return Event::ActivityCompleted { seq, result, attempts: attempt },
                Err(error) => {
                    let last = policy.max_attempts != 0 && attempt >= policy.max_attempts;
                    let fatal = error.non_retryable || policy.non_retryable.contains(&error.error_type);
                    // Bounded: an unlimited policy still stops at the environment's step limit.
                    if last || fatal || attempt as usize >= RUN_STEPS_MAX {
                        return Event::ActivityFailed { seq, error, attempts: attempt };
                    }
                    self.now_ms += policy.delay_ms(attempt) as i64;
                }
            }
        }
    }
}

/// What a run in the test environment knows about itself: its id is its
/// execution name, under the ARN `testenv:<id>`.
fn test_info(id: &str, workflow_type: &str, run: u32, now_ms: i64, parent: Option<&str>) -> RunInfo {
    let execution_arn = format!("testenv:{id}");
    RunInfo {
        run_id: RunInfo::run_id(&execution_arn, run),
        previous_run_id: (run > 1).then(|| RunInfo::run_id(&execution_arn, run - 1)),
        execution_arn,
        execution_name: id.to_string(),
        workflow_type: workflow_type.to_string(),
        task_queue: "testenv".into(),
        run,
        started_ms: now_ms,
        attempt: 1,
        parent_execution_arn: parent.map(|p| format!("testenv:{p}")),
    }
}
