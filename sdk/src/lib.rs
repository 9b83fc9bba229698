//! Stepwise workflows written in Rust.
//!
//! [`asl`] is a typed builder of Amazon States Language definitions: the
//! same definitions AWS Step Functions and `stepwise server` run, written
//! as code and checked by Stepwise's validator when they are built.
//!
//! [`workflow`] is durable execution in Temporal's style: a workflow is an
//! `async fn`, its steps are events in a history, and a replay of that
//! history rebuilds its state exactly.

pub mod asl;
#[cfg(feature = "worker")]
pub mod client;
pub mod workflow;

use state_language::Diagnostic;

/// Why a workflow could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two states of one machine (or branch, or Map processor) share a name.
    #[error("the state {0:?} is defined twice")]
    DuplicateState(String),
    /// The validator refused the definition; every problem is listed.
    #[error("the definition is invalid: {}", summary(.0))]
    Invalid(Vec<Diagnostic>),
    /// Replay found the code giving another command than the history
    /// recorded: the event (by id, from 1) and the command that disagree.
    #[error("non-determinism at event {event_id}: the history has {event}, the code gave {command}")]
    NonDeterminism { event_id: u64, event: String, command: String },
    /// The code gave a command no host carries out (an activity without a timeout).
    #[error("{0}")]
    InvalidCommand(String),
    /// A history that cannot be replayed (not one a host wrote).
    #[error("a malformed history: {0}")]
    History(String),
    /// The code was woken more than this many times without waiting.
    #[error("the workflow code kept waking itself ({0} polls) without waiting on anything")]
    Spinning(usize),
    /// A workflow or activity type no worker registered, or a run that does not exist.
    #[error("unknown {0}")]
    Unknown(String),
    /// The workflow's validator refused an update; nothing was recorded.
    #[error("the update was rejected: {0}")]
    UpdateRejected(String),
    /// An accepted update the workflow has not answered (yet).
    #[error("the update {0:?} has no answer: the workflow did not respond to it")]
    UpdatePending(String),
    /// The API answered with an error of its own type (`__type`).
    #[error("{kind}: {message}")]
    Service { kind: String, message: String },
    /// The API could not be reached, or its answer was not understood.
    #[error("transport: {0}")]
    Transport(String),
    /// A run took more steps than the test environment allows.
    #[error("the run took more than {0} steps")]
    TooManySteps(usize),
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> =
        diagnostics.iter().map(|d| format!("{} at '{}': {}", d.code, d.location, d.message)).collect();
    lines.join("; ")
}
