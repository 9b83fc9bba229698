//! Typed activity stubs: an activity's name and its input and output types
//! in one place, so a workflow that calls it with the wrong input, expects
//! the wrong output, or names an activity that does not exist fails to
//! compile instead of failing at run time. The string-named forms stay for
//! dynamic use.
//!
//! ```ignore
//! stepwise_sdk::activity!(Charge, "charge", String => u64);
//! let cents = ctx.call::<Charge>(&order_id).await?;       // in the workflow
//! worker.register::<Charge, _, _>(|id| async move { Ok(42) }); // in the worker
//! ```

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::history::{ActivityError, ActivityOptions};
use super::{TestEnv, WorkflowContext};

/// An activity's name and types. Declare one with [`activity!`](crate::activity).
pub trait ActivityType {
    const NAME: &'static str;
    type Input: Serialize + DeserializeOwned + 'static;
    type Output: Serialize + DeserializeOwned + 'static;
}

/// Declares a typed activity stub: `activity!(Name, "wire-name", Input => Output);`.
#[macro_export]
macro_rules! activity {
    ($(#[$meta:meta])* $vis:vis $stub:ident, $name:literal, $input:ty => $output:ty) => {
        $(#[$meta])*
        $vis struct $stub;
        impl $crate::workflow::ActivityType for $stub {
            const NAME: &'static str = $name;
            type Input = $input;
            type Output = $output;
        }
    };
}

impl WorkflowContext {
    /// Runs the typed activity `A` with the default options.
    pub fn call<A: ActivityType>(
        &self,
        input: &A::Input,
    ) -> impl Future<Output = Result<A::Output, ActivityError>> + use<A> {
        self.activity_with::<A::Input, A::Output>(A::NAME, input, ActivityOptions::default())
    }

    /// Runs the typed activity `A` with `options`.
    pub fn call_with<A: ActivityType>(
        &self,
        input: &A::Input,
        options: ActivityOptions,
    ) -> impl Future<Output = Result<A::Output, ActivityError>> + use<A> {
        self.activity_with::<A::Input, A::Output>(A::NAME, input, options)
    }
}

#[cfg(feature = "worker")]
impl super::Worker {
    /// Serves the typed activity `A` with `f`.
    pub fn register<A, F, Fut>(&mut self, f: F)
    where
        A: ActivityType,
        F: Fn(A::Input) -> Fut + 'static,
        Fut: Future<Output = Result<A::Output, ActivityError>> + 'static,
    {
        self.register_activity(A::NAME, f);
    }

    /// Serves the typed activity `A` with `f`, which takes its [`ActivityContext`](super::ActivityContext).
    pub fn register_with_context<A, F, Fut>(&mut self, f: F)
    where
        A: ActivityType,
        F: Fn(super::ActivityContext, A::Input) -> Fut + 'static,
        Fut: Future<Output = Result<A::Output, ActivityError>> + 'static,
    {
        self.register_activity_with_context(A::NAME, f);
    }
}

impl TestEnv {
    /// Serves the typed activity `A` with `f` in the test environment.
    pub fn register<A, F, Fut>(&mut self, f: F)
    where
        A: ActivityType,
        F: Fn(A::Input) -> Fut + 'static,
        Fut: Future<Output = Result<A::Output, ActivityError>> + 'static,
    {
        self.register_activity(A::NAME, f);
    }
}
