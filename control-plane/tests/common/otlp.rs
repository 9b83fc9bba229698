//! The OTLP receiver the trace tests share with the serverless tests.

// Not every test binary that includes `common` uses it.
#[allow(unused_imports)]
pub use stepwise_tests::otlp::{env, named, receiver};
