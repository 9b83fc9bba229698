//! What every part of one simulated run shares: the simulated clock, the
//! seed's random stream, which faults are on, the trace, and the ledger the
//! invariants are checked against. Everything runs on one thread; the
//! mutexes only satisfy the `Send + Sync` bounds of the store interfaces.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::Plant;
use crate::clock::Environment;

/// Where simulated time starts: 2026-01-01T00:00:00Z, so dates look real.
pub const EPOCH_MS: i64 = 1_767_225_600_000;
/// Trace lines one run keeps at most; the last ones matter for a failure.
const TRACE_LINES_MAX: usize = 200_000;

/// Which kinds of fault this run injects (none in the reference run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    pub enabled: bool,
}

pub struct World {
    now_ms: AtomicI64,
    rng: Mutex<Xoshiro256PlusPlus>,
    pub faults: Faults,
    pub plant: Option<Plant>,
    trace: Mutex<Vec<String>>,
    pub ledger: Mutex<Ledger>,
    /// The engine's sleeps under way (by id), with when each ends: when
    /// every operation in flight sleeps, time jumps to the first wake.
    sleeping: Mutex<std::collections::BTreeMap<u64, i64>>,
    next_sleep: AtomicI64,
}

/// What the simulated outside world saw happen, for the invariants.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Outbox entries committed (by id) and those sent at least once.
    pub outbox_committed: std::collections::BTreeSet<u64>,
    pub outbox_sent: std::collections::BTreeSet<u64>,
    /// Transactions the engine asked for beyond the store's limits.
    pub limit_breaches: Vec<String>,
}

impl World {
    pub fn new(seed: u64, faults: Faults, plant: Option<Plant>) -> World {
        World {
            now_ms: AtomicI64::new(EPOCH_MS),
            rng: Mutex::new(Xoshiro256PlusPlus::seed_from_u64(seed)),
            faults,
            plant,
            trace: Mutex::default(),
            ledger: Mutex::default(),
            sleeping: Mutex::default(),
            next_sleep: AtomicI64::new(0),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::Relaxed)
    }

    pub fn advance_to(&self, ms: i64) {
        self.now_ms.fetch_max(ms, Ordering::Relaxed);
    }

    pub fn random_u64(&self) -> u64 {
        self.rng.lock().expect("one thread").next_u64()
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&self, n: u64) -> u64 {
        assert!(n > 0, "a draw from an empty range");
        self.random_u64() % n
    }

    /// True with probability `per_mille` / 1000, and only when faults are on.
    pub fn fault(&self, per_mille: u64) -> bool {
        self.faults.enabled && self.below(1000) < per_mille
    }

    pub fn trace(&self, line: impl FnOnce() -> String) {
        let mut t = self.trace.lock().expect("one thread");
        if t.len() < TRACE_LINES_MAX {
            let at = self.now_ms() - EPOCH_MS;
            t.push(format!("{:>9}.{:03} {}", at / 1000, at % 1000, line()));
        }
    }

    /// How many sleeps are under way, and the first one's end.
    pub fn sleeps(&self) -> (usize, Option<i64>) {
        let s = self.sleeping.lock().expect("one thread");
        (s.len(), s.values().min().copied())
    }

    pub fn take_trace(&self) -> Vec<String> {
        std::mem::take(&mut *self.trace.lock().expect("one thread"))
    }

    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("one thread")
    }
}

/// One engine's view of the world: the shared clock, off by its own skew.
pub struct SimEnv {
    pub world: std::sync::Arc<World>,
    pub skew_ms: i64,
}

impl Environment for SimEnv {
    fn now_ms(&self) -> i64 {
        self.world.now_ms() + self.skew_ms
    }
    fn random_u64(&self) -> u64 {
        self.world.random_u64()
    }
    fn monotonic_ms(&self) -> i64 {
        self.world.now_ms()
    }
    /// Pending (and ready to be polled again) until simulated time has passed `d`.
    fn sleep(&self, d: std::time::Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let world = self.world.clone();
        let until = world.now_ms() + i64::try_from(d.as_millis()).expect("short waits");
        let id = world.next_sleep.fetch_add(1, Ordering::Relaxed) as u64;
        world.sleeping.lock().expect("one thread").insert(id, until);
        let sleep = Sleep { world, id, until };
        Box::pin(sleep)
    }
}

/// An await point: pending once, so the executor may run another actor (or
/// crash this one) between any two store or queue operations.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// A sleep on simulated time; it leaves the register when it ends or is dropped (a crash).
struct Sleep {
    world: std::sync::Arc<World>,
    id: u64,
    until: i64,
}

impl std::future::Future for Sleep {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.world.now_ms() >= self.until {
            self.world.sleeping.lock().expect("one thread").remove(&self.id);
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.world.sleeping.lock().expect("one thread").remove(&self.id);
    }
}
