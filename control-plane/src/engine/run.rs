//! Starting executions and advancing them: load, apply inputs with the pure
//! interpreter, commit with a version check, retry on a lost race.

use crate::AwsError;
use crate::model::ExecutionStatus;
use std::collections::BTreeMap;

use serde_json::Value;
use state_language::interpreter::{Execution, Input, StartContext, Step, step_with};

use super::commit::{Previous, pending_tokens};
use super::{COMMIT_ATTEMPTS_MAX, Engine, decode, sha256_hex};
use crate::Error;
use crate::model::{ExecutionRecord, InboxEntry, Key, ParentLink, Program, TimerRef, keys};
use crate::store::{Condition, Query, Write, blob};

/// Inbox entries one step applies at most, so its commit stays within one transaction.
pub const INBOX_BATCH_MAX: usize = 32;

#[derive(Debug, Clone)]
pub struct StartRequest {
    pub machine_arn: String,
    pub machine_name: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub definition: String,
    pub role_arn: String,
    pub express: bool,
    pub name: String,
    /// The input text exactly as given; already checked to be JSON.
    pub input: String,
    pub trace_header: Option<String>,
    pub parent: Option<ParentLink>,
}

impl Engine {
    /// Starts an execution and runs it until it first blocks. Gives the
    /// record, and whether it was created (false: an idempotent repeat).
    pub async fn start(&self, req: StartRequest) -> Result<(ExecutionRecord, bool), Error> {
        let hash = sha256_hex(req.definition.as_bytes());
        let code_def = super::code::definition(&req.definition);
        let def = match self.definition(&hash).await {
            Ok(d) => Some(d),
            Err(_) => {
                let (pk, sk) = keys::definition(&hash);
                let writes = blob::puts(&pk, &sk, req.definition.as_bytes(), Condition::None, 0)?;
                self.store.transact(writes, Vec::new()).await?;
                match code_def {
                    Some(_) => None,
                    None => Some(self.parse_definition(&hash, &req.definition)?),
                }
            }
        };
        let input: Value = serde_json::from_str(&req.input).map_err(|e| Error::Corrupt(e.to_string()))?;
        let arn = self.scope.execution(&req.machine_name, &req.name, req.express);
        let context = StartContext {
            execution_arn: arn.clone(),
            execution_name: req.name.clone(),
            state_machine_arn: req.machine_arn.clone(),
            state_machine_name: req.machine_name.clone(),
            role_arn: req.role_arn.clone(),
            seed: self.random_u64(),
            redrive_count: 0,
            redrive_count_in_context: true,
            token_key: format!("{:016x}{:016x}", self.random_u64(), self.random_u64()),
            map_children_running_max: self.map_children_running_max,
        };
        let now = self.now_ms();
        let mut state = Execution::new();
        // Kept for a start whose first step cannot be committed (see `fail_start`).
        let fallback = def.clone().map(|d| (d, context.clone()));
        let (step, program) = match (code_def, def) {
            (Some(d), _) => {
                let parent = req.parent.as_ref().map(|p| p.execution_arn.as_str());
                let (run, step) =
                    super::code::start(&d, &self.scope, input, &context, now, parent, self.sticky_wait_ms)?;
                (step, Program::Code { code: run })
            }
            (None, Some(def)) => {
                let limits = self.limits;
                let (s, step) = self
                    .compute
                    .run(move || {
                        let step = step_with(&def, &mut state, Input::Start { input, context }, now, limits);
                        (state, step)
                    })
                    .await?;
                (step?.into(), Program::Asl { state: s })
            }
            (None, None) => return Err(Error::Corrupt(format!("definition {hash} is not parsed"))),
        };
        let mut rec = ExecutionRecord {
            arn: arn.clone(),
            name: req.name,
            machine_arn: req.machine_arn,
            machine_name: req.machine_name,
            version_arn: req.version_arn,
            alias_arn: req.alias_arn,
            definition_hash: hash,
            express: req.express,
            status: ExecutionStatus::Running,
            start_ms: now,
            stop_ms: None,
            input: req.input,
            output: None,
            error: None,
            cause: None,
            timers: BTreeMap::new(),
            parent: req.parent,
            redrive_count: 0,
            redrive_ms: None,
            trace_header: req.trace_header,
            program,
        };
        // A name in use: decide before writing anything of ours.
        if let Some(existing) = self.idempotent(&arn, &rec.input).await? {
            return Ok((existing, false));
        }
        let prev = || Previous { condition: Condition::NotExists, parts: 0, tasks: BTreeMap::new(), status: None };
        let plan =
            match (super::commit::plan(prev(), &mut rec, step, Vec::new(), now, self.retention_days, None), fallback) {
                (Err(Error::Limit(why)), Some((def, context))) => {
                    let step = fail_start(&mut rec, &def, context, self.limits, &why, now)?;
                    super::commit::plan(prev(), &mut rec, step, Vec::new(), now, self.retention_days, None)?
                }
                (plan, _) => plan?,
            };
        let (closed, counts) = (plan.closed, plan.counts);
        match self.execute(plan).await {
            Ok(()) => {
                tracing::info!(execution = %arn, "execution started");
                crate::telemetry::execution_started(&rec.machine_arn);
                self.committed(&rec, counts, closed);
                Ok((rec, true))
            }
            Err(Error::ConditionFailed(_)) => match self.idempotent(&arn, &rec.input).await? {
                Some(existing) => Ok((existing, false)),
                None => Err(Error::Store(format!("{arn} vanished while starting"))),
            },
            Err(e) => Err(e),
        }
    }

    /// The running execution a repeated StartExecution returns, or
    /// `ExecutionAlreadyExists` when the name is taken otherwise.
    async fn idempotent(&self, arn: &str, input: &str) -> Result<Option<ExecutionRecord>, Error> {
        let Some((existing, _)) = self.execution(arn).await? else { return Ok(None) };
        if existing.status == ExecutionStatus::Running && existing.input == input {
            return Ok(Some(existing));
        }
        Err(Error::api(AwsError::ExecutionAlreadyExists, format!("Execution Already Exists: '{arn}'")))
    }

    /// Whether the execution's inbox holds anything to apply.
    pub async fn has_inbox(&self, arn: &str) -> Result<bool, Error> {
        let (pk, _) = keys::execution(arn);
        let q = Query { pk, sk_prefix: "I#".into(), after: None, limit: 1, descending: false };
        Ok(!self.store.query(q).await?.items.is_empty())
    }

    /// Applies a timer, extra inputs and the execution's inbox, and commits.
    /// Gives the record after the step; `None` if the execution does not exist.
    pub async fn advance(
        &self,
        arn: &str,
        timer: Option<TimerRef>,
        extra: &[Input],
    ) -> Result<Option<ExecutionRecord>, Error> {
        self.advance_with(arn, timer, extra, || None).await
    }

    /// [`Engine::advance`], with `direct` (made afresh for each try) applied by the step.
    pub(super) async fn advance_with(
        &self,
        arn: &str,
        timer: Option<TimerRef>,
        extra: &[Input],
        direct: impl Fn() -> Option<Direct>,
    ) -> Result<Option<ExecutionRecord>, Error> {
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            match self.step_once(arn, timer, extra, direct()).await? {
                Attempt::Done(rec) => return Ok(rec.map(|r| *r)),
                Attempt::Raced => continue,
            }
        }
        Err(Error::Store(format!("{arn}: lost {COMMIT_ATTEMPTS_MAX} commit races in a row")))
    }

    /// One try at a step: load, apply, commit. `direct` entries are applied
    /// (after the inbox's) and its writes committed with the step, as if
    /// they had come through the inbox; a closed execution refuses them.
    pub(super) async fn step_once(
        &self,
        arn: &str,
        timer: Option<TimerRef>,
        extra: &[Input],
        direct: Option<Direct>,
    ) -> Result<Attempt, Error> {
        let Some((mut rec, head)) = self.execution(arn).await? else { return Ok(Attempt::Done(None)) };
        let (pk, _) = keys::execution(arn);
        let q = Query { pk, sk_prefix: "I#".into(), after: None, limit: INBOX_BATCH_MAX, descending: false };
        let page = self.store.query(q).await?;
        let more = page.last.is_some();
        let mut consumed: Vec<Key> = Vec::new();
        let mut entries: Vec<(u64, InboxEntry)> = Vec::new();
        for item in page.items {
            let entry: InboxEntry = decode(&item.body)?;
            let task_id =
                keys::parse_inbox(&item.sk).ok_or_else(|| Error::Corrupt(format!("an inbox key {}", item.sk)))?;
            entries.push((task_id, entry));
            consumed.push((item.pk, item.sk));
        }
        // A Map Run's abort of this child's earlier run (before a redrive started it again) is stale.
        let answers = rec.parent.as_ref().map(|p| p.task_id);
        entries.retain(|(_, e)| !matches!(e, InboxEntry::Abort { task_id } if Some(*task_id) != answers));
        let redriving = extra.iter().any(|i| matches!(i, Input::Redrive));
        if rec.status != ExecutionStatus::Running && !redriving {
            if direct.is_some() {
                return Err(Error::api(
                    AwsError::TaskTimedOut,
                    "Task Timed Out: 'Provided task does not exist anymore'",
                ));
            }
            // Late results for a closed execution: drop them.
            if !consumed.is_empty() {
                self.store.transact(consumed.into_iter().map(Write::delete).collect(), Vec::new()).await?;
            }
            return Ok(Attempt::Done(Some(Box::new(rec))));
        }
        let (direct_writes, mut eager) = match direct {
            Some(d) => {
                if d.parent.is_some() {
                    rec.parent = d.parent;
                }
                entries.extend(d.entries);
                (d.writes, d.eager)
            }
            None => (Vec::new(), None),
        };
        if timer.is_none() && extra.is_empty() && entries.is_empty() {
            return Ok(Attempt::Done(Some(Box::new(rec)))); // a duplicate or stale wake-up
        }
        let prev = Previous {
            condition: Condition::Version(head.version),
            parts: head.parts,
            tasks: pending_tokens(&rec),
            status: Some(rec.status),
        };
        let now = self.now_ms();
        let step = if rec.code().is_some() {
            if redriving {
                return Err(Error::api(
                    AwsError::ExecutionNotRedrivable,
                    "A code workflow's execution cannot be redriven",
                ));
            }
            super::code::apply(&mut rec, timer, extra, entries, now)?
        } else {
            let mut inputs: Vec<Input> = Vec::new();
            if let Some(t) = timer {
                inputs.push(Input::TimerFired { timer_id: t.id });
            }
            inputs.extend(extra.iter().cloned());
            // Results that arrived together: failures go last, so a failing branch
            // never discards a success already acknowledged (a redrive would run it again).
            let mut entries = entries;
            entries
                .sort_by_key(|(_, e)| matches!(e, InboxEntry::Failed { .. } | InboxEntry::ChildNotRedrivable { .. }));
            inputs.extend(entries.into_iter().filter_map(|(task_id, e)| asl_input(task_id, e)));
            let def = self.definition(&rec.definition_hash).await?;
            let taken = std::mem::replace(rec.asl_mut().expect("not a code run, so an ASL one"), Execution::new());
            let (limits, mut state) = (self.limits, taken);
            let (state, step) = self
                .compute
                .run(move || {
                    let step = apply(&def, &mut state, inputs, now, limits);
                    (state, step)
                })
                .await?;
            *rec.asl_mut().expect("an ASL run") = state;
            step?.into()
        };
        let interpreter_running = rec.asl().is_some_and(|s| s.status == state_language::Status::Running);
        if redriving && interpreter_running && rec.status != ExecutionStatus::Running {
            rec.status = ExecutionStatus::Running;
            rec.stop_ms = None;
            rec.output = None;
            rec.error = None;
            rec.cause = None;
            rec.redrive_count += 1;
            rec.redrive_ms = Some(now);
        }
        let planned =
            super::commit::plan(prev, &mut rec, step, consumed.clone(), now, self.retention_days, eager.as_mut());
        let mut plan = match planned {
            Err(Error::Limit(why)) => return self.fail_oversized(arn, consumed, direct_writes, &why, redriving).await,
            plan => plan?,
        };
        plan.writes.extend(direct_writes);
        let (closed, counts) = (plan.closed, plan.counts);
        match self.execute(plan).await {
            Ok(()) => {
                if redriving && rec.redrive_ms == Some(now) {
                    crate::telemetry::execution_redriven(&rec.machine_arn);
                }
                self.committed(&rec, counts, closed);
                if let Some(e) = eager {
                    e.handed_out();
                }
                if !closed && more {
                    self.queue.send(vec![super::commit::wake(arn, None, 0)]).await?;
                }
                Ok(Attempt::Done(Some(Box::new(rec))))
            }
            Err(Error::ConditionFailed(_)) => {
                crate::telemetry::store_conflict();
                tracing::info!(execution = %arn, "a commit lost a race; the step is retried");
                Ok(Attempt::Raced)
            }
            Err(e) => Err(e),
        }
    }
}

impl Engine {
    /// A step that cannot be committed (it outgrew one transaction) would be
    /// retried forever: instead the execution fails from where it stood
    /// before the step, with `States.Runtime` naming the limit, as AWS fails
    /// an execution that outgrows its quotas.
    async fn fail_oversized(
        &self,
        arn: &str,
        consumed: Vec<Key>,
        direct_writes: Vec<Write>,
        why: &str,
        redriving: bool,
    ) -> Result<Attempt, Error> {
        let Some((mut rec, head)) = self.execution(arn).await? else { return Ok(Attempt::Done(None)) };
        if rec.status != ExecutionStatus::Running && redriving {
            // The redrive itself is the step that cannot be committed: say so, change nothing.
            let why = format!("Execution cannot be redriven: its redriven step outgrows one commit ({why})");
            return Err(Error::api(AwsError::ExecutionNotRedrivable, why));
        }
        if rec.status != ExecutionStatus::Running {
            return Ok(Attempt::Raced); // closed meanwhile: the next attempt sees it
        }
        tracing::warn!(execution = %arn, limit = why, "a step outgrew one commit; the execution fails");
        let prev = Previous {
            condition: Condition::Version(head.version),
            parts: head.parts,
            tasks: pending_tokens(&rec),
            status: Some(rec.status),
        };
        let (error, cause) = oversized_failure(why);
        let now = self.now_ms();
        let step = if rec.code().is_some() {
            let stop = Input::Stop { error: Some(error), cause: Some(cause) };
            super::code::apply(&mut rec, None, &[stop], Vec::new(), now)?
        } else {
            let def = self.definition(&rec.definition_hash).await?;
            let state = rec.asl_mut().expect("not a code run, so an ASL one");
            apply(&def, state, vec![Input::Fail { error, cause }], now, self.limits)?.into()
        };
        let mut plan = super::commit::plan(prev, &mut rec, step, consumed, now, self.retention_days, None)?;
        plan.writes.extend(direct_writes);
        let counts = plan.counts;
        match self.execute(plan).await {
            Ok(()) => {
                self.committed(&rec, counts, true);
                Ok(Attempt::Done(Some(Box::new(rec))))
            }
            Err(Error::ConditionFailed(_)) => Ok(Attempt::Raced),
            Err(e) => Err(e),
        }
    }
}

/// The error and cause of an execution whose step outgrew one commit.
fn oversized_failure(why: &str) -> (String, String) {
    let cause = format!("The execution outgrew what one step may commit at once: {why}.");
    ("States.Runtime".to_string(), cause)
}

/// The start of an execution whose first step outgrew one commit: it is
/// recorded as started, then failed, so StartExecution still succeeds.
fn fail_start(
    rec: &mut ExecutionRecord,
    def: &state_language::definition::Definition,
    context: StartContext,
    limits: state_language::interpreter::Limits,
    why: &str,
    now: i64,
) -> Result<super::commit::Changes, Error> {
    let input: Value = serde_json::from_str(&rec.input).map_err(|e| Error::Corrupt(e.to_string()))?;
    let (error, cause) = oversized_failure(why);
    rec.program = Program::Asl { state: Execution::new() };
    rec.status = ExecutionStatus::Running;
    rec.stop_ms = None;
    rec.output = None;
    rec.timers.clear();
    let state = rec.asl_mut().expect("made an ASL run above");
    let step = state_language::interpreter::start_failed(def, state, input, context, now, limits, error, cause)?;
    Ok(step.into())
}

/// What a task's answer brings to a step that takes it directly: its inbox
/// entries, and the writes (its token's closing) that commit with the step.
pub(super) struct Direct {
    pub entries: Vec<(u64, InboxEntry)>,
    pub writes: Vec<Write>,
    /// Activity tasks the step may hand at once to the worker whose answer it applies.
    pub eager: Option<super::new_tasks::Eager>,
    /// A Map Run child redriven by its parent's redrive answers the parent's new task.
    pub parent: Option<ParentLink>,
}

pub(super) enum Attempt {
    Done(Option<Box<ExecutionRecord>>),
    /// Another writer changed the record (or the token) first: load and try again.
    Raced,
}

/// An inbox entry as the ASL interpreter's input (code workflows' own entries have none).
fn asl_input(task_id: u64, e: InboxEntry) -> Option<Input> {
    Some(match e {
        InboxEntry::Started { .. } => Input::TaskStarted { task_id },
        InboxEntry::Heartbeat => Input::TaskHeartbeat { task_id },
        InboxEntry::Succeeded { output } => Input::TaskSucceeded { task_id, output },
        InboxEntry::Failed { error, cause } => Input::TaskFailed { task_id, error, cause },
        InboxEntry::ChildNotRedrivable { error, cause } => Input::ChildNotRedrivable { task_id, error, cause },
        // Only an abort for the task the child answers now (see `step_once`) is left here.
        InboxEntry::Abort { .. } => Input::Stop { error: None, cause: None },
        InboxEntry::Signal { .. } | InboxEntry::CancelRequest | InboxEntry::Update { .. } => return None,
    })
}

/// Applies inputs in order. Inputs for tasks that already ended are stale
/// deliveries and skipped; so is everything after the execution closes.
fn apply(
    def: &state_language::definition::Definition,
    state: &mut Execution,
    inputs: Vec<Input>,
    now: i64,
    limits: state_language::interpreter::Limits,
) -> Result<Step, Error> {
    let mut all = Step::default();
    for input in inputs {
        match step_with(def, state, input, now, limits) {
            Ok(s) => {
                all.events.extend(s.events);
                all.commands.extend(s.commands);
            }
            Err(state_language::Error::UnknownTask(_)) => {}
            Err(state_language::Error::NotRunning(_)) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(all)
}
