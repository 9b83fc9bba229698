//! `stepwise machines|executions|activities`: every command against a real
//! server, as a user types them (code workflows' signal, query, update and
//! cancel are in `code_workflows/cli.rs`, beside a worker).

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::process::{Command, Output};

use common::{Server, temp_dir};
use serde_json::Value;

fn stepwise(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(args)
        .env("STEPWISE_ENDPOINT", endpoint)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("the binary runs")
}

/// Runs a command that must succeed; gives its stdout.
fn ok(endpoint: &str, args: &[&str]) -> String {
    let out = stepwise(endpoint, args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{args:?} failed: {stdout}\n{stderr}");
    stdout.into_owned()
}

fn json(endpoint: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&ok(endpoint, &args)).expect("--json prints JSON")
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

#[test]
fn every_asl_command_works_against_a_server() {
    let dir = temp_dir("client-cli");
    let s = Server::start(&dir);
    let e = s.endpoint.as_str();
    let pass = write(&dir, "pass.json", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let fail = write(&dir, "fail.json", r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope"}}}"#);
    let wait = write(&dir, "wait.json", r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#);
    let long = write(&dir, "long.json", r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}"#);

    // machines create|list|describe|update|delete
    assert!(ok(e, &["machines", "create", "--name", "m", "--definition", &pass]).contains("stateMachine:m"));
    ok(e, &["machines", "create", "--name", "bad", "--definition", &fail]);
    ok(e, &["machines", "create", "--name", "long", "--definition", &long]);
    let list = ok(e, &["machines", "list"]);
    assert!(list.starts_with("NAME") && list.contains("bad") && list.contains("STANDARD"), "{list}");
    assert_eq!(json(e, &["machines", "describe", "m"])["name"], "m");
    ok(e, &["machines", "update", "m", "--definition", &wait]);
    assert!(json(e, &["machines", "describe", "m"])["definition"].as_str().expect("text").contains("Wait"));

    // executions start --wait: exit 0 on SUCCEEDED, 1 otherwise
    let done = ok(e, &["executions", "start", "m", "--name", "x1", "--input", r#"{"a":1}"#, "--wait"]);
    assert!(done.contains("SUCCEEDED"), "{done}");
    let failed = stepwise(e, &["executions", "start", "bad", "--name", "y1", "--wait"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stdout).contains("Nope"));

    // list, describe, history, history --follow (returns once the execution closes)
    let arn = "arn:aws:states:us-east-1:123456789012:execution:m:x1";
    assert!(ok(e, &["executions", "list", "--machine", "m"]).contains("x1"));
    let listed = json(e, &["executions", "list", "--machine", "m", "--status", "SUCCEEDED"]);
    assert_eq!(listed["executions"].as_array().map(Vec::len), Some(1));
    assert_eq!(json(e, &["executions", "describe", arn])["status"], "SUCCEEDED");
    let history = ok(e, &["executions", "history", arn]);
    assert!(history.contains("WaitStateEntered") && history.contains("ExecutionSucceeded"), "{history}");
    ok(e, &["executions", "start", "m", "--name", "x2"]);
    let followed =
        ok(e, &["executions", "history", "arn:aws:states:us-east-1:123456789012:execution:m:x2", "--follow"]);
    assert!(followed.contains("WaitStateExited") && followed.contains("ExecutionSucceeded"), "{followed}");

    // stop, redrive, terminate
    ok(e, &["executions", "start", "long", "--name", "z1"]);
    let z1 = "arn:aws:states:us-east-1:123456789012:execution:long:z1";
    ok(e, &["executions", "stop", z1, "--cause", "enough"]);
    assert_eq!(json(e, &["executions", "describe", z1])["status"], "ABORTED");
    ok(e, &["executions", "redrive", z1]);
    assert_eq!(json(e, &["executions", "describe", z1])["status"], "RUNNING");
    ok(e, &["executions", "terminate", z1, "--reason", "done now"]);
    assert_eq!(json(e, &["executions", "describe", z1])["status"], "ABORTED");

    // Errors: the API's type, a hint, exit 1.
    let missing = stepwise(e, &["executions", "describe", "arn:aws:states:us-east-1:123456789012:execution:m:nope"]);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1));
    assert!(err.contains("ExecutionDoesNotExist") && err.contains("hint:"), "{err}");
    let unnamed = stepwise(e, &["machines", "describe", "nope"]);
    let err = String::from_utf8_lossy(&unnamed.stderr);
    assert_eq!(unnamed.status.code(), Some(1));
    assert!(err.contains("no state machine is named 'nope'") && err.contains("stepwise machines list"), "{err}");
    let nowhere = stepwise("http://127.0.0.1:9", &["machines", "list"]);
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("cannot reach"));
    ok(e, &["machines", "delete", "bad"]);
    assert!(!ok(e, &["machines", "list"]).contains("bad"));
}

#[test]
fn a_worker_step_runs_from_a_shell() {
    let dir = temp_dir("client-cli-activities");
    let s = Server::start(&dir);
    let e = s.endpoint.as_str();
    let c = tokio::runtime::Runtime::new().expect("runtime");
    let act =
        c.block_on(async { s.client().create_activity().name("approve").send().await.expect("create").activity_arn });
    let def = write(
        &dir,
        "task.json",
        &format!(r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","End":true}}}}}}"#),
    );
    ok(e, &["machines", "create", "--name", "work", "--definition", &def]);
    assert!(ok(e, &["activities", "list"]).contains("approve"));
    for (name, answer) in [("ok", true), ("no", false)] {
        ok(e, &["executions", "start", "work", "--name", name, "--input", r#"{"order":42}"#]);
        let task = json(e, &["activities", "poll", "approve", "--worker", "shell"]);
        let token = task["taskToken"].as_str().expect("a task").to_string();
        assert_eq!(task["input"], r#"{"order":42}"#);
        if answer {
            ok(e, &["activities", "succeed", &token, "--output", r#"{"approved":true}"#]);
        } else {
            ok(e, &["activities", "fail", &token, "--error", "Rejected", "--cause", "no budget"]);
        }
        let arn = format!("arn:aws:states:us-east-1:123456789012:execution:work:{name}");
        let d = common_wait(e, &arn);
        assert_eq!(d["status"], if answer { "SUCCEEDED" } else { "FAILED" }, "{d}");
    }
}

/// Describes an execution until it leaves RUNNING.
fn common_wait(e: &str, arn: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let d = json(e, &["executions", "describe", arn]);
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(start.elapsed() < common::WAIT_MAX, "{arn} did not finish");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `stepwise schedules`: list, trigger, pause, backfill, options and describe,
/// against a schedule made with the AWS CLI.
#[test]
fn schedule_commands_work_against_a_server() {
    let dir = temp_dir("client-cli-schedules");
    let s = Server::start(&dir);
    let e = s.endpoint.as_str();
    let pass = write(&dir, "pass.json", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    ok(e, &["machines", "create", "--name", "tick", "--definition", &pass]);
    let target = r#"{"Arn":"arn:aws:states:us-east-1:123456789012:stateMachine:tick","RoleArn":"arn:aws:iam::123456789012:role/r"}"#;
    common::aws_cli(
        e,
        &[
            "scheduler",
            "create-schedule",
            "--name",
            "hourly",
            "--schedule-expression",
            "cron(0 * * * ? *)",
            "--flexible-time-window",
            "Mode=OFF",
            "--target",
            target,
        ],
    );
    assert!(ok(e, &["schedules", "list"]).contains("hourly  default  ENABLED"));
    assert!(
        ok(e, &["schedules", "trigger", "hourly"])
            .contains("started arn:aws:states:us-east-1:123456789012:execution:tick:hourly-")
    );
    ok(e, &["schedules", "pause", "hourly", "--note", "migration"]);
    let back =
        ok(e, &["schedules", "backfill", "hourly", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T03:00:00Z"]);
    assert!(back.starts_with("3 fire times") && back.contains("hourly-20260101T020000Z"), "{back}");
    ok(e, &["schedules", "options", "hourly", "--overlap", "BUFFER_ONE", "--remaining-actions", "5"]);
    let d = json(e, &["schedules", "describe", "hourly"]);
    assert_eq!(d["state"]["overlapPolicy"], "BUFFER_ONE");
    assert_eq!(d["state"]["note"], "migration");
    assert_eq!(d["state"]["remainingActions"], 5);
    assert_eq!(d["state"]["recentActions"].as_array().map(Vec::len), Some(4));
    let text = ok(e, &["schedules", "describe", "hourly"]);
    assert!(text.contains("paused             yes: migration") && text.contains("next fires"), "{text}");
    let missing = stepwise(e, &["schedules", "describe", "nope"]);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success() && err.contains("ResourceNotFoundException"), "{err}");
}
