//! Compensations recorded as a workflow goes, run in reverse when it fails.

use std::future::Future;

use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::WorkflowError;

/// Steps that undo what succeeded; `compensate` runs them newest first.
///
/// ```ignore
/// let mut saga = Saga::new();
/// let charge: String = ctx.activity("charge", &order).await?;
/// saga.add({ let ctx = ctx.clone(); async move { ctx.activity::<_, ()>("refund", &charge).await.map_err(Into::into) } });
/// if let Err(e) = ctx.activity::<_, ()>("ship", &order).await {
///     saga.compensate().await;
///     return Err(e.into());
/// }
/// ```
#[derive(Default)]
pub struct Saga {
    steps: Vec<LocalBoxFuture<'static, Result<(), WorkflowError>>>,
}

impl Saga {
    pub fn new() -> Saga {
        Saga::default()
    }

    /// Records how to undo the step that just succeeded. Nothing runs until `compensate`.
    pub fn add(&mut self, undo: impl Future<Output = Result<(), WorkflowError>> + 'static) {
        self.steps.push(undo.boxed_local());
    }

    /// Runs every compensation, newest first; gives the errors of those that failed.
    pub async fn compensate(self) -> Vec<WorkflowError> {
        let mut errors = Vec::new();
        for step in self.steps.into_iter().rev() {
            if let Err(e) = step.await {
                errors.push(e);
            }
        }
        errors
    }
}
