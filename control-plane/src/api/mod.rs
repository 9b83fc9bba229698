//! The AWS Step Functions API (AWS JSON 1.0), independent of transport:
//! `call(engine, operation, request)` gives the response or an AWS-typed
//! error. The HTTP server and the Lambda `api` shim both route here.

mod activities;
mod console;
pub(crate) mod executions;
mod express_children;
mod history;
pub mod http;
mod machines;
mod map_runs;
mod pagination;
mod probes;
mod schedule_ops;
pub mod scheduler;
mod scope;
pub(crate) mod shapes;
pub(crate) mod tags;
mod testing;
mod versions;
mod workflows;

/// Stepwise's schedule operations (Temporal's policies), beside the Scheduler API.
pub use schedule_ops::OPERATIONS as SCHEDULE_OPERATIONS;
/// Stepwise's own operations (code workflows), beside AWS's.
pub use workflows::OPERATIONS as STEPWISE_OPERATIONS;

use crate::AwsError;
use serde_json::Value;

use crate::Error;
use crate::engine::Engine;
use shapes::{parse, reply};

/// Every operation of the Step Functions API, with whether Stepwise serves it.
pub const OPERATIONS: [(&str, bool); 37] = [
    ("CreateActivity", true),
    ("CreateStateMachine", true),
    ("CreateStateMachineAlias", true),
    ("DeleteActivity", true),
    ("DeleteStateMachine", true),
    ("DeleteStateMachineAlias", true),
    ("DeleteStateMachineVersion", true),
    ("DescribeActivity", true),
    ("DescribeExecution", true),
    ("DescribeMapRun", true),
    ("DescribeStateMachine", true),
    ("DescribeStateMachineAlias", true),
    ("DescribeStateMachineForExecution", true),
    ("GetActivityTask", true),
    ("GetExecutionHistory", true),
    ("ListActivities", true),
    ("ListExecutions", true),
    ("ListMapRuns", true),
    ("ListStateMachineAliases", true),
    ("ListStateMachineVersions", true),
    ("ListStateMachines", true),
    ("ListTagsForResource", true),
    ("PublishStateMachineVersion", true),
    ("RedriveExecution", true),
    ("SendTaskFailure", true),
    ("SendTaskHeartbeat", true),
    ("SendTaskSuccess", true),
    ("StartExecution", true),
    ("StartSyncExecution", true),
    ("StopExecution", true),
    ("TagResource", true),
    ("TestState", true),
    ("UntagResource", true),
    ("UpdateMapRun", true),
    ("UpdateStateMachine", true),
    ("UpdateStateMachineAlias", true),
    ("ValidateStateMachineDefinition", true),
];

pub async fn call(engine: &Engine, operation: &str, request: Value) -> Result<Value, Error> {
    let Value::Object(fields) = &request else {
        return Err(Error::api(AwsError::SerializationException, "The request body must be a JSON object"));
    };
    scope::check(&engine.scope, operation, fields)?;
    // Each arm parses the body into the operation's request shape and
    // serializes the handler's response shape.
    macro_rules! op {
        ($handler:expr) => {
            Ok(reply($handler(engine, parse(request)?).await?))
        };
    }
    match operation {
        "CreateStateMachine" => op!(machines::create),
        "DescribeStateMachine" => op!(machines::describe),
        "UpdateStateMachine" => op!(machines::update),
        "DeleteStateMachine" => op!(machines::delete),
        "ListStateMachines" => op!(machines::list),
        "DescribeStateMachineForExecution" => op!(machines::for_execution),
        "ValidateStateMachineDefinition" => Ok(reply(machines::validate(parse(request)?)?)),
        "PublishStateMachineVersion" => op!(versions::publish),
        "ListStateMachineVersions" => op!(versions::list),
        "DeleteStateMachineVersion" => op!(versions::delete),
        "CreateStateMachineAlias" => op!(versions::create_alias),
        "DescribeStateMachineAlias" => op!(versions::describe_alias),
        "UpdateStateMachineAlias" => op!(versions::update_alias),
        "DeleteStateMachineAlias" => op!(versions::delete_alias),
        "ListStateMachineAliases" => op!(versions::list_aliases),
        "StartExecution" => op!(executions::start),
        "StartSyncExecution" => op!(executions::start_sync),
        "StopExecution" => op!(executions::stop),
        "RedriveExecution" => op!(executions::redrive),
        "DescribeExecution" => op!(executions::describe),
        "ListExecutions" => op!(executions::list),
        "GetExecutionHistory" => op!(history::get),
        "CreateActivity" => op!(activities::create),
        "DescribeActivity" => op!(activities::describe),
        "DeleteActivity" => op!(activities::delete),
        "ListActivities" => op!(activities::list),
        "GetActivityTask" => op!(activities::get_task),
        "SendTaskSuccess" => op!(activities::send_success),
        "SendTaskFailure" => op!(activities::send_failure),
        "SendTaskHeartbeat" => op!(activities::send_heartbeat),
        "TagResource" => op!(tags::tag),
        "UntagResource" => op!(tags::untag),
        "ListTagsForResource" => op!(tags::list),
        "TestState" => op!(testing::test),
        "DescribeMapRun" => op!(map_runs::describe),
        "ListMapRuns" => op!(map_runs::list),
        "UpdateMapRun" => op!(map_runs::update),
        op if workflows::OPERATIONS.contains(&op) => workflows::call(engine, op, request).await,
        op if schedule_ops::OPERATIONS.contains(&op) => schedule_ops::call(engine, op, request).await,
        _ => Err(Error::api(AwsError::UnknownOperationException, format!("Unknown operation: {operation}"))),
    }
}

pub(crate) use pagination::{decode_token, encode_token};
