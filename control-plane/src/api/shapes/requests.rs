//! Request shapes: one struct per operation, with AWS's member names.
//! Required members are plain types (absent or null is a ValidationException
//! from `parse`); optional ones are `Option`. JSON-valued configuration that
//! Stepwise stores as given stays a `Value`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Paged;
use crate::api::tags::Tag;
use crate::model::Route;

macro_rules! shape {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Default, Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub(crate) struct $name {
            $(pub $field: $ty,)*
        }
    };
}

macro_rules! paged {
    ($($name:ident),*) => {
        $(impl Paged for $name {
            fn next_token(&self) -> Option<&str> {
                self.next_token.as_deref()
            }
        })*
    };
}

shape!(CreateStateMachine {
    name: String,
    definition: String,
    role_arn: String,
    r#type: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    tags: Option<Vec<Tag>>,
    publish: Option<bool>,
    version_description: Option<String>,
});
shape!(StateMachineArn { state_machine_arn: String });
shape!(UpdateStateMachine {
    state_machine_arn: String,
    definition: Option<String>,
    role_arn: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    publish: Option<bool>,
    version_description: Option<String>,
});
shape!(Page { max_results: Option<u64>, next_token: Option<String> });
shape!(ValidateStateMachineDefinition {
    definition: String,
    r#type: Option<String>,
    max_results: Option<u64>,
});
shape!(PublishStateMachineVersion {
    state_machine_arn: String,
    revision_id: Option<String>,
    description: Option<String>,
});
shape!(MachinePage { state_machine_arn: String, max_results: Option<u64>, next_token: Option<String> });
shape!(StateMachineVersionArn { state_machine_version_arn: String });
shape!(CreateStateMachineAlias {
    name: String,
    description: Option<String>,
    routing_configuration: Vec<Route>,
});
shape!(StateMachineAliasArn { state_machine_alias_arn: String });
shape!(UpdateStateMachineAlias {
    state_machine_alias_arn: String,
    description: Option<String>,
    routing_configuration: Option<Vec<Route>>,
});
shape!(StartExecution {
    state_machine_arn: String,
    name: Option<String>,
    input: Option<String>,
    trace_header: Option<String>,
});
shape!(StopExecution { execution_arn: String, error: Option<String>, cause: Option<String> });
shape!(RedriveExecution { execution_arn: String, client_token: Option<String> });
shape!(ExecutionArn { execution_arn: String });
// Stepwise's AwaitExecution: DescribeExecution that waits for the close.
shape!(AwaitExecution { execution_arn: String, wait_seconds: Option<u64> });
shape!(ListExecutions {
    state_machine_arn: Option<String>,
    map_run_arn: Option<String>,
    status_filter: Option<String>,
    redrive_filter: Option<String>,
    max_results: Option<u64>,
    next_token: Option<String>,
});
shape!(GetExecutionHistory {
    execution_arn: String,
    max_results: Option<u64>,
    reverse_order: Option<bool>,
    include_execution_data: Option<bool>,
    next_token: Option<String>,
});
shape!(CreateActivity { name: String, tags: Option<Vec<Tag>> });
shape!(ActivityArn { activity_arn: String });
shape!(GetActivityTask { activity_arn: String, worker_name: Option<String> });
shape!(SendTaskSuccess { task_token: String, output: String });
shape!(SendTaskFailure { task_token: String, error: Option<String>, cause: Option<String> });
shape!(TaskToken { task_token: String });
shape!(TagResource { resource_arn: String, tags: Vec<Tag> });
shape!(UntagResource { resource_arn: String, tag_keys: Vec<String> });
shape!(ResourceArn { resource_arn: String });
shape!(TestState {
    definition: String,
    role_arn: Option<String>,
    input: Option<String>,
    inspection_level: Option<String>,
    variables: Option<String>,
    state_name: Option<String>,
    context: Option<String>,
    mock: Option<TestMock>,
    state_configuration: Option<TestStateConfiguration>,
});
shape!(TestMock { result: Option<String>, error_output: Option<TestErrorOutput> });
shape!(TestErrorOutput { error: Option<String>, cause: Option<String> });
shape!(TestStateConfiguration {
    retrier_retry_count: Option<u64>,
    map_iteration_failure_count: Option<u64>,
    map_item_reader_data: Option<String>,
});

// Stepwise's operations for code workflows.
shape!(PollTasks { task_queue: String, worker_name: Option<String> });
shape!(RespondWorkflowTaskCompleted {
    task_token: String,
    commands: Option<Value>,
    time_ms: Option<i64>,
    worker_name: Option<String>,
    eager_activities: Option<u64>,
});
shape!(RespondQueryTaskCompleted {
    query_id: String,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
});
shape!(TakeTask { worker_name: Option<String>, message: String });
shape!(ShutdownWorker { worker_name: String });
shape!(SignalExecution {
    execution_arn: String,
    signal_name: String,
    input: Option<String>,
    request_id: Option<String>,
});
shape!(QueryExecution { execution_arn: String, query_name: String, input: Option<String> });
shape!(UpdateExecution { execution_arn: String, update_name: String, input: Option<String> });

shape!(MapRunArn { map_run_arn: String });
shape!(ListMapRuns { execution_arn: String, max_results: Option<u64>, next_token: Option<String> });
shape!(UpdateMapRun {
    map_run_arn: String,
    max_concurrency: Option<i64>,
    tolerated_failure_percentage: Option<f64>,
    tolerated_failure_count: Option<i64>,
});

paged!(Page, MachinePage, ListExecutions, GetExecutionHistory, ListMapRuns);
