//! The worker's sticky cache: runs' replayed states kept between their
//! workflow tasks, so a task that brings only the events since the last one
//! (a sticky task) runs without replaying the whole history. Bounded by
//! runs and by bytes; the least recently used run goes first. It is only a
//! cache: a miss costs a replay of the whole history, never a result.

use std::collections::{BTreeMap, HashMap};

use crate::workflow::Replayed;

/// Runs kept at most, by default.
pub const STICKY_RUNS_MAX_DEFAULT: usize = 1_000;
/// Bytes kept at most, by default, counted as the JSON of the events the
/// kept states consumed: a replayed state's size follows its history's.
pub const STICKY_BYTES_MAX_DEFAULT: usize = 64 * 1024 * 1024;

struct Entry {
    replayed: Replayed,
    bytes: usize,
    /// When it was last used (the LRU order's key).
    tick: u64,
}

pub struct StickyCache {
    runs: HashMap<String, Entry>,
    /// Execution ARNs by last use, oldest first.
    order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
    runs_max: usize,
    bytes_max: usize,
    /// Tasks that ran from a kept state, and those that replayed the whole history.
    pub hits: u64,
    pub misses: u64,
}

impl StickyCache {
    pub fn new(runs_max: usize, bytes_max: usize) -> StickyCache {
        StickyCache {
            runs: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            runs_max,
            bytes_max,
            hits: 0,
            misses: 0,
        }
    }

    /// Takes the kept state of `arn` out (the task running on it puts its
    /// successor back), with the bytes it counts for.
    pub fn take(&mut self, arn: &str) -> Option<(Replayed, usize)> {
        let e = self.runs.remove(arn)?;
        self.order.remove(&e.tick);
        self.bytes -= e.bytes;
        Some((e.replayed, e.bytes))
    }

    /// Keeps `replayed` for `arn`, evicting the least recently used runs
    /// until both bounds hold; false if it is not kept (bigger than the
    /// whole cache, or the cache is off).
    pub fn put(&mut self, arn: &str, replayed: Replayed, bytes: usize) -> bool {
        self.take(arn);
        if bytes > self.bytes_max || self.runs_max == 0 {
            return false;
        }
        while self.runs.len() + 1 > self.runs_max || self.bytes + bytes > self.bytes_max {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some(e) = self.runs.remove(&oldest) {
                self.bytes -= e.bytes;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, arn.to_string());
        self.bytes += bytes;
        self.runs.insert(arn.to_string(), Entry { replayed, bytes, tick: self.tick });
        true
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{Event, WorkflowContext, WorkflowError, workflow_fn, workflow_task_kept};

    /// A run waiting on a timer: its first task's state, kept.
    fn waiting() -> Replayed {
        let code = workflow_fn(|ctx: WorkflowContext, n: u32| async move {
            ctx.sleep(std::time::Duration::from_secs(60)).await;
            Ok::<_, WorkflowError>(n)
        });
        let start =
            Event::WorkflowStarted { workflow_type: "w".into(), input: serde_json::json!(1), seed: 1, info: None };
        workflow_task_kept(&code, &[start], 0).expect("a first task").1.expect("a waiting run is kept")
    }

    #[test]
    fn the_least_recently_used_goes_first_within_both_bounds() {
        let mut c = StickyCache::new(2, 1_000);
        c.put("a", waiting(), 100);
        c.put("b", waiting(), 100);
        let (a, bytes) = c.take("a").expect("a is kept");
        c.put("a", a, bytes); // a is now the most recently used
        c.put("c", waiting(), 100);
        assert!(c.take("b").is_none(), "b, the least recently used, made room for c");
        assert_eq!(c.len(), 2);
        // The byte bound: 901 more bytes push out both others.
        c.put("d", waiting(), 901);
        assert_eq!((c.len(), c.bytes()), (1, 901));
        assert!(c.take("d").is_some() && c.is_empty());
        // A state bigger than the whole cache is not kept; 0 runs keeps none.
        c.put("e", waiting(), 1_001);
        assert!(c.is_empty());
        let mut off = StickyCache::new(0, 1_000);
        off.put("f", waiting(), 1);
        assert!(off.is_empty());
    }
}
