//! The wall clock and the operating system's randomness, read in one place.
//! The engine is given both through an [`Environment`]: [`System`] in the
//! servers and Lambdas, the seed's clock and generator in `stepwise simulate`.
//! `clippy.toml` forbids reading either anywhere else.
//!
//! Test-only time scaling: with `STEPWISE_TIME_SCALE=<factor>` (an integer,
//! at most [`TIME_SCALE_MAX`]) and `STEPWISE_TIME_ORIGIN_MS=<epoch ms>`, time
//! runs `factor` times faster after the origin. Every process of one
//! deployment must be given the same pair. The engine keeps computing in this
//! virtual time, so timers, the 900 s hop limit of SQS delays and the sweeper's
//! due times all behave as in production; only an SQS delay is turned back
//! into real seconds when it is sent ([`real_delay_ms`]). This lets a test wait
//! an hour in seconds while the hop logic still runs.

// The one place the wall clock and the OS randomness are read.
#![allow(clippy::disallowed_methods)]

use std::sync::OnceLock;

/// The fastest time may run: beyond it an SQS hop of 900 virtual seconds is
/// shorter than SQS's one-second delay granularity and the test would measure
/// rounding, not hops.
pub const TIME_SCALE_MAX: u64 = 900;

#[derive(Clone, Copy)]
struct Scale {
    factor: u64,
    origin_ms: i64,
}

fn scale() -> Option<Scale> {
    static SCALE: OnceLock<Option<Scale>> = OnceLock::new();
    *SCALE.get_or_init(|| {
        let factor: u64 = std::env::var("STEPWISE_TIME_SCALE").ok()?.parse().ok()?;
        let origin_ms: i64 = std::env::var("STEPWISE_TIME_ORIGIN_MS").ok()?.parse().ok()?;
        (factor > 1).then_some(Scale { factor: factor.min(TIME_SCALE_MAX), origin_ms })
    })
}

/// Where the engine gets time and randomness; nothing in `engine/` or `api/`
/// reads either by itself, so a simulation decides both.
pub trait Environment: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    fn random_u64(&self) -> u64;
    /// Milliseconds on a clock that never goes back, for how long a caller
    /// has waited (real time in production, whatever the time scale).
    fn monotonic_ms(&self) -> i64;
    /// Waits `d` of that clock.
    fn sleep(&self, d: std::time::Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

/// The real clock (scaled in tests, see above) and the operating system's randomness.
pub struct System;

impl Environment for System {
    fn now_ms(&self) -> i64 {
        now_ms()
    }
    fn random_u64(&self) -> u64 {
        os_random_u64()
    }
    fn monotonic_ms(&self) -> i64 {
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_millis() as i64
    }
    fn sleep(&self, d: std::time::Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A random u64 from the operating system.
pub fn os_random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Seeds and token keys must be unpredictable: without OS randomness the
    // server must not run at all, rather than hand out guessable tokens.
    getrandom::fill(&mut b).expect("the operating system's random number generator");
    u64::from_le_bytes(b)
}

fn real_now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as i64
}

/// Milliseconds since the Unix epoch (virtual when time is scaled). For
/// hosts; the engine reads [`Engine::now_ms`](crate::engine::Engine::now_ms).
pub fn now_ms() -> i64 {
    let real = real_now_ms();
    match scale() {
        Some(s) if real > s.origin_ms => s.origin_ms + (real - s.origin_ms) * s.factor as i64,
        _ => real,
    }
}

/// How many times faster engine time runs than real time (1 unless scaled).
pub fn time_scale() -> u64 {
    scale().map_or(1, |s| s.factor)
}

/// The real delay for a delay of `virtual_ms` in engine time.
pub fn real_delay_ms(virtual_ms: u64) -> u64 {
    match scale() {
        Some(s) => virtual_ms.div_ceil(s.factor),
        None => virtual_ms,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unscaled_time_is_the_wall_clock() {
        // The test process sets no scale.
        assert_eq!(super::real_delay_ms(900_000), 900_000);
        assert!((super::now_ms() - super::real_now_ms()).abs() < 1000);
    }
}
