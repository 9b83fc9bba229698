//! What the control plane stores: records (serde JSON item bodies) and the
//! keys they live under. One key layout serves every backend; see
//! ARCHITECTURE.md for the table design.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use state_language::interpreter::Execution;

pub type Key = (String, String);

pub mod keys {
    use super::Key;
    pub fn machine(arn: &str) -> Key {
        (format!("SM#{arn}"), "META".into())
    }
    /// Every state machine, by name: the ListStateMachines partition.
    pub fn machines_index(name: &str) -> Key {
        (MACHINES_INDEX.into(), name.into())
    }
    pub const MACHINES_INDEX: &str = "SM";
    pub const ACTIVITIES_INDEX: &str = "ACT";
    pub fn version(machine_arn: &str, n: u64) -> Key {
        (format!("SM#{machine_arn}"), format!("V#{n:010}"))
    }
    pub fn alias(machine_arn: &str, name: &str) -> Key {
        (format!("SM#{machine_arn}"), format!("A#{name}"))
    }
    /// The deployment's pagination MAC key (`api/pagination.rs`).
    pub fn paging_key() -> Key {
        ("CONFIG#paging-key".into(), "META".into())
    }
    pub fn definition(hash: &str) -> Key {
        (format!("DEF#{hash}"), "META".into())
    }
    pub fn execution(arn: &str) -> Key {
        (format!("EX#{arn}"), "META".into())
    }
    pub fn history_page(exec_arn: &str, first_event: u64) -> Key {
        (format!("EX#{exec_arn}"), format!("H#{first_event:010}"))
    }
    /// Results, heartbeats and starts waiting to be applied, in apply order.
    pub fn inbox(exec_arn: &str, task_id: u64, kind: &str) -> Key {
        (format!("EX#{exec_arn}"), format!("I#{task_id:010}#{kind}"))
    }
    /// Which execution a Map Run belongs to (DescribeMapRun, UpdateMapRun).
    pub fn map_run(arn: &str) -> Key {
        (format!("MR#{arn}"), "META".into())
    }
    /// The Map Run whose EXPRESS children's names carry `tag`
    /// (`express_child_tag`): how DescribeExecution finds such a child.
    pub fn express_run(tag: &str) -> Key {
        (format!("MRX#{tag}"), "META".into())
    }
    /// A state machine's executions, newest last: the ListExecutions partition.
    pub fn execution_index(machine_arn: &str, start_ms: i64, name: &str) -> Key {
        (format!("SMX#{machine_arn}"), format!("{start_ms:015}#{name}"))
    }
    pub fn activity(arn: &str) -> Key {
        (format!("ACT#{arn}"), "META".into())
    }
    pub fn activities_index(name: &str) -> Key {
        (ACTIVITIES_INDEX.into(), name.into())
    }
    pub fn token(hash: &str) -> Key {
        (format!("TOK#{hash}"), "META".into())
    }
    /// Partitions of the timer index: DynamoDB serves about 1,000 writes a
    /// second per partition, and every Wait writes and deletes an entry.
    pub const TIMER_SHARDS: u32 = 16;
    /// The timer index partition of shard `shard`.
    pub fn timers_shard(shard: u32) -> String {
        format!("TIMERS#{shard:02}")
    }
    /// Due timers in time order within each shard, for the sweeper; an
    /// execution's timers share a shard.
    pub fn timer(fire_ms: i64, exec_arn: &str, timer_id: u64) -> Key {
        let h = exec_arn.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        (timers_shard(h % TIMER_SHARDS), format!("{fire_ms:015}#{exec_arn}#{timer_id}"))
    }
    /// A timer index item's sort key: fire time, execution and timer id.
    pub fn parse_timer(sk: &str) -> Option<(i64, &str, u64)> {
        let (fire_ms, rest) = sk.split_once('#')?;
        let (arn, id) = rest.rsplit_once('#')?;
        Some((fire_ms.parse().ok()?, arn, id.parse().ok()?))
    }
    /// An inbox item's sort key: the task id it answers (0 for a signal or an update).
    pub fn parse_inbox(sk: &str) -> Option<u64> {
        sk.strip_prefix("I#")?.get(..10)?.parse().ok()
    }
    /// A delivered signal's request id: a retried SignalExecution is applied once.
    pub fn signal_receipt(exec_arn: &str, request_id: &str) -> Key {
        (format!("EX#{exec_arn}"), format!("R#{}", crate::store::sha256_hex(request_id.as_bytes())))
    }
    /// A query (or update validation) waiting for a worker's answer.
    pub fn query(id: &str) -> Key {
        (format!("QRY#{id}"), "META".into())
    }
    pub fn tags(arn: &str) -> Key {
        (format!("TAG#{arn}"), "META".into())
    }
    /// A schedule's record.
    pub fn schedule(group: &str, name: &str) -> Key {
        (format!("SCH#{group}/{name}"), "META".into())
    }
    /// Every schedule, by group and name: the ListSchedules partition.
    pub const SCHEDULES_INDEX: &str = "SCHIDX";
    pub fn schedules_index(group: &str, name: &str) -> Key {
        (SCHEDULES_INDEX.into(), format!("{group}/{name}"))
    }
    /// Schedule groups by name, with their schedule counts: ListScheduleGroups' partition.
    pub const SCHEDULE_GROUPS: &str = "SCHGRP";
    pub fn schedule_group(name: &str) -> Key {
        (SCHEDULE_GROUPS.into(), name.into())
    }
}

/// Queue names.
pub mod queues {
    /// Wake-ups and timer deliveries for the scheduler.
    pub const SCHEDULER: &str = "scheduler";
    /// Service integrations the server performs itself (nested executions, …).
    pub const TASKS: &str = "tasks";
    pub fn activity(arn: &str) -> String {
        format!("activity#{arn}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineRecord {
    pub arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub definition: String,
    pub role_arn: String,
    pub creation_ms: i64,
    pub update_ms: i64,
    pub revision_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub logging_configuration: Value,
    #[serde(default)]
    pub tracing_configuration: Value,
    /// The number the next published version gets.
    pub next_version: u64,
    /// The version published from the current revision, if any.
    #[serde(default)]
    pub published: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    pub arn: String,
    pub number: u64,
    pub machine_arn: String,
    pub definition: String,
    pub role_arn: String,
    pub revision_id: String,
    #[serde(default)]
    pub description: String,
    pub creation_ms: i64,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub state_machine_version_arn: String,
    pub weight: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasRecord {
    pub arn: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub routing: Vec<Route>,
    pub creation_ms: i64,
    pub update_ms: i64,
}

/// The execution that waits on this one (`states:startExecution.sync`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentLink {
    pub execution_arn: String,
    pub task_id: u64,
    /// `.sync:2` gives the output as JSON; `.sync` as a string.
    pub output_as_json: bool,
    /// A distributed Map's child: the Map Run it belongs to. The parent's task
    /// gets the child's own output, or its error and cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// A Map Run child's items (more than 1 when batched): ListExecutions' `itemCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
}

/// An execution's lifecycle: `Running` until it closes in one of the others
/// (a redrive takes a closed one back to `Running`). Stored as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    /// AWS's name: `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
    pub fn is_running(self) -> bool {
        self == ExecutionStatus::Running
    }
    /// Closed in a way RedriveExecution may restart.
    pub fn is_redrivable(self) -> bool {
        matches!(self, ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted)
    }
}

impl From<state_language::Status> for ExecutionStatus {
    fn from(s: state_language::Status) -> ExecutionStatus {
        match s {
            state_language::Status::Running => ExecutionStatus::Running,
            state_language::Status::Succeeded => ExecutionStatus::Succeeded,
            state_language::Status::Failed => ExecutionStatus::Failed,
            state_language::Status::TimedOut => ExecutionStatus::TimedOut,
            state_language::Status::Aborted => ExecutionStatus::Aborted,
        }
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "StoredRecord")]
pub struct ExecutionRecord {
    pub arn: String,
    pub name: String,
    pub machine_arn: String,
    pub machine_name: String,
    #[serde(default)]
    pub version_arn: Option<String>,
    #[serde(default)]
    pub alias_arn: Option<String>,
    pub definition_hash: String,
    pub express: bool,
    pub status: ExecutionStatus,
    pub start_ms: i64,
    #[serde(default)]
    pub stop_ms: Option<i64>,
    /// The input exactly as given (AWS echoes it byte for byte).
    pub input: String,
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    /// Deadlines of the pending timers, by timer id (for the due-timer index).
    #[serde(default)]
    pub timers: std::collections::BTreeMap<u64, i64>,
    #[serde(default)]
    pub parent: Option<ParentLink>,
    #[serde(default)]
    pub redrive_count: u64,
    #[serde(default)]
    pub redrive_ms: Option<i64>,
    #[serde(default)]
    pub trace_header: Option<String>,
    /// What runs: the ASL interpreter's state or a code workflow's run.
    #[serde(flatten)]
    pub program: Program,
}

/// An execution record as stored: records written before [`Program`] carry
/// an (unused, empty) `state` beside a code run's `code`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRecord {
    arn: String,
    name: String,
    machine_arn: String,
    machine_name: String,
    #[serde(default)]
    version_arn: Option<String>,
    #[serde(default)]
    alias_arn: Option<String>,
    definition_hash: String,
    express: bool,
    status: ExecutionStatus,
    start_ms: i64,
    #[serde(default)]
    stop_ms: Option<i64>,
    /// The input exactly as given (AWS echoes it byte for byte).
    input: String,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    state: Option<Execution>,
    /// Deadlines of the pending timers, by timer id (for the due-timer index).
    #[serde(default)]
    timers: std::collections::BTreeMap<u64, i64>,
    #[serde(default)]
    parent: Option<ParentLink>,
    #[serde(default)]
    redrive_count: u64,
    #[serde(default)]
    redrive_ms: Option<i64>,
    #[serde(default)]
    trace_header: Option<String>,
    /// A code workflow's run (then `state` is unused); `None` for ASL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<stepwise_workflow_core::host::Run>,
}

impl TryFrom<StoredRecord> for ExecutionRecord {
    type Error = String;
    fn try_from(r: StoredRecord) -> Result<ExecutionRecord, String> {
        let program = match (r.code, r.state) {
            (Some(code), _) => Program::Code { code },
            (None, Some(state)) => Program::Asl { state },
            (None, None) => return Err(format!("execution {} has neither a state nor a code run", r.arn)),
        };
        Ok(ExecutionRecord {
            arn: r.arn,
            name: r.name,
            machine_arn: r.machine_arn,
            machine_name: r.machine_name,
            version_arn: r.version_arn,
            alias_arn: r.alias_arn,
            definition_hash: r.definition_hash,
            express: r.express,
            status: r.status,
            start_ms: r.start_ms,
            stop_ms: r.stop_ms,
            input: r.input,
            output: r.output,
            error: r.error,
            cause: r.cause,
            timers: r.timers,
            parent: r.parent,
            redrive_count: r.redrive_count,
            redrive_ms: r.redrive_ms,
            trace_header: r.trace_header,
            program,
        })
    }
}

/// What an execution runs.
#[allow(clippy::large_enum_variant)] // one per record, moved rarely; boxing would cost an allocation per decode
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Program {
    /// A code workflow's run (stored as `code`).
    Code { code: stepwise_workflow_core::host::Run },
    /// The ASL interpreter's state (stored as `state`).
    Asl { state: Execution },
}

impl ExecutionRecord {
    /// AWS keeps closed executions redrivable for 14 days.
    const REDRIVE_WINDOW_MS: i64 = 14 * 24 * 3600 * 1000;

    /// Whether `rec` can be redriven, and if not, why (AWS's wording).
    pub fn redrivable(&self, now: i64) -> Result<(), String> {
        if self.express {
            return Err(EXPRESS_NOT_REDRIVABLE.into());
        }
        if !self.status.is_redrivable() {
            return Err(format!("Execution is {} and cannot be redriven", self.status));
        }
        if self.asl().is_none_or(|s| s.redrive_point.is_none()) {
            return Err("Execution has no state to restart and cannot be redriven".into());
        }
        if let Some(run) = self.asl().and_then(|s| s.map_run_redrives_exhausted()) {
            let max = state_language::limits::MAP_RUN_REDRIVES_MAX;
            return Err(format!("Map Run {run} was redriven {max} times and cannot be redriven again"));
        }
        // AWS: a redrive appends to the history, so a full one cannot be redriven.
        let room = state_language::limits::HISTORY_EVENTS_PER_STATE_ROOM;
        if self.last_event_id() + room >= state_language::limits::HISTORY_EVENTS_MAX {
            let max = state_language::limits::HISTORY_EVENTS_MAX;
            return Err(format!(
                "Execution reached the maximum number of history events ({max}) and cannot be redriven"
            ));
        }
        if self.stop_ms.is_some_and(|s| now - s > Self::REDRIVE_WINDOW_MS) {
            return Err("Execution closed more than 14 days ago and cannot be redriven".into());
        }
        Ok(())
    }

    /// Open tasks and their tokens, of either kind of execution.
    pub fn open_tasks(&self) -> std::collections::BTreeMap<u64, String> {
        match &self.program {
            Program::Code { code } => code.open_tasks().map(|(id, t)| (id, t.to_string())).collect(),
            Program::Asl { state } => state.pending_tasks().map(|(id, t)| (id, t.token.clone())).collect(),
        }
    }

    pub fn has_timer(&self, id: u64) -> bool {
        match &self.program {
            Program::Code { code } => code.timers.contains_key(&id),
            Program::Asl { state } => state.timers.contains_key(&id),
        }
    }

    pub fn last_event_id(&self) -> u64 {
        match &self.program {
            Program::Code { code } => code.events,
            Program::Asl { state } => state.last_event_id,
        }
    }

    /// The ASL interpreter's state; `None` for a code workflow.
    pub fn asl(&self) -> Option<&Execution> {
        match &self.program {
            Program::Asl { state } => Some(state),
            Program::Code { .. } => None,
        }
    }

    pub fn asl_mut(&mut self) -> Option<&mut Execution> {
        match &mut self.program {
            Program::Asl { state } => Some(state),
            Program::Code { .. } => None,
        }
    }

    /// A code workflow's run; `None` for ASL.
    pub fn code(&self) -> Option<&stepwise_workflow_core::host::Run> {
        match &self.program {
            Program::Code { code } => Some(code),
            Program::Asl { .. } => None,
        }
    }

    pub fn code_mut(&mut self) -> Option<&mut stepwise_workflow_core::host::Run> {
        match &mut self.program {
            Program::Code { code } => Some(code),
            Program::Asl { .. } => None,
        }
    }
}

/// An item of a state machine's execution list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    pub arn: String,
    pub name: String,
    pub machine_arn: String,
    #[serde(default)]
    pub version_arn: Option<String>,
    #[serde(default)]
    pub alias_arn: Option<String>,
    pub status: ExecutionStatus,
    pub start_ms: i64,
    #[serde(default)]
    pub stop_ms: Option<i64>,
    #[serde(default)]
    pub redrive_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
}

impl ExecutionRecord {
    /// The Map Run this execution is a child of, if it is one.
    pub fn map_run_arn(&self) -> Option<&str> {
        self.parent.as_ref().and_then(|p| p.map_run_arn.as_deref())
    }

    /// What lists this execution: its Map Run's children, or its state machine's executions.
    pub fn listed_under(&self) -> &str {
        self.map_run_arn().unwrap_or(&self.machine_arn)
    }

    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            arn: self.arn.clone(),
            name: self.name.clone(),
            machine_arn: self.machine_arn.clone(),
            version_arn: self.version_arn.clone(),
            alias_arn: self.alias_arn.clone(),
            status: self.status,
            start_ms: self.start_ms,
            stop_ms: self.stop_ms,
            redrive_count: self.redrive_count,
            map_run_arn: self.map_run_arn().map(str::to_string),
            item_count: self.parent.as_ref().and_then(|p| p.item_count),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRecord {
    pub arn: String,
    pub name: String,
    pub creation_ms: i64,
}

/// Routes a callback to its task; created when the task is scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    pub token: String,
    pub execution_arn: String,
    pub task_id: u64,
    pub resource: String,
    /// The task's input; dropped once the task closes.
    #[serde(default)]
    pub input: Value,
    /// A worker took it (GetActivityTask); it is handed out once.
    pub started: bool,
    /// A result was accepted, or the task ended otherwise.
    pub closed: bool,
    #[serde(default)]
    pub closed_ms: Option<i64>,
    /// When the task was scheduled and handed out (for its timing metrics).
    #[serde(default)]
    pub scheduled_ms: Option<i64>,
    #[serde(default)]
    pub started_ms: Option<i64>,
    /// The W3C `traceparent` the task carries to its worker or function, so
    /// it can continue the execution's trace.
    #[serde(default)]
    pub traceparent: Option<String>,
}

/// Something for the scheduler to apply to an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum InboxEntry {
    Started {
        worker_name: Option<String>,
        /// When the task was handed out (code workflows time attempts from it).
        #[serde(default)]
        at_ms: Option<i64>,
    },
    Heartbeat,
    Succeeded {
        output: Value,
    },
    Failed {
        error: String,
        cause: String,
    },
    /// A Map Run child's failure that no redrive can change (AWS's
    /// NOT_REDRIVABLE): the parent's task fails, and its Map Run counts it.
    ChildNotRedrivable {
        error: String,
        cause: String,
    },
    /// A code workflow's signal, cancellation request or accepted update.
    Signal {
        name: String,
        payload: Value,
    },
    CancelRequest,
    /// A Map Run aborts its child: from the parent's task `task_id`, so that a
    /// child started again later (a redrive) ignores an abort of its earlier run.
    Abort {
        task_id: u64,
    },
    Update {
        id: String,
        name: String,
        payload: Value,
    },
}

/// A scheduler queue message: a wake-up, or a timer delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wake {
    pub execution_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<TimerRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimerRef {
    pub id: u64,
    pub fire_ms: i64,
}

/// A tasks-queue or activity-queue message: it names a token record, which
/// holds the work, so messages stay small whatever the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMessage {
    pub token_hash: String,
}

#[cfg(test)]
mod tests {
    use super::keys;

    #[test]
    fn keys_parse_back_to_what_built_them() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:m#x:e";
        let (_, sk) = keys::timer(1_767_225_600_000, arn, 42);
        assert_eq!(keys::parse_timer(&sk), Some((1_767_225_600_000, arn, 42)));
        let (_, sk) = keys::inbox(arn, 7, "3r");
        assert_eq!(keys::parse_inbox(&sk), Some(7));
        assert_eq!(keys::parse_timer("not-a-timer"), None);
        assert_eq!(keys::parse_inbox("H#0000000001"), None);
    }
}

#[cfg(test)]
mod record_format {
    use super::*;

    fn record(program: Program) -> ExecutionRecord {
        ExecutionRecord {
            arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
            name: "e".into(),
            machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            machine_name: "m".into(),
            version_arn: None,
            alias_arn: None,
            definition_hash: "h".into(),
            express: false,
            status: ExecutionStatus::Running,
            start_ms: 1,
            stop_ms: None,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            timers: Default::default(),
            parent: None,
            redrive_count: 0,
            redrive_ms: None,
            trace_header: None,
            program,
        }
    }

    #[test]
    fn a_record_stores_its_program_under_state_or_code_and_reads_older_ones() {
        let asl = record(Program::Asl { state: Execution::new() });
        let v = serde_json::to_value(&asl).expect("encodes");
        assert!(v.get("state").is_some() && v.get("code").is_none(), "{v}");
        assert_eq!(serde_json::from_value::<ExecutionRecord>(v).expect("decodes"), asl);

        let run = stepwise_workflow_core::host::Run::new("w", "q", "arn:", 7, "key");
        let code = record(Program::Code { code: run });
        let mut v = serde_json::to_value(&code).expect("encodes");
        assert!(v.get("state").is_none() && v.get("code").is_some(), "{v}");
        // Records written before `Program` carry an empty `state` beside `code`.
        v["state"] = serde_json::to_value(Execution::new()).expect("encodes");
        assert_eq!(serde_json::from_value::<ExecutionRecord>(v.clone()).expect("decodes"), code);
        // Neither is corrupt, and says so.
        v.as_object_mut().expect("an object").retain(|k, _| k != "state" && k != "code");
        let e = serde_json::from_value::<ExecutionRecord>(v).expect_err("refused");
        assert!(e.to_string().contains("neither a state nor a code run"), "{e}");
    }
}

/// The index item of a Map Run: the execution whose distributed Map started it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunOwner {
    pub execution_arn: String,
}

/// Why an EXPRESS execution (or a Map Run's EXPRESS child) cannot be redriven.
pub const EXPRESS_NOT_REDRIVABLE: &str = "Execution is of type EXPRESS and cannot be redriven";

/// The pointer item from an EXPRESS child's name to its Map Run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressRun {
    pub map_run_arn: String,
}

/// An EXPRESS Map Run child's list entry: what ListExecutions lists, and
/// what else DescribeExecution tells of it. It is the child's only record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressChildEntry {
    #[serde(flatten)]
    pub summary: ExecutionSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}
