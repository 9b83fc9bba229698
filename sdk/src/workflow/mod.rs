//! Durable workflows as plain async Rust (Temporal's model): the code runs
//! in workflow tasks, every step it takes is an event in the history, and
//! a worker rebuilds the code's state by replaying that history.
//!
//! ```
//! use std::time::Duration;
//! use stepwise_sdk::workflow::{TestEnv, WorkflowContext, WorkflowError};
//!
//! async fn remind(ctx: WorkflowContext, who: String) -> Result<String, WorkflowError> {
//!     ctx.sleep(Duration::from_secs(30 * 86_400)).await; // a month, durably
//!     let sent: String = ctx.activity("email", &who).await?;
//!     Ok(sent)
//! }
//!
//! let mut env = TestEnv::new();
//! env.register_workflow("remind", remind);
//! env.register_activity("email", |who: String| async move { Ok(format!("sent to {who}")) });
//! env.start("r1", "remind", &"ada").unwrap();
//! env.run("r1").unwrap();
//! assert_eq!(env.result("r1"), Some(Ok(serde_json::json!("sent to ada"))));
//! ```

mod activity;
mod context;
/// The history's events and commands: the server's side, shared (`stepwise-workflow-core`).
pub use stepwise_workflow_core::history;
/// The server's side of a run, pure (`stepwise-workflow-core`); kept here for SDK users' tests.
pub use stepwise_workflow_core::host;
mod local;
mod pending;
mod replay;
mod saga;
mod scope;
mod testenv;
mod typed;
mod waits;
#[cfg(feature = "worker")]
mod worker;

pub use activity::{ActivityContext, ActivityFn, activity_fn, activity_fn_with_context};
pub use context::{Sleep, Update, WorkflowContext};
pub use history::{ActivityError, ActivityOptions, Command, Event, RetryPolicy};
pub use local::{
    LOCAL_ACTIVITY_MARKER, LOCAL_ATTEMPTS_MAX, LOCAL_ROUNDS_MAX, LocalRequest, check_commands,
    workflow_task_with_locals,
};
pub use replay::{
    ACTIVATION_POLLS_MAX, Replayed, TaskOutcome, workflow_query, workflow_task, workflow_task_kept,
    workflow_task_local, workflow_validate,
};
pub use saga::Saga;
pub use scope::{CANCELLED, CancellationScope};
pub use testenv::TestEnv;
pub use typed::{ActivityType, QueryType, UpdateType, WorkflowState};
#[cfg(feature = "worker")]
pub use worker::{StickyStats, Worker};

use std::future::Future;
use std::rc::Rc;

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The error name `WorkflowContext::continue_as_new` gives; not a failure.
pub const CONTINUE_AS_NEW: &str = "Stepwise.ContinueAsNew";

/// How a workflow failed: an error name and a cause, as ASL names them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct WorkflowError {
    pub error: String,
    pub cause: String,
}

impl WorkflowError {
    pub fn new(error: &str, cause: impl Into<String>) -> Self {
        WorkflowError { error: error.to_string(), cause: cause.into() }
    }
}

impl From<ActivityError> for WorkflowError {
    fn from(e: ActivityError) -> Self {
        WorkflowError { error: e.error_type, cause: e.message }
    }
}

/// A workflow's code with its input and output as JSON.
pub type WorkflowFn = Rc<dyn Fn(WorkflowContext, Value) -> LocalBoxFuture<'static, Result<Value, WorkflowError>>>;

/// Wraps a typed `async fn(WorkflowContext, I) -> Result<O, WorkflowError>`.
pub fn workflow_fn<I, O, F, Fut>(f: F) -> WorkflowFn
where
    I: DeserializeOwned + 'static,
    O: Serialize + 'static,
    F: Fn(WorkflowContext, I) -> Fut + 'static,
    Fut: Future<Output = Result<O, WorkflowError>> + 'static,
{
    let f = Rc::new(f);
    Rc::new(move |ctx, input| {
        let f = f.clone();
        async move {
            let input: I =
                serde_json::from_value(input).map_err(|e| WorkflowError::new("Stepwise.DecodeError", e.to_string()))?;
            let out = f(ctx, input).await?;
            serde_json::to_value(out).map_err(|e| WorkflowError::new("Stepwise.EncodeError", e.to_string()))
        }
        .boxed_local()
    })
}

/// Replays a saved history against the current code, as a deploy check:
/// `Err(Error::NonDeterminism)` when the code changed incompatibly.
pub fn replay<I, O, F, Fut>(f: F, history: &[Event]) -> Result<(), crate::Error>
where
    I: DeserializeOwned + 'static,
    O: Serialize + 'static,
    F: Fn(WorkflowContext, I) -> Fut + 'static,
    Fut: Future<Output = Result<O, WorkflowError>> + 'static,
{
    let at = history.iter().rev().find_map(|e| match e {
        Event::WorkflowTaskStarted { time_ms } => Some(*time_ms),
        _ => None,
    });
    // The run's next task may ask for local activities: replay is only about the past.
    workflow_task_local(&workflow_fn(f), history, at.unwrap_or_default(), &Default::default()).map(|_| ())
}
