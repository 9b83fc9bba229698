//! Cancellation scopes: work a workflow can call off as a whole. What runs
//! inside a scope is dropped when the scope is cancelled, and a dropped
//! timer or activity is cancelled in the history (`TimerCancelled`,
//! `ActivityCancelRequested`). Scopes nest: cancelling one cancels its
//! children. The workflow's root scope is cancelled by a cancellation
//! request (RequestCancelExecution), so work under it stops by itself.
//!
//! ```ignore
//! let scope = ctx.root_scope().child();
//! let upload = scope.run(ctx.activity::<_, ()>("upload", &file));
//! let deadline = ctx.sleep(Duration::from_secs(3600));
//! match futures::future::select(Box::pin(upload), deadline).await {
//!     Either::Left((done, _)) => done??,
//!     Either::Right(_) => scope.cancel(), // the upload's activity is cancelled
//! }
//! ```

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use super::WorkflowError;

/// The error a scope's work ends with when the scope is cancelled, and a
/// run's when a cancellation request ends it (the execution closes ABORTED).
pub const CANCELLED: &str = stepwise_workflow_core::host::WORKFLOW_CANCELLED_ERROR;
/// The cause an awaited activity or child gives when a cancellation request stops it.
pub const CANCELLED_BY_REQUEST: &str = "the workflow was cancelled by request";
/// Live child scopes one scope tracks; dead ones are pruned as it grows.
const CHILDREN_MAX: usize = 4_096;

#[derive(Default)]
struct State {
    cancelled: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
    children: RefCell<Vec<Weak<State>>>,
}

impl State {
    fn cancel(&self) {
        if self.cancelled.replace(true) {
            return;
        }
        for w in self.waiters.take() {
            w.wake();
        }
        for child in self.children.take() {
            if let Some(c) = child.upgrade() {
                c.cancel();
            }
        }
    }
}

/// A scope of cancellable work; cheap to clone (clones are the same scope).
#[derive(Clone, Default)]
pub struct CancellationScope {
    state: Rc<State>,
}

impl CancellationScope {
    /// A scope of its own, cancelled only by [`cancel`](Self::cancel).
    pub fn new() -> CancellationScope {
        CancellationScope::default()
    }

    /// A scope inside this one: cancelled with it, or on its own.
    pub fn child(&self) -> CancellationScope {
        let child = CancellationScope::new();
        if self.is_cancelled() {
            child.state.cancelled.set(true);
            return child;
        }
        let mut children = self.state.children.borrow_mut();
        if children.len() >= CHILDREN_MAX {
            children.retain(|c| c.strong_count() > 0);
        }
        if children.len() < CHILDREN_MAX {
            children.push(Rc::downgrade(&child.state));
        }
        child
    }

    /// Cancels this scope and every scope inside it.
    pub fn cancel(&self) {
        self.state.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.state.cancelled.get()
    }

    /// Resolves once the scope is cancelled.
    pub fn cancelled(&self) -> impl Future<Output = ()> + use<> {
        Cancelled { state: self.state.clone() }
    }

    /// Runs `work` until it ends, or until the scope is cancelled: then
    /// `work` is dropped (its timers and activities cancelled) and this
    /// gives a [`CANCELLED`] error.
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Result<T, WorkflowError> {
        if self.is_cancelled() {
            return Err(cancelled_error());
        }
        let work = std::pin::pin!(work);
        match futures::future::select(work, self.cancelled()).await {
            futures::future::Either::Left((v, _)) => Ok(v),
            futures::future::Either::Right(((), _)) => Err(cancelled_error()),
        }
    }
}

fn cancelled_error() -> WorkflowError {
    WorkflowError::new(CANCELLED, "the scope was cancelled")
}

struct Cancelled {
    state: Rc<State>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.cancelled.get() {
            return Poll::Ready(());
        }
        let mut waiters = self.state.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Awaits `work`, or, once `root` is cancelled, drops it (cancelling what it
/// started) and gives the error `cancelled` makes. `None`: not watched.
pub(super) async fn until_cancelled<T, E>(
    root: Option<CancellationScope>,
    work: impl Future<Output = Result<T, E>>,
    cancelled: impl FnOnce() -> E,
) -> Result<T, E> {
    let Some(root) = root else { return work.await };
    let work = std::pin::pin!(work);
    match futures::future::select(work, root.cancelled()).await {
        futures::future::Either::Left((v, _)) => v,
        futures::future::Either::Right(((), _)) => Err(cancelled()),
    }
}

/// Work run with [`WorkflowContext::detached`](super::WorkflowContext::detached):
/// what it starts while polled ignores cancellation, and while it runs, a
/// cancelled run waits for it.
pub(super) struct Detached<'a, T> {
    inner: Rc<std::cell::RefCell<super::context::Inner>>,
    work: futures::future::LocalBoxFuture<'a, T>,
    live: bool,
}

impl<'a, T> Detached<'a, T> {
    pub(super) fn new(
        inner: Rc<std::cell::RefCell<super::context::Inner>>,
        work: impl Future<Output = T> + 'a,
    ) -> Self {
        Detached { inner, work: Box::pin(work), live: false }
    }
}

impl<T> Future for Detached<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        {
            let mut i = self.inner.borrow_mut();
            i.detached_polling += 1;
            if !self.live {
                i.detached_live += 1;
            }
        }
        self.live = true;
        let out = self.work.as_mut().poll(cx);
        let mut i = self.inner.borrow_mut();
        i.detached_polling -= 1;
        if out.is_ready() {
            i.detached_live -= 1;
            drop(i);
            self.live = false;
        }
        out
    }
}

impl<T> Drop for Detached<'_, T> {
    fn drop(&mut self) {
        if self.live
            && let Ok(mut i) = self.inner.try_borrow_mut()
        {
            i.detached_live -= 1;
        }
    }
}
