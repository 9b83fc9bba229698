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
    ($($t:tt)*) => { $crate::__typed_call!($crate::workflow::ActivityType; $($t)*); };
}

/// What [`activity!`](crate::activity) and [`update!`](crate::update) expand to:
/// a unit struct with a name, an input type and an output type.
#[doc(hidden)]
#[macro_export]
macro_rules! __typed_call {
    ($tr:path; $(#[$meta:meta])* $vis:vis $stub:ident, $name:literal, $input:ty => $output:ty) => {
        $(#[$meta])*
        $vis struct $stub;
        impl $tr for $stub {
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

/// A query's name and answer type. Declare one with [`query!`](crate::query).
pub trait QueryType {
    const NAME: &'static str;
    type Output: Serialize + DeserializeOwned + 'static;
}

/// An update's name, payload and answer types. Declare one with [`update!`](crate::update).
pub trait UpdateType {
    const NAME: &'static str;
    type Input: Serialize + DeserializeOwned + 'static;
    type Output: Serialize + DeserializeOwned + 'static;
}

/// Declares a typed query: `query!(Name, "wire-name" => Output);`.
#[macro_export]
macro_rules! query {
    ($(#[$meta:meta])* $vis:vis $stub:ident, $name:literal => $output:ty) => {
        $(#[$meta])*
        $vis struct $stub;
        impl $crate::workflow::QueryType for $stub {
            const NAME: &'static str = $name;
            type Output = $output;
        }
    };
}

/// Declares a typed update: `update!(Name, "wire-name", Input => Output);`.
#[macro_export]
macro_rules! update {
    ($($t:tt)*) => { $crate::__typed_call!($crate::workflow::UpdateType; $($t)*); };
}

/// Workflow state that query and update handlers read: the workflow owns it
/// and changes it, handlers see it, and no `Rc<RefCell<_>>` shows in the
/// workflow's code. Clones are the same state.
pub struct WorkflowState<T> {
    cell: std::rc::Rc<std::cell::RefCell<T>>,
}

impl<T> Clone for WorkflowState<T> {
    fn clone(&self) -> Self {
        WorkflowState { cell: self.cell.clone() }
    }
}

impl<T> WorkflowState<T> {
    pub fn new(value: T) -> WorkflowState<T> {
        WorkflowState { cell: std::rc::Rc::new(std::cell::RefCell::new(value)) }
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.cell.borrow())
    }

    /// Changes the state.
    pub fn write<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.cell.borrow_mut())
    }

    pub fn set(&self, value: T) {
        *self.cell.borrow_mut() = value;
    }

    pub fn get(&self) -> T
    where
        T: Clone,
    {
        self.cell.borrow().clone()
    }
}

impl WorkflowContext {
    /// State the workflow owns and its handlers read ([`WorkflowState`]).
    pub fn state<T: 'static>(&self, value: T) -> WorkflowState<T> {
        WorkflowState::new(value)
    }

    /// Answers the typed query `Q` from `state`.
    pub fn answer<Q: QueryType, T: 'static>(&self, state: &WorkflowState<T>, f: impl Fn(&T) -> Q::Output + 'static) {
        let state = state.clone();
        self.on_query(Q::NAME, move || serde_json::to_value(state.read(&f)).unwrap_or(serde_json::Value::Null));
    }

    /// Checks updates `U` against `state` before they are accepted; a
    /// payload that does not decode is refused too.
    pub fn validate<U: UpdateType, T: 'static>(
        &self,
        state: &WorkflowState<T>,
        f: impl Fn(&T, &U::Input) -> Result<(), String> + 'static,
    ) {
        let state = state.clone();
        self.on_update(U::NAME, move |v| {
            let input: U::Input = serde_json::from_value(v.clone()).map_err(|e| format!("the payload: {e}"))?;
            state.read(|s| f(s, &input))
        });
    }

    /// The next accepted update `U`, decoded.
    pub async fn next_update<U: UpdateType>(&self) -> Result<super::Update<U::Input>, super::WorkflowError> {
        self.update::<U::Input>(U::NAME).await
    }

    /// Answers an update `U`.
    pub fn reply<U: UpdateType>(&self, update: &super::Update<U::Input>, result: &U::Output) {
        self.respond(update, result);
    }
}
