//! Eager activities (Temporal's name): with its answer to a workflow task,
//! the worker asks for the activity tasks that answer schedules on its own
//! task queue, and the API hands them over at once, started, instead of
//! queueing them for a poll. They cost no message, no poll and no hand-out.
//! The worker asks only for slots it has free, so a task it gets is run at
//! once; one it loses (a crash) is run again after its start-to-close timeout,
//! as a polled task would be.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use serde_json::Value;

use super::ACTIVITIES_CONCURRENT_MAX;

/// Activity tasks one answer asks for at most (the API's bound).
pub const EAGER_ACTIVITIES_MAX: usize = 16;

#[derive(Default)]
pub(super) struct EagerTasks {
    /// Whether the worker's activity loop runs and takes more: only then
    /// does an answer ask for tasks.
    pub open: Cell<bool>,
    queued: RefCell<VecDeque<Value>>,
    /// Activities running now (the activity loop keeps it).
    pub running: Cell<usize>,
    /// Slots promised to answers in flight.
    reserved: Cell<usize>,
    /// Answers in flight that asked for tasks.
    asking: Cell<usize>,
    /// Tells the activity loop that tasks came, or an answer ended.
    pub ready: tokio::sync::Notify,
    /// Tasks taken this way so far.
    pub taken: Cell<u64>,
}

/// An answer's claim on free slots, given back when it ends.
pub(super) struct Asking<'a> {
    tasks: &'a EagerTasks,
    pub slots: usize,
}

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        let t = self.tasks;
        t.reserved.set(t.reserved.get() - self.slots);
        t.asking.set(t.asking.get() - 1);
        t.ready.notify_one();
    }
}

impl EagerTasks {
    /// Claims the free slots for one answer (none while the loop is closed).
    pub fn ask(&self) -> Asking<'_> {
        let busy = self.running.get() + self.queued.borrow().len() + self.reserved.get();
        let slots =
            if self.open.get() { ACTIVITIES_CONCURRENT_MAX.saturating_sub(busy).min(EAGER_ACTIVITIES_MAX) } else { 0 };
        self.reserved.set(self.reserved.get() + slots);
        self.asking.set(self.asking.get() + 1);
        Asking { tasks: self, slots }
    }

    /// Queues the tasks an answer brought, at most its claim: more (an API
    /// that does not keep to it) are left to their timeouts.
    pub fn push(&self, asking: &Asking<'_>, tasks: &[Value]) {
        let tasks = &tasks[..tasks.len().min(asking.slots)];
        self.taken.set(self.taken.get() + tasks.len() as u64);
        self.queued.borrow_mut().extend(tasks.iter().cloned());
    }

    pub fn pop(&self) -> Option<Value> {
        self.queued.borrow_mut().pop_front()
    }

    /// Nothing queued and no answer that may still bring tasks.
    pub fn idle(&self) -> bool {
        self.queued.borrow().is_empty() && self.asking.get() == 0
    }
}
