//! Stepwise's pure Amazon States Language engine.
//!
//! Invariant: this crate does no I/O and never reads the clock, randomness or
//! the environment. Hosts pass time and a random seed in, so replaying the
//! same inputs gives the same history, byte for byte.

pub mod aws_shapes;
pub mod definition;
pub mod driver;
pub mod entropy;
mod error;
pub mod interpreter;
pub mod intrinsics;
pub mod json;
pub mod jsonata_functions;
pub mod limits;
pub mod path;
pub mod time;
pub mod validate;

pub use error::Error;
pub use interpreter::{Command, Execution, HistoryEvent, Input, StartContext, Status, Step, step};
pub use validate::{Diagnostic, Options, Report, Severity, validate, validate_text};
