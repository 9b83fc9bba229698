//! `stepwise simulate` as CI runs it: a thousand seeds without a violation,
//! every plant caught, traces that replay byte for byte, and the seeds that
//! once found bugs replayed.

use std::process::{Command, Output};

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepwise")).arg("simulate").args(args).output().expect("stepwise runs")
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string()
}

/// Seeds CI runs; split over two processes, one per core.
const CI_SEEDS: u64 = 1000;

#[test]
fn a_thousand_seeds_find_no_violation() {
    let half = CI_SEEDS / 2;
    let runs: Vec<std::thread::JoinHandle<Output>> = [0, half]
        .into_iter()
        .map(|start| {
            std::thread::spawn(move || simulate(&["--seeds", &half.to_string(), "--start-seed", &start.to_string()]))
        })
        .collect();
    for run in runs {
        let out = run.join().expect("the thread");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(last_line(&out), format!("simulation: {half} seeds, 0 violations"), "{text}");
        assert!(out.status.success());
        assert_sticky_paths_ran(&text);
    }
}

/// The faulty runs reached both paths of a sticky workflow task (a kept
/// history, and a miss read whole) and restarted workers, whose sticky
/// tasks only the fall-back can take; answers took activity tasks eagerly; and
/// Map Runs started child executions and redrove some of them in place.
fn assert_sticky_paths_ran(text: &str) {
    let line = text.lines().find(|l| l.starts_with("sticky tasks: ")).expect("a sticky tasks line");
    let n: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert!(n.len() == 3 && n.iter().all(|&k| k > 0), "every sticky path ran: {line}");
    let eager = text.lines().find(|l| l.starts_with("eager activities: ")).expect("an eager activities line");
    assert!(!eager.starts_with("eager activities: 0 "), "answers took activity tasks eagerly: {eager}");
    let line = text.lines().find(|l| l.starts_with("map run children: ")).expect("a map run children line");
    let n: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert!(n.len() == 2 && n.iter().all(|&k| k > 0), "Map Runs started children and redrove some: {line}");
}

#[test]
fn every_plant_is_caught_within_a_thousand_seeds() {
    for plant in ["stale-commit", "drop-outbox", "reuse-token"] {
        let out = simulate(&["--seeds", "1000", "--plant", plant]);
        let text = String::from_utf8_lossy(&out.stdout);
        let last = last_line(&out);
        let (seeds, violations) = last
            .strip_prefix("simulation: ")
            .and_then(|r| r.strip_suffix(" violations"))
            .and_then(|r| r.split_once(" seeds, "))
            .unwrap_or_else(|| panic!("{plant}: the last line is {last:?}"));
        let violations: u64 = violations.parse().expect("a count");
        assert!(violations > 0, "{plant} was not caught in {seeds} seeds");
        assert_eq!(out.status.code(), Some(1), "{plant}: a violation exits non-zero");
        // The report names the seed and the invariant, and ends with the events before.
        assert!(text.contains(": violated: ") && text.contains("the last events (replay: stepwise simulate"), "{text}");
        eprintln!("{plant}: {last}");
    }
}

#[test]
fn a_seed_replays_byte_for_byte() {
    let a = simulate(&["--seeds", "1", "--start-seed", "7", "--trace"]);
    let b = simulate(&["--seeds", "1", "--start-seed", "7", "--trace"]);
    assert!(a.stdout.len() > 1000, "a trace: {}", String::from_utf8_lossy(&a.stdout));
    assert_eq!(a.stdout, b.stdout);
    let other = simulate(&["--seeds", "1", "--start-seed", "8", "--trace"]);
    assert_ne!(a.stdout, other.stdout, "another seed runs otherwise");
}

#[test]
fn the_seeds_that_found_bugs_stay_fixed() {
    let pinned = include_str!("seeds.txt");
    for line in pinned.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (seed, what) = line.split_once(' ').expect("a seed and what it found");
        let out = simulate(&["--seeds", "1", "--start-seed", seed]);
        assert_eq!(
            last_line(&out),
            "simulation: 1 seeds, 0 violations",
            "seed {seed} ({what}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn each_workload_runs_alone_and_bad_options_are_refused() {
    for workload in ["steps", "catch", "fanout", "parent", "callback", "sleeper", "redrive", "sim-order", "sim-cancel"]
    {
        let out = simulate(&["--seeds", "3", "--workload", workload]);
        assert_eq!(last_line(&out), "simulation: 3 seeds, 0 violations", "{workload}");
    }
    let bad = simulate(&["--workload", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("possible values"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
