//! Stepwise hosts. Side effects (files, clock, randomness, sleeping) live
//! here and in `executors`, never in `state-language`.

pub mod local;

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
}
