//! The AWS Step Functions API (AWS JSON 1.0), independent of transport:
//! `call(engine, operation, request)` gives the response or an AWS-typed
//! error. The HTTP server and the Lambda `api` shim both route here.

mod activities;
mod console;
pub(crate) mod executions;
mod history;
pub mod http;
mod machines;
mod pagination;
mod probes;
mod scope;
mod tags;
mod testing;
mod versions;
mod workflows;

/// Stepwise's own operations (code workflows), beside AWS's.
pub use workflows::OPERATIONS as STEPWISE_OPERATIONS;

use crate::AwsError;
use serde_json::{Map, Value};

use crate::Error;
use crate::engine::Engine;

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
    ("DescribeMapRun", false),
    ("DescribeStateMachine", true),
    ("DescribeStateMachineAlias", true),
    ("DescribeStateMachineForExecution", true),
    ("GetActivityTask", true),
    ("GetExecutionHistory", true),
    ("ListActivities", true),
    ("ListExecutions", true),
    ("ListMapRuns", false),
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
    ("UpdateMapRun", false),
    ("UpdateStateMachine", true),
    ("UpdateStateMachineAlias", true),
    ("ValidateStateMachineDefinition", true),
];

pub async fn call(engine: &Engine, operation: &str, request: Value) -> Result<Value, Error> {
    let r = Req(match &request {
        Value::Object(m) => m,
        _ => return Err(Error::api(AwsError::SerializationException, "The request body must be a JSON object")),
    });
    scope::check(&engine.scope, operation, r.0)?;
    match operation {
        "CreateStateMachine" => machines::create(engine, r).await,
        "DescribeStateMachine" => machines::describe(engine, r).await,
        "UpdateStateMachine" => machines::update(engine, r).await,
        "DeleteStateMachine" => machines::delete(engine, r).await,
        "ListStateMachines" => machines::list(engine, r).await,
        "DescribeStateMachineForExecution" => machines::for_execution(engine, r).await,
        "ValidateStateMachineDefinition" => machines::validate(r),
        "PublishStateMachineVersion" => versions::publish(engine, r).await,
        "ListStateMachineVersions" => versions::list(engine, r).await,
        "DeleteStateMachineVersion" => versions::delete(engine, r).await,
        "CreateStateMachineAlias" => versions::create_alias(engine, r).await,
        "DescribeStateMachineAlias" => versions::describe_alias(engine, r).await,
        "UpdateStateMachineAlias" => versions::update_alias(engine, r).await,
        "DeleteStateMachineAlias" => versions::delete_alias(engine, r).await,
        "ListStateMachineAliases" => versions::list_aliases(engine, r).await,
        "StartExecution" => executions::start(engine, r, false).await,
        "StartSyncExecution" => executions::start(engine, r, true).await,
        "StopExecution" => executions::stop(engine, r).await,
        "RedriveExecution" => executions::redrive(engine, r).await,
        "DescribeExecution" => executions::describe(engine, r).await,
        "ListExecutions" => executions::list(engine, r).await,
        "GetExecutionHistory" => history::get(engine, r).await,
        "CreateActivity" => activities::create(engine, r).await,
        "DescribeActivity" => activities::describe(engine, r).await,
        "DeleteActivity" => activities::delete(engine, r).await,
        "ListActivities" => activities::list(engine, r).await,
        "GetActivityTask" => activities::get_task(engine, r).await,
        "SendTaskSuccess" => activities::send_success(engine, r).await,
        "SendTaskFailure" => activities::send_failure(engine, r).await,
        "SendTaskHeartbeat" => activities::send_heartbeat(engine, r).await,
        "TagResource" => tags::tag(engine, r).await,
        "UntagResource" => tags::untag(engine, r).await,
        "ListTagsForResource" => tags::list(engine, r).await,
        "TestState" => testing::test(engine, r).await,
        "DescribeMapRun" | "ListMapRuns" | "UpdateMapRun" => Err(Error::api(
            AwsError::UnsupportedOperation,
            format!("Stepwise does not support {operation} yet (see the README's operation table)"),
        )),
        op if workflows::OPERATIONS.contains(&op) => workflows::call(engine, op, r).await,
        _ => Err(Error::api(AwsError::UnknownOperationException, format!("Unknown operation: {operation}"))),
    }
}

/// A request object with AWS-style field validation.
#[derive(Clone, Copy)]
pub(crate) struct Req<'a>(&'a Map<String, Value>);

fn constraint(field: &str, what: &str) -> Error {
    Error::validation(format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: {what}"))
}

impl<'a> Req<'a> {
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }
    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::api(AwsError::SerializationException, format!("'{field}' must be a string"))),
        }
    }
    pub fn str(&self, field: &str) -> Result<&'a str, Error> {
        self.opt_str(field)?.ok_or_else(|| {
            Error::validation(format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }
    /// A string of at most `max` characters.
    pub fn bounded(&self, field: &str, max: usize) -> Result<Option<&'a str>, Error> {
        let s = self.opt_str(field)?;
        if s.is_some_and(|s| s.chars().count() > max) {
            return Err(constraint(field, &format!("Member must have length less than or equal to {max}")));
        }
        Ok(s)
    }
    pub fn opt_u64(&self, field: &str) -> Result<Option<u64>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Error::api(AwsError::SerializationException, format!("'{field}' must be a non-negative integer"))
            }),
        }
    }
    pub fn bool(&self, field: &str) -> Result<Option<bool>, Error> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::api(AwsError::SerializationException, format!("'{field}' must be a boolean"))),
        }
    }
    /// `maxResults`: 0 or absent means the default; AWS's range is 0–1000.
    pub fn max_results(&self, default: usize) -> Result<usize, Error> {
        match self.opt_u64("maxResults")? {
            None | Some(0) => Ok(default),
            Some(n) if n <= 1000 => Ok(n as usize),
            Some(_) => Err(constraint("maxResults", "Member must have value less than or equal to 1000")),
        }
    }
}

/// Seconds since the epoch, as AWS JSON 1.0 renders timestamps.
pub fn ts(ms: i64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}

pub(crate) use pagination::{decode_token, encode_token};
