//! The `stepwise` binary, driven as a user would.

use assert_cmd::Command;

fn stepwise() -> Command {
    Command::cargo_bin("stepwise").expect("binary built")
}

fn example() -> String {
    format!("{}/../examples/hello.asl.json", env!("CARGO_MANIFEST_DIR"))
}

fn write(dir: &tempdir::Dir, name: &str, text: &str) -> String {
    let p = dir.0.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let p = std::env::temp_dir().join(format!("stepwise-cli-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&p).expect("mkdir");
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn validate_accepts_the_example() {
    stepwise().args(["validate", &example()]).assert().success().stdout(predicates::str::contains("OK"));
}

#[test]
fn validate_reports_every_problem_as_json() {
    let dir = tempdir::Dir::new("validate");
    let bad =
        write(&dir, "bad.json", r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"C":{"Type":"Succeed"}}}"#);
    let out = stepwise().args(["validate", "--json", &bad]).assert().code(1).get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["result"], "FAIL");
    let codes: Vec<&str> =
        v["diagnostics"].as_array().expect("array").iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&"MISSING_TRANSITION_TARGET"), "{codes:?}");
    assert!(codes.contains(&"UNREACHABLE_STATE"), "{codes:?}");
}

#[test]
fn validate_rejects_text_that_is_not_json() {
    let dir = tempdir::Dir::new("notjson");
    let bad = write(&dir, "bad.json", "not a definition");
    stepwise().args(["validate", &bad]).assert().code(1).stdout(predicates::str::contains("INVALID_JSON_DESCRIPTION"));
}

#[test]
fn run_prints_status_and_output_as_json() {
    let out = stepwise()
        .args(["run", &example(), "--no-wait", "--json", "--input", r#"{"name":"Ada"}"#])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"]["greeting"], "Hello, Ada!");
    assert_eq!(v["output"]["doubled"][2]["n"], 6);
}

#[test]
fn run_reports_failures_with_error_and_cause() {
    let dir = tempdir::Dir::new("fail");
    let def = write(&dir, "f.json", r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"why"}}}"#);
    stepwise()
        .args(["run", &def])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Status: FAILED").and(predicates::str::contains("Error: Boom")));
}

#[test]
fn run_says_clearly_that_tasks_need_the_server() {
    let dir = tempdir::Dir::new("task");
    let def = write(
        &dir,
        "t.json",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}"#,
    );
    stepwise().args(["run", &def]).assert().code(1).stdout(
        predicates::str::contains("Stepwise.TaskNotSupported").and(predicates::str::contains("stepwise server")),
    );
}

#[test]
fn run_reads_input_from_a_file_and_rejects_bad_json() {
    let dir = tempdir::Dir::new("input");
    let input = write(&dir, "in.json", r#"{"name":"Bo"}"#);
    stepwise()
        .args(["run", &example(), "--no-wait", "--input", &format!("@{input}")])
        .assert()
        .success()
        .stdout(predicates::str::contains("Hello, Bo!"));
    stepwise()
        .args(["run", &example(), "--input", "{nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not valid JSON"));
}

#[test]
fn run_history_lists_events() {
    stepwise()
        .args(["run", &example(), "--no-wait", "--history", "--input", r#"{"name":"Cy"}"#])
        .assert()
        .success()
        .stdout(predicates::str::contains("ExecutionStarted").and(predicates::str::contains("MapIterationSucceeded")));
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn run_refuses_input_over_256_kib() {
    let dir = tempdir::Dir::new("big");
    let big = write(&dir, "big.json", &format!("{{\"s\":\"{}\"}}", "x".repeat(256 * 1024)));
    stepwise()
        .args(["run", &example(), "--input", &format!("@{big}")])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("States.DataLimitExceeded"));
}

#[test]
fn validate_reports_a_missing_file_clearly() {
    stepwise()
        .args(["validate", "/nonexistent/def.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read"));
}

/// The load generator runs end to end, each workload (its figures live in
/// BENCHMARKS.md, not in a timed test); the activities workload's workers answer
/// every task of its three-Task machine.
#[test]
fn bench_runs_a_small_load() {
    for (workload, tasks) in [("map", 0), ("activities", 180)] {
        let dir = std::env::temp_dir().join(format!("stepwise-bench-smoke-{workload}-{}", std::process::id()));
        let out = assert_cmd::Command::cargo_bin("stepwise")
            .unwrap()
            .args(["bench", "--workload", workload, "--workers", "4"])
            .args(["--executions", "60", "--concurrency", "4", "--data-dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{workload}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["workload"], workload);
        assert_eq!(report["executions"], 60);
        assert_eq!(report["activity_tasks_answered"], tasks, "{workload}");
        assert!(report["executions_per_second"].as_f64().unwrap() > 0.0);
        assert!(report["server_rss_kib"].as_array().unwrap().len() >= 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A retention of zero or less would let TTL delete executions as they close.
#[test]
fn server_refuses_a_retention_that_is_not_a_positive_number_of_days() {
    for bad in ["0", "-5", "many"] {
        stepwise()
            .args(["server", "--dynamodb-table", "t", &format!("--retention-days={bad}")])
            .assert()
            .failure()
            .code(2)
            .stderr(predicates::str::contains("--retention-days"));
    }
}
