//! The crate's one error type: misuse by the host, never a workflow failure
//! (those are `States.*` errors inside the execution).

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("the execution has already started")]
    AlreadyStarted,
    #[error("the execution has not started")]
    NotStarted,
    #[error("the execution is not running (status {0:?})")]
    NotRunning(crate::interpreter::Status),
    #[error("the execution cannot be redriven (status {0:?}, or nothing to restart)")]
    NotRedrivable(crate::interpreter::Status),
    #[error("Map Run {0} is not running in this execution")]
    MapRunNotRunning(String),
    #[error("no pending task with id {0}")]
    UnknownTask(u64),
    #[error("execution state format version {found} is not supported (expected {expected})")]
    Version { found: u32, expected: u32 },
    #[error("execution state is inconsistent: {0}")]
    Corrupt(String),
}
