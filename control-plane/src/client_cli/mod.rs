//! `stepwise machines|executions|activities|schedules …`: a client of any Stepwise API
//! (or AWS Step Functions itself) from a shell, in the manner of the
//! `temporal` CLI. Every command is one or a few API calls through
//! `stepwise-wire`, signed with the usual AWS credentials.

mod commands;
mod connect;
mod render;
mod schedules;

pub use commands::{Activities, Executions, Group, Machines, Outcome, run};
pub use connect::Connection;
pub use schedules::Schedules;

/// How a client command ended.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The API refused: its error type and message, and what to try.
    #[error("{kind}: {message}{hint}")]
    Api { kind: String, message: String, hint: String },
    #[error(
        "cannot reach {endpoint}: {why} (is `stepwise server` running there? --endpoint or STEPWISE_ENDPOINT names another)"
    )]
    Unreachable { endpoint: String, why: String },
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    fn from_wire(e: stepwise_wire::Error, endpoint: &str) -> CliError {
        match e {
            stepwise_wire::Error::Service { kind, message } => {
                let hint = hint_line(&kind);
                CliError::Api { kind, message, hint }
            }
            stepwise_wire::Error::Transport(why) => CliError::Unreachable { endpoint: endpoint.to_string(), why },
        }
    }
}

/// The hint line printed under an error of this type, if there is one.
fn hint_line(kind: &str) -> String {
    hint(kind).map(|h| format!("\n  hint: {h}")).unwrap_or_default()
}

/// What a user can do about an API error.
fn hint(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "StateMachineDoesNotExist" => "`stepwise machines list` shows the machines there are",
        "ResourceNotFoundException" => {
            "`stepwise schedules list` shows the schedules there are (--group for another group)"
        }
        "ExecutionDoesNotExist" => "`stepwise executions list --machine NAME` shows a machine's executions",
        "ActivityDoesNotExist" => "`stepwise activities list` shows the activities there are",
        "StateMachineAlreadyExists" => "`stepwise machines update NAME --definition FILE` changes it",
        "ExecutionAlreadyExists" => "give another --name, or leave --name out",
        "InvalidDefinition" => "`stepwise validate FILE` lists every problem with its place",
        "MissingAuthenticationTokenException" | "UnrecognizedClientException" | "InvalidSignatureException" => {
            "the server checks signatures: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a key of its STEPWISE_CREDENTIALS"
        }
        "TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken" => "the task is closed or the token is wrong: poll again",
        "ExecutionNotRedrivable" => "only FAILED, TIMED_OUT and ABORTED Standard executions can be redriven",
        _ => return None,
    })
}
