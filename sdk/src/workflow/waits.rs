//! The futures a workflow's code awaits. Each reads its answer from the
//! replay state, or registers the task's waker and waits for it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use serde_json::Value;

use super::WorkflowError;
use super::context::Inner;
use super::history::{ActivityError, Command};

/// An activity's outcome; dropping it before it comes cancels the activity.
pub(super) struct ActivityFuture {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) seq: u64,
    pub(super) done: bool,
}

impl Future for ActivityFuture {
    type Output = Result<Value, ActivityError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let seq = self.seq;
        let taken = {
            let mut i = self.inner.borrow_mut();
            let slot = i.activities.entry(seq).or_default();
            let v = slot.value.take();
            if v.is_none() {
                slot.waker = Some(cx.waker().clone());
            }
            v
        };
        match taken {
            Some(v) => {
                self.done = true;
                Poll::Ready(v)
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for ActivityFuture {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Dropped unanswered (a cancelled scope, a lost race): stop the activity.
        // An outcome already in the history means there is nothing to stop.
        if let Ok(mut i) = self.inner.try_borrow_mut()
            && i.activities.get(&self.seq).is_some_and(|s| s.value.is_none())
        {
            i.commands.push(Command::CancelActivity { seq: self.seq });
        }
    }
}

/// A durable timer; dropping it before it fires cancels it.
pub struct Sleep {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) seq: u64,
    pub(super) fired: bool,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let seq = self.seq;
        let ready = {
            let mut i = self.inner.borrow_mut();
            let slot = i.timers.entry(seq).or_default();
            if slot.value.is_some() {
                true
            } else {
                slot.waker = Some(cx.waker().clone());
                false
            }
        };
        if ready {
            self.fired = true;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.fired {
            return;
        }
        if let Ok(mut i) = self.inner.try_borrow_mut()
            && i.timers.get(&self.seq).is_some_and(|s| s.value.is_none())
        {
            i.commands.push(Command::CancelTimer { seq: self.seq });
        }
    }
}

pub(super) struct ChildFuture {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) seq: u64,
}

impl Future for ChildFuture {
    type Output = Result<Value, WorkflowError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut i = self.inner.borrow_mut();
        let slot = i.children.entry(self.seq).or_default();
        match slot.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

pub(super) struct UpdateFuture {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) name: String,
}

impl Future for UpdateFuture {
    type Output = (String, Value);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut i = self.inner.borrow_mut();
        if let Some(u) = i.updates.get_mut(&self.name).and_then(VecDeque::pop_front) {
            return Poll::Ready(u);
        }
        // Updates wake the same waiters as signals: both come from outside.
        if !i.signal_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            i.signal_waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

pub(super) struct CancelFuture {
    pub(super) inner: Rc<RefCell<Inner>>,
}

impl Future for CancelFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut i = self.inner.borrow_mut();
        if i.cancel_requested {
            return Poll::Ready(());
        }
        if !i.cancel_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            i.cancel_waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

pub(super) struct SignalFuture {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) name: String,
}

impl Future for SignalFuture {
    type Output = Value;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Value> {
        let mut i = self.inner.borrow_mut();
        if let Some(v) = i.signals.get_mut(&self.name).and_then(VecDeque::pop_front) {
            return Poll::Ready(v);
        }
        if !i.signal_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            i.signal_waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A local activity's outcome: from the history, or from the worker.
pub(super) struct LocalFuture {
    pub(super) inner: Rc<RefCell<Inner>>,
    pub(super) seq: u64,
}

impl Future for LocalFuture {
    type Output = Result<Value, ActivityError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut i = self.inner.borrow_mut();
        let slot = i.locals.entry(self.seq).or_default();
        match slot.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
