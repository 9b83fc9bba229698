//! Who waits for which execution to close (StartSyncExecution,
//! AwaitExecution), so this process's own commit of a close answers them at
//! once instead of at their next read of the store.

use std::collections::HashMap;
use tokio::sync::oneshot::Sender;

/// Waits told of a close at once, over every execution. A wait past the
/// bound still ends: it reads the store now and then.
pub const CLOSE_WAITERS_MAX: usize = 10_000;

#[derive(Default)]
pub struct CloseWaiters {
    by_execution: HashMap<String, Vec<Sender<()>>>,
    /// Senders held, over every execution (the bound's count).
    count: usize,
}

impl CloseWaiters {
    /// Adds a waiter for `arn`. A wait that ended before the close dropped its
    /// receiver: those are pruned here, or repeated long polls of an execution
    /// that runs for days would keep one sender each.
    pub fn add(&mut self, arn: &str, tx: Sender<()>) {
        self.prune(Some(arn));
        if self.count >= CLOSE_WAITERS_MAX {
            self.prune(None);
        }
        if self.count < CLOSE_WAITERS_MAX {
            self.by_execution.entry(arn.to_string()).or_default().push(tx);
            self.count += 1;
        }
    }

    /// The waiters of `arn`, to be told it closed.
    pub fn take(&mut self, arn: &str) -> Vec<Sender<()>> {
        let waiters = self.by_execution.remove(arn).unwrap_or_default();
        self.count -= waiters.len();
        waiters
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Drops the senders whose wait has ended, of `arn` or of every execution.
    fn prune(&mut self, arn: Option<&str>) {
        let mut dropped = 0;
        let mut prune_one = |waiters: &mut Vec<Sender<()>>| {
            let before = waiters.len();
            waiters.retain(|w| !w.is_closed());
            dropped += before - waiters.len();
        };
        match arn {
            Some(a) => {
                if let Some(waiters) = self.by_execution.get_mut(a) {
                    prune_one(waiters);
                    if waiters.is_empty() {
                        self.by_execution.remove(a);
                    }
                }
            }
            None => self.by_execution.retain(|_, waiters| {
                prune_one(waiters);
                !waiters.is_empty()
            }),
        }
        self.count -= dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_waits_are_pruned_and_the_count_is_bounded() {
        let mut w = CloseWaiters::default();
        // A client long-polls one execution again and again; each wait ends unanswered.
        for _ in 0..100 {
            let (tx, rx) = tokio::sync::oneshot::channel();
            w.add("a", tx);
            drop(rx);
        }
        assert_eq!(w.len(), 1, "only the last wait's sender is kept until the next add");
        let mut live = Vec::new();
        for i in 0..CLOSE_WAITERS_MAX + 5 {
            let (tx, rx) = tokio::sync::oneshot::channel();
            w.add(&format!("e{i}"), tx);
            live.push(rx);
        }
        assert_eq!(w.len(), CLOSE_WAITERS_MAX, "the ended wait was pruned, and no more than the bound are held");
        assert_eq!(w.take("e0").len(), 1);
        assert_eq!(w.len(), CLOSE_WAITERS_MAX - 1);
        assert!(w.take("nobody").is_empty());
    }
}
