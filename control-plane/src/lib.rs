//! Stepwise hosts. Side effects (files, clock, randomness, sleeping, the
//! network) live here and in `executors`, never in `state-language`.

pub mod api;
pub mod arn;
pub mod auth;
pub mod aws_error;
pub mod banner;
pub mod bench;
pub mod cli;
pub mod client_cli;
pub mod clock;
pub mod engine;
pub mod handlers;
pub mod listener;
pub mod local;
pub mod model;
pub mod schedules;
pub mod server;
pub mod sim;
pub mod store;
pub mod telemetry;

pub use aws_error::AwsError;

/// The crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid JSON in {what}: {source}")]
    Json { what: String, source: serde_json::Error },
    #[error("the definition is invalid:\n{0}")]
    Invalid(String),
    #[error("the input is {size} bytes; the limit is {max} bytes (States.DataLimitExceeded)")]
    InputTooLarge { size: usize, max: usize },
    #[error(transparent)]
    Driver(#[from] state_language::driver::DriverError),
    #[error(transparent)]
    Engine(#[from] state_language::Error),
    /// An error the API reports to its caller, with AWS's error type.
    #[error("{kind}: {message}")]
    Api { kind: AwsError, message: String },
    #[error("the store failed: {0}")]
    Store(String),
    /// A conditional write lost a race or found the item in another state.
    #[error("a write condition failed on {0}")]
    ConditionFailed(String),
    #[error("over a storage limit: {0}")]
    Limit(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Settings that cannot work, found at start-up.
    #[error("bad configuration: {0}")]
    Config(String),
    /// An I/O failure; its own message says what failed (transparent, so it is not said twice).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn api(kind: AwsError, message: impl Into<String>) -> Error {
        Error::Api { kind, message: message.into() }
    }
    pub fn validation(message: impl Into<String>) -> Error {
        Error::api(AwsError::ValidationException, message)
    }
}
