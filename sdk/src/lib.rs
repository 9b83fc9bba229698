//! Stepwise workflows written in Rust.
//!
//! [`asl`] is a typed builder of Amazon States Language definitions: the
//! same definitions AWS Step Functions and `stepwise server` run, written
//! as code and checked by Stepwise's validator when they are built.

pub mod asl;

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
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> =
        diagnostics.iter().map(|d| format!("{} at '{}': {}", d.code, d.location, d.message)).collect();
    lines.join("; ")
}
