//! Response shapes, with AWS's member names. Optional members are left out
//! when absent, as AWS leaves them out. History events and the configuration
//! Stepwise stores as given stay `Value`s.

use serde::Serialize;
use serde_json::{Map, Value};

use super::Ts;
use crate::api::tags::Tag;
use crate::model::{ExecutionStatus, Route};
use stepwise_workflow_core::history::Event;

/// Declares a response struct: camelCase members; `#[skip]` before a member
/// leaves it out when it is `None`.
macro_rules! out {
    ($name:ident { $($(#[$skip:ident])? $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub(crate) struct $name {
            // `cfg_attr(any(), …)` never applies: it only carries the marker.
            $($(#[cfg_attr(any(), $skip)] #[serde(skip_serializing_if = "Option::is_none")])? pub $field: $ty,)*
        }
    };
}

/// An answer with no members.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Empty {}

out!(Created { state_machine_arn: String, creation_date: Ts, #[skip] state_machine_version_arn: Option<String> });
out!(DescribeStateMachine {
    state_machine_arn: String,
    name: String,
    status: &'static str,
    definition: String,
    role_arn: String,
    r#type: String,
    creation_date: Ts,
    logging_configuration: Value,
    tracing_configuration: Value,
    revision_id: String,
    #[skip] description: Option<String>,
});
out!(UpdateStateMachine { update_date: Ts, revision_id: String, #[skip] state_machine_version_arn: Option<String> });
out!(StateMachineItem { state_machine_arn: Value, name: Value, r#type: Value, creation_date: Ts });
out!(ListStateMachines { state_machines: Vec<StateMachineItem>, #[skip] next_token: Option<String> });
out!(StateMachineForExecution {
    state_machine_arn: String,
    name: String,
    definition: String,
    role_arn: String,
    update_date: Ts,
    logging_configuration: Value,
    tracing_configuration: Value,
    #[skip] state_machine_version_arn: Option<String>,
    #[skip] state_machine_alias_arn: Option<String>,
    #[skip] map_run_arn: Option<String>,
    #[skip] label: Option<String>,
});
out!(Diagnostic { severity: state_language::validate::Severity, code: &'static str, message: String, location: String });
out!(Validated { result: &'static str, diagnostics: Vec<Diagnostic>, truncated: bool });
out!(Published { creation_date: Ts, state_machine_version_arn: String });
out!(VersionItem { state_machine_version_arn: String, creation_date: Ts });
out!(ListVersions { state_machine_versions: Vec<VersionItem>, #[skip] next_token: Option<String> });
out!(AliasCreated { state_machine_alias_arn: String, creation_date: Ts });
out!(DescribeAlias {
    state_machine_alias_arn: String,
    name: String,
    routing_configuration: Vec<Route>,
    creation_date: Ts,
    update_date: Ts,
    #[skip] description: Option<String>,
});
out!(Updated { update_date: Ts });
out!(ListAliases { state_machine_aliases: Vec<AliasCreated> });

out!(Started { execution_arn: String, start_date: Ts });
out!(Stopped { stop_date: Ts });
out!(Redriven { redrive_date: Ts });
out!(ExecutionItem {
    execution_arn: String,
    state_machine_arn: String,
    name: String,
    status: ExecutionStatus,
    start_date: Ts,
    #[skip] stop_date: Option<Ts>,
    #[skip] state_machine_version_arn: Option<String>,
    #[skip] state_machine_alias_arn: Option<String>,
    #[skip] map_run_arn: Option<String>,
    #[skip] item_count: Option<u64>,
});
out!(ListExecutions { executions: Vec<ExecutionItem>, #[skip] next_token: Option<String> });
out!(Included { included: bool });
out!(BillingDetails { billed_memory_used_in_m_b: u64, billed_duration_in_milliseconds: u64 });
/// DescribeExecution, and StartSyncExecution (which has no redrive or
/// version members, and has `billingDetails`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeExecution {
    #[serde(flatten)]
    pub item: ExecutionItem,
    /// `None` for an EXPRESS Map Run child, whose input Stepwise does not keep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    pub input_details: Included,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_details: Option<Included>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_status_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Ts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    /// Stepwise's addition (SDKs ignore members they do not know): the
    /// execution that started this one, so the console links a child to its parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_execution_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_details: Option<BillingDetails>,
}
out!(History { events: Vec<Value>, #[skip] next_token: Option<String> });

out!(ActivityCreated { activity_arn: String, creation_date: Ts });
out!(Worker { worker_name: String, last_poll_date: Ts });
out!(DescribeActivity {
    activity_arn: String,
    name: String,
    creation_date: Ts,
    pending_task_count: u64,
    recent_workers: Vec<Worker>,
});
out!(ActivityItem { activity_arn: String, name: String, creation_date: Ts });
out!(ListActivities { activities: Vec<ActivityItem>, #[skip] next_token: Option<String> });
out!(ActivityTask { #[skip] task_token: Option<String>, #[skip] input: Option<String>, #[skip] traceparent: Option<String> });
out!(Tags { tags: Vec<Tag> });
out!(Tested {
    status: &'static str,
    #[skip] output: Option<String>,
    #[skip] error: Option<String>,
    #[skip] cause: Option<String>,
    #[skip] next_state: Option<String>,
    #[skip] inspection_data: Option<Map<String, Value>>,
});

/// A code-workflow task as a worker gets it, tagged by `kind`; nothing
/// (`{}`) when the poll timed out. `traceparent` is null when unknown.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE", rename_all_fields = "camelCase")]
pub(crate) enum CodeTask {
    Workflow {
        task_token: String,
        execution_arn: String,
        workflow_type: Value,
        history: Vec<Event>,
        /// The index in the run's history of `history`'s first event: 0, or
        /// more for a sticky task, which brings only the events since.
        history_from: u64,
        traceparent: Option<String>,
    },
    Activity {
        task_token: String,
        execution_arn: String,
        activity_type: Value,
        input: Value,
        attempt: Value,
        traceparent: Option<String>,
    },
    Query {
        query_id: String,
        query_type: String,
        query_name: String,
        query_input: Value,
        execution_arn: String,
        workflow_type: String,
        history: Vec<Event>,
    },
}
out!(Queried { output: Value });
out!(UpdateAnswered { update_id: String, output: Value });
out!(PendingActivity {
    seq: u64,
    activity_type: String,
    attempt: u32,
    started: bool,
    last_failure: Option<stepwise_workflow_core::history::ActivityError>,
});
out!(PendingTimer { timer_id: u64, seq: u64, fire_date: Ts });
out!(TaskFailure { error: String, cause: String });
out!(DescribeWorkflowExecution {
    execution_arn: String,
    status: ExecutionStatus,
    workflow_type: String,
    task_queue: String,
    history_length: u64,
    continued_as_new: u32,
    pending_activities: usize,
    pending_timers: usize,
    start_date: Ts,
    pending_activity_details: Vec<PendingActivity>,
    pending_timer_details: Vec<PendingTimer>,
    #[skip] last_workflow_task_failure: Option<TaskFailure>,
});

out!(DescribeMapRun {
    map_run_arn: String,
    execution_arn: String,
    status: &'static str,
    start_date: Ts,
    #[skip] stop_date: Option<Ts>,
    max_concurrency: u64,
    tolerated_failure_percentage: f64,
    tolerated_failure_count: u64,
    item_counts: state_language::interpreter::map_run::Counts,
    execution_counts: state_language::interpreter::map_run::Counts,
    redrive_count: u64,
    #[skip] redrive_date: Option<Ts>,
});
out!(MapRunItem {
    execution_arn: String,
    map_run_arn: String,
    state_machine_arn: String,
    start_date: Ts,
    #[skip] stop_date: Option<Ts>,
});
out!(ListMapRuns { map_runs: Vec<MapRunItem>, #[skip] next_token: Option<String> });
