//! The wall clock, read in one place. The engine is given time by its hosts;
//! this is where the hosts get it.
//!
//! Test-only time scaling: with `STEPWISE_TIME_SCALE=<factor>` (an integer,
//! at most [`TIME_SCALE_MAX`]) and `STEPWISE_TIME_ORIGIN_MS=<epoch ms>`, time
//! runs `factor` times faster after the origin. Every process of one
//! deployment must be given the same pair. The engine keeps computing in this
//! virtual time, so timers, the 900 s hop limit of SQS delays and the sweeper's
//! due times all behave as in production; only an SQS delay is turned back
//! into real seconds when it is sent ([`real_delay_ms`]). This lets a test wait
//! an hour in seconds while the hop logic still runs.

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

fn real_now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as i64
}

/// Milliseconds since the Unix epoch (virtual when time is scaled).
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
