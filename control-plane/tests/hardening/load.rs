//! Heavy evaluations run on a bounded pool off the request threads: cheap
//! requests stay fast, a full queue is throttled, and memory is bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Server, temp_dir};
use crate::{call, memory_kib, pass_state};

/// Deep recursion that is not a tail call: about a second of evaluation.
const HEAVY: &str = "{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; [1..60].$f(5000)) %}";

fn test_state(endpoint: &str, output: &str) -> (u16, serde_json::Value) {
    let def = pass_state(output).to_string();
    call(endpoint, "TestState", json!({"definition": def, "input": "{}"}))
}

#[test]
fn cheap_requests_stay_fast_while_evaluations_saturate_the_pool() {
    let s = Server::start(&temp_dir("saturated"));
    let endpoint = s.endpoint.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let heavy: Vec<_> = (0..4)
        .map(|_| {
            let (endpoint, stop, answered) = (endpoint.clone(), stop.clone(), answered.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = test_state(&endpoint, HEAVY);
                    assert!(status == 200 || body["__type"] == "ThrottlingException", "{status} {body}");
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // The pool is saturated once the first heavy answers come back (the others are queued behind them).
    let deadline = Instant::now() + crate::common::WAIT_MAX;
    while answered.load(Ordering::Relaxed) < 2 {
        assert!(Instant::now() < deadline, "the heavy evaluations never answered");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut latencies: Vec<Duration> = (0..40)
        .map(|_| {
            let t = Instant::now();
            let (status, _) = call(&endpoint, "ListStateMachines", json!({}));
            assert_eq!(status, 200);
            t.elapsed()
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    heavy.into_iter().for_each(|h| h.join().expect("a heavy client"));
    let done = answered.load(Ordering::Relaxed);
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    eprintln!("ListStateMachines p50 {p50:?} (max {:?}) beside {done} heavy evaluations", latencies.last());
    assert!(done > 0, "the heavy clients ran");
    assert!(p50 < Duration::from_millis(50), "a cheap request's p50 is {p50:?} while the pool is saturated");
}

#[test]
fn a_full_evaluation_queue_is_throttled_not_stalled() {
    let dir = temp_dir("throttled");
    let s = Server::start_with(&dir, &["--eval-threads", "1", "--eval-queue-max", "1"]);
    let results: Vec<(u16, serde_json::Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| test_state(&s.endpoint, HEAVY))).collect();
        handles.into_iter().map(|h| h.join().expect("a client")).collect()
    });
    let ok = results.iter().filter(|(st, _)| *st == 200).count();
    let throttled = results.iter().filter(|(st, b)| *st == 400 && b["__type"] == "ThrottlingException").count();
    assert_eq!(ok + throttled, results.len(), "only answers or throttling: {results:?}");
    assert!(ok >= 1 && throttled >= 1, "{ok} answered, {throttled} throttled");
}

/// Evaluations that build as much as they may: each ends in a clear error
/// (or an answer), and the server's peak memory stays within the bound the
/// README documents.
#[test]
fn jsonata_memory_is_bounded_per_evaluation_and_in_total() {
    let s = Server::start(&temp_dir("jsonata-memory"));
    let bombs = [
        "{% ($f := function($n){ $n = 0 ? 0 : $f($n - 1) }; $f(10000000)) %}",
        "{% $sort([1..1000000], function($a, $b){ $a < $b }) %}",
        "{% $count([1..8000000]) %}",
        "{% $count([1..100000].($pad('', 1000, 'x'))) %}",
        "{% $count([1..1000000].{'a': $, 'b': $}) %}",
    ];
    let (_, before) = memory_kib(s.pid());
    std::thread::scope(|scope| {
        for bomb in bombs {
            let endpoint = s.endpoint.clone();
            scope.spawn(move || {
                let (status, body) = test_state(&endpoint, bomb);
                assert!(status == 200 || status == 400, "{bomb}: {status} {body}");
            });
        }
    });
    let (rss, peak) = memory_kib(s.pid());
    eprintln!("JSONata bombs: peak {peak} KiB (from {before} KiB), RSS after {rss} KiB");
    assert!(peak < 512 * 1024, "peak {peak} KiB is over the documented 512 MiB");
}
