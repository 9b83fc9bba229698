//! Activities as the worker (or the test environment) calls them: JSON in,
//! JSON out, with a context that tells the attempt and carries heartbeats.

use std::future::Future;
use std::rc::Rc;

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::history::ActivityError;

/// An activity: a context and JSON in, JSON out.
pub type ActivityFn = Rc<dyn Fn(ActivityContext, Value) -> LocalBoxFuture<'static, Result<Value, ActivityError>>>;

/// Sends one heartbeat; gives whether the attempt is still wanted.
type Beat = Rc<dyn Fn() -> LocalBoxFuture<'static, bool>>;

/// What an activity attempt knows of itself.
#[derive(Clone)]
pub struct ActivityContext {
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// The execution's W3C trace context, when the server has one: an
    /// activity that traces its own work makes its spans children of it.
    pub traceparent: Option<String>,
    beat: Option<Beat>,
}

impl ActivityContext {
    /// A context with nowhere to send heartbeats (the test environment, local activities).
    pub fn detached(attempt: u32) -> ActivityContext {
        ActivityContext { attempt, traceparent: None, beat: None }
    }

    #[cfg_attr(not(feature = "worker"), allow(dead_code))]
    pub(crate) fn with_heartbeat(attempt: u32, traceparent: Option<String>, beat: Beat) -> ActivityContext {
        ActivityContext { attempt, traceparent, beat: Some(beat) }
    }

    /// Tells the server the attempt is alive (its heartbeat deadline moves).
    /// False once the attempt is no longer wanted (it timed out, or the run
    /// closed): the activity should stop, since its result will be refused.
    pub async fn heartbeat(&self) -> bool {
        match &self.beat {
            Some(b) => b().await,
            None => true,
        }
    }
}

/// Wraps a typed `async fn(I) -> Result<O, ActivityError>`.
pub fn activity_fn<I, O, F, Fut>(f: F) -> ActivityFn
where
    I: DeserializeOwned + 'static,
    O: Serialize + 'static,
    F: Fn(I) -> Fut + 'static,
    Fut: Future<Output = Result<O, ActivityError>> + 'static,
{
    let f = Rc::new(f);
    activity_fn_with_context(move |_ctx: ActivityContext, input: I| f(input))
}

/// Wraps a typed `async fn(ActivityContext, I) -> Result<O, ActivityError>`.
pub fn activity_fn_with_context<I, O, F, Fut>(f: F) -> ActivityFn
where
    I: DeserializeOwned + 'static,
    O: Serialize + 'static,
    F: Fn(ActivityContext, I) -> Fut + 'static,
    Fut: Future<Output = Result<O, ActivityError>> + 'static,
{
    let f = Rc::new(f);
    Rc::new(move |ctx, input| {
        let f = f.clone();
        async move {
            let input: I = serde_json::from_value(input)
                .map_err(|e| ActivityError::non_retryable("Stepwise.DecodeError", e.to_string()))?;
            let out = f(ctx, input).await?;
            serde_json::to_value(out).map_err(|e| ActivityError::non_retryable("Stepwise.EncodeError", e.to_string()))
        }
        .boxed_local()
    })
}
