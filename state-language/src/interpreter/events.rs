//! History events in AWS's `GetExecutionHistory` shape.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One history event. Serializes as AWS does: `{"id", "previousEventId",
/// "timestamp", "type", "<kind>EventDetails": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch, as given by the host.
    pub timestamp: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Absent for events without details (ParallelStateStarted, …).
    #[serde(flatten, default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// AWS's event type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
    ExecutionRedriven,
    PassStateEntered,
    PassStateExited,
    TaskStateEntered,
    TaskStateExited,
    TaskScheduled,
    TaskStarted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    ChoiceStateEntered,
    ChoiceStateExited,
    WaitStateEntered,
    WaitStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    ParallelStateEntered,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateExited,
    ParallelStateAborted,
    MapStateEntered,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapStateExited,
    MapStateAborted,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    MapIterationAborted,
    MapRunStarted,
    MapRunSucceeded,
    MapRunFailed,
    MapRunAborted,
    MapRunRedriven,
    EvaluationFailed,
}

/// The detail object of an event, under AWS's key for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Details {
    #[serde(rename = "executionStartedEventDetails")]
    ExecutionStarted {
        input: Value,
        #[serde(rename = "inputDetails", default)]
        input_details: Truncation,
        #[serde(rename = "roleArn")]
        role_arn: String,
    },
    #[serde(rename = "executionSucceededEventDetails")]
    ExecutionSucceeded {
        output: Value,
        #[serde(rename = "outputDetails", default)]
        output_details: Truncation,
    },
    #[serde(rename = "executionFailedEventDetails")]
    ExecutionFailed(ErrorDetails),
    #[serde(rename = "executionTimedOutEventDetails")]
    ExecutionTimedOut(ErrorDetails),
    #[serde(rename = "executionAbortedEventDetails")]
    ExecutionAborted(ErrorDetails),
    #[serde(rename = "executionRedrivenEventDetails")]
    ExecutionRedriven {
        #[serde(rename = "redriveCount")]
        redrive_count: u64,
    },
    #[serde(rename = "stateEnteredEventDetails")]
    StateEntered {
        name: String,
        input: Value,
        #[serde(rename = "inputDetails", default)]
        input_details: Truncation,
    },
    #[serde(rename = "stateExitedEventDetails")]
    StateExited(StateExited),
    #[serde(rename = "taskScheduledEventDetails")]
    TaskScheduled(TaskScheduled),
    #[serde(rename = "taskStartedEventDetails")]
    TaskStarted(TaskRef),
    #[serde(rename = "taskSucceededEventDetails")]
    TaskSucceeded {
        #[serde(flatten)]
        task: TaskRef,
        output: Value,
        #[serde(rename = "outputDetails", default)]
        output_details: Truncation,
    },
    #[serde(rename = "taskFailedEventDetails")]
    TaskFailed {
        #[serde(flatten)]
        task: TaskRef,
        #[serde(flatten)]
        error: ErrorDetails,
    },
    #[serde(rename = "taskTimedOutEventDetails")]
    TaskTimedOut {
        #[serde(flatten)]
        task: TaskRef,
        #[serde(flatten)]
        error: ErrorDetails,
    },
    #[serde(rename = "mapStateStartedEventDetails")]
    MapStateStarted { length: u64 },
    #[serde(rename = "mapIterationStartedEventDetails")]
    MapIterationStarted(Iteration),
    #[serde(rename = "mapIterationSucceededEventDetails")]
    MapIterationSucceeded(Iteration),
    #[serde(rename = "mapIterationFailedEventDetails")]
    MapIterationFailed(Iteration),
    #[serde(rename = "mapIterationAbortedEventDetails")]
    MapIterationAborted(Iteration),
    #[serde(rename = "mapRunStartedEventDetails")]
    MapRunStarted {
        #[serde(rename = "mapRunArn")]
        map_run_arn: String,
    },
    #[serde(rename = "mapRunFailedEventDetails")]
    MapRunFailed(ErrorDetails),
    #[serde(rename = "mapRunRedrivenEventDetails")]
    MapRunRedriven {
        #[serde(rename = "mapRunArn")]
        map_run_arn: String,
        #[serde(rename = "redriveCount")]
        redrive_count: u64,
    },
    /// A JSONata expression failed (`States.QueryEvaluationError`).
    #[serde(rename = "evaluationFailedEventDetails")]
    EvaluationFailed {
        error: String,
        cause: String,
        /// The field, such as `Output/result`; absent when no expression was at fault.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        location: Option<String>,
        state: String,
    },
    /// Events such as ParallelStateStarted carry no details.
    #[serde(rename = "noDetails")]
    None {},
}

impl Default for Details {
    fn default() -> Self {
        Details::None {}
    }
}

impl Details {
    pub fn is_empty(&self) -> bool {
        matches!(self, Details::None {})
    }
}

/// AWS's `{"truncated": false}` beside every payload. Stepwise never truncates:
/// payloads over the limit fail with `States.DataLimitExceeded` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Truncation {
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateExited {
    pub name: String,
    pub output: Value,
    #[serde(default)]
    pub output_details: Truncation,
    /// Variables the state assigned, each value as JSON text (AWS's shape).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub assigned_variables: Option<serde_json::Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub assigned_variables_details: Option<Truncation>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorDetails {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRef {
    pub resource: String,
    pub resource_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskScheduled {
    pub resource: String,
    pub resource_type: String,
    pub region: String,
    pub parameters: Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timeout_in_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub heartbeat_in_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    pub name: String,
    pub index: u64,
}

impl TaskRef {
    /// AWS splits `arn:aws:states:::lambda:invoke` into type `lambda` and resource `invoke`.
    pub fn from_arn(arn: &str) -> TaskRef {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "states", _, _, service, rest @ ..] => {
                TaskRef { resource_type: (*service).to_string(), resource: rest.join(":") }
            }
            ["arn", _, service, ..] => TaskRef { resource_type: (*service).to_string(), resource: arn.to_string() },
            _ => TaskRef { resource_type: "unknown".into(), resource: arn.to_string() },
        }
    }
}
