//! A deterministic executor: it holds each actor's one operation in flight
//! and polls the one the seed picks. Every store and queue call is an await
//! point ([`yield_now`](super::world::yield_now)), so the seed decides every
//! interleaving; dropping an operation between polls is a crash at that
//! await, its effects so far kept and the rest never done.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

type Op = Pin<Box<dyn Future<Output = ()>>>;

/// Polls one operation may take before the run is declared stuck (an
/// operation of the engine loops at most a bounded number of times).
const POLLS_PER_OP_MAX: u32 = 100_000;

struct Slot {
    op: Op,
    polls: u32,
}

pub struct Executor {
    slots: Vec<Option<Slot>>,
}

impl Executor {
    pub fn new(actors: usize) -> Executor {
        Executor { slots: (0..actors).map(|_| None).collect() }
    }

    pub fn busy(&self, actor: usize) -> bool {
        self.slots[actor].is_some()
    }

    /// Actors with an operation in flight.
    pub fn in_flight(&self) -> Vec<usize> {
        (0..self.slots.len()).filter(|a| self.busy(*a)).collect()
    }

    pub fn spawn(&mut self, actor: usize, op: impl Future<Output = ()> + 'static) {
        assert!(!self.busy(actor), "actor {actor} already has an operation in flight");
        self.slots[actor] = Some(Slot { op: Box::pin(op), polls: 0 });
    }

    /// Polls `actor`'s operation once; true when it finished.
    pub fn poll(&mut self, actor: usize) -> bool {
        let slot = self.slots[actor].as_mut().expect("polled an idle actor");
        slot.polls += 1;
        assert!(slot.polls < POLLS_PER_OP_MAX, "actor {actor}'s operation did not finish in {POLLS_PER_OP_MAX} polls");
        let mut cx = Context::from_waker(Waker::noop());
        match slot.op.as_mut().poll(&mut cx) {
            Poll::Ready(()) => {
                self.slots[actor] = None;
                true
            }
            Poll::Pending => false,
        }
    }

    /// The actor crashes: its operation stops where it stands.
    pub fn crash(&mut self, actor: usize) {
        self.slots[actor] = None;
    }
}
