//! Where CPU-heavy, synchronous work runs: interpreter steps (JSONata,
//! intrinsics, paths) and TestState. It runs on blocking threads, at most
//! `threads` at once, with at most `queue_max` callers waiting; past that a
//! caller is refused with `ThrottlingException`, as AWS throttles.
//!
//! Why: the async threads that accept and answer requests must never be held
//! by one client's evaluation, and the memory of evaluations in flight is
//! bounded by `threads` times the bound of one (see `state_language::limits`).

// Only its tests read the clock (a deadline to poll against).
#![allow(clippy::disallowed_methods)]

use crate::AwsError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::Error;

/// Callers that may wait for a thread before new work is refused.
pub const COMPUTE_QUEUE_MAX_DEFAULT: usize = 64;

tokio::task_local! {
    /// Set while an API request is served: its work is refused past the
    /// queue. The server's own loops (scheduler, integrations, sweeper) are
    /// few and fixed in number, so they wait instead: throttling them would
    /// only delay executions until their messages come back.
    pub static FROM_REQUEST: ();
}

/// A bounded pool for heavy work, with a bounded queue in front of it.
pub struct Compute {
    permits: Arc<Semaphore>,
    threads: usize,
    queue_max: usize,
    /// Callers admitted and not yet finished: running plus waiting.
    admitted: AtomicUsize,
    /// Runs work on the caller's thread: the simulator's, where one thread
    /// decides every interleaving.
    inline: bool,
}

impl Compute {
    /// `threads` evaluations at once (at least one), `queue_max` more waiting.
    pub fn new(threads: usize, queue_max: usize) -> Compute {
        let threads = threads.max(1);
        Compute {
            permits: Arc::new(Semaphore::new(threads)),
            threads,
            queue_max,
            admitted: AtomicUsize::new(0),
            inline: false,
        }
    }

    /// As many threads as the machine has cores.
    pub fn for_this_machine() -> Compute {
        Compute::for_this_machine_with_queue(COMPUTE_QUEUE_MAX_DEFAULT)
    }

    pub fn for_this_machine_with_queue(queue_max: usize) -> Compute {
        let cores = std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(1);
        Compute::new(cores, queue_max)
    }

    /// Work runs on the caller's thread, at once (`stepwise simulate`).
    pub fn inline() -> Compute {
        Compute { inline: true, ..Compute::new(1, 0) }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on a pool thread. Within an API request ([`FROM_REQUEST`])
    /// it is refused when the queue is full; the server's own loops wait.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.inline {
            return Ok(work());
        }
        let admitted = self.admitted.fetch_add(1, Ordering::AcqRel);
        let _admission = Admission(&self.admitted);
        if admitted >= self.threads + self.queue_max && FROM_REQUEST.try_with(|_| ()).is_ok() {
            return Err(Error::api(
                AwsError::ThrottlingException,
                "Rate exceeded: the server's evaluation queue is full",
            ));
        }
        let permit = self.permits.clone().acquire_owned().await.expect("the compute semaphore is never closed");
        let done = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        done.await.map_err(|e| Error::Store(format!("an evaluation panicked: {e}")))
    }
}

/// Leaves the admitted count when the caller is done (or gave up waiting).
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_past_the_queue_and_recovers() {
        let c = Arc::new(Compute::new(1, 1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let hold = |c: Arc<Compute>, rx: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>| {
            tokio::spawn(async move { c.run(move || rx.lock().expect("lock").recv().ok()).await })
        };
        let first = hold(c.clone(), rx.clone());
        let second = hold(c.clone(), rx.clone());
        // Both are admitted (one running, one queued); a third is refused.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while c.admitted.load(Ordering::Acquire) < 2 {
            assert!(std::time::Instant::now() < deadline, "the two callers were not admitted");
            tokio::task::yield_now().await;
        }
        let refused = FROM_REQUEST.scope((), c.run(|| ())).await;
        assert!(matches!(refused, Err(Error::Api { kind: AwsError::ThrottlingException, .. })), "{refused:?}");
        // The server's own loops are not refused: they wait their turn.
        let waiting = tokio::spawn({
            let c = c.clone();
            async move { c.run(|| 8).await }
        });
        tx.send(()).expect("send");
        tx.send(()).expect("send");
        assert!(first.await.expect("join").is_ok());
        assert!(second.await.expect("join").is_ok());
        assert_eq!(waiting.await.expect("join").expect("a loop's work waits, then runs"), 8);
        assert_eq!(FROM_REQUEST.scope((), c.run(|| 7)).await.expect("room again"), 7);
    }
}
