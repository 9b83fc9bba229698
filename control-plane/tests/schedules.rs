//! Schedules on `stepwise server`, through unmodified clients: boto3's
//! `scheduler` client and `aws scheduler` (scripts in `tests/smoke/`),
//! plain and signed; and a fire time that passes while the server is
//! killed starts its execution once after the restart, and never twice.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{LocalStack, Server, aws_cli as aws, create_machine, eventually, temp_dir};
use serde_json::json;

fn run(program: &str, script: &str, endpoint: &str, env: &[(&str, &str)]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smoke").join(script);
    let out = Command::new(program).arg(&path).arg(endpoint).envs(env.iter().copied()).output().expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script} failed:\n{text}");
}

const KEY: (&str, &str) = ("AKIASTEPWISETEST0002", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSTEPWISE02");
const CLIENT_KEY: [(&str, &str); 2] =
    [("STEPWISE_TEST_ACCESS_KEY_ID", KEY.0), ("STEPWISE_TEST_SECRET_ACCESS_KEY", KEY.1)];

#[test]
fn boto3_scheduler_client() {
    let server = Server::start(&temp_dir("sched-boto3"));
    run("python3", "scheduler_boto3.py", &server.endpoint, &[]);
}

#[test]
fn boto3_scheduler_client_signs_for_scheduler_and_the_server_checks() {
    let creds = format!("{}:{}", KEY.0, KEY.1);
    let server = Server::start_env(&temp_dir("sched-sigv4"), &["--auth", "sigv4"], &[("STEPWISE_CREDENTIALS", &creds)]);
    run("python3", "scheduler_boto3.py", &server.endpoint, &CLIENT_KEY);
}

#[test]
fn aws_cli_scheduler() {
    let server = Server::start(&temp_dir("sched-cli"));
    run("bash", "scheduler_cli.sh", &server.endpoint, &[]);
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

#[tokio::test]
async fn a_fire_time_passed_during_a_kill_starts_once_after_the_restart() {
    let server = Server::start(&temp_dir("sched-kill"));
    let c = server.client();
    let machine = create_machine(&c, "nightly", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    // Every hour from three seconds ahead: the first fire falls while the server is down.
    let first_s = now_s() + 3;
    let target = format!(r#"{{"Arn":"{machine}","RoleArn":"arn:aws:iam::123456789012:role/r"}}"#);
    aws(
        &server.endpoint,
        &[
            "scheduler",
            "create-schedule",
            "--name",
            "hourly",
            "--schedule-expression",
            "rate(1 hour)",
            "--start-date",
            &first_s.to_string(),
            "--flexible-time-window",
            "Mode=OFF",
            "--target",
            &target,
        ],
    );
    let dir = server.kill9();
    eventually("the fire time to pass", || async { (now_s() > first_s).then_some(()) }).await;
    let server = Server::start(&dir);
    let c = server.client();
    let list = |c: aws_sdk_sfn::Client| {
        let m = machine.clone();
        async move { c.list_executions().state_machine_arn(m).send().await.expect("a list").executions }
    };
    let started = eventually("the missed fire to start", || {
        let c = c.clone();
        let list = &list;
        async move { Some(list(c).await).filter(|e| !e.is_empty()) }
    })
    .await;
    let when = chrono::DateTime::from_timestamp(first_s as i64, 0).expect("a time").format("%Y%m%dT%H%M%SZ");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].name, format!("hourly-{when}"));
    // Killed again right away and restarted: the fire is not started twice.
    let server = Server::start(&server.kill9());
    let c = server.client();
    let after = list(c).await;
    assert_eq!(after.len(), 1, "{after:?}");
}

/// An SQS target: each fire sends the target's `Input` to the queue, through
/// the server's SQS integration (a real LocalStack).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_sends_its_input_to_an_sqs_queue() {
    let ls = LocalStack::start("sched-sqs");
    let sqs = aws_sdk_sqs::Client::new(&ls.sdk_config().await);
    let queue = sqs.create_queue().queue_name("ticks").send().await.expect("a queue").queue_url.expect("a URL");
    let server = Server::start_with(&temp_dir("sched-sqs"), &["--aws-endpoint", &ls.endpoint]);
    let target = r#"{"Arn":"arn:aws:sqs:us-east-1:000000000000:ticks","RoleArn":"arn:aws:iam::123456789012:role/r","Input":"{\"tick\":1}"}"#;
    aws(
        &server.endpoint,
        &[
            "scheduler",
            "create-schedule",
            "--name",
            "to-sqs",
            "--schedule-expression",
            "rate(1 hour)",
            "--flexible-time-window",
            "Mode=OFF",
            "--target",
            target,
        ],
    );
    let msg = eventually("the fire's message", || async {
        let r = sqs.receive_message().queue_url(&queue).wait_time_seconds(1).send().await.expect("a receive");
        r.messages.and_then(|m| m.into_iter().next())
    })
    .await;
    assert_eq!(msg.body.as_deref(), Some(r#"{"tick":1}"#));

    // A fire its target refuses, with no retries left, goes to the dead-letter
    // queue: the target's input, with EventBridge's attributes saying why.
    let dlq = sqs.create_queue().queue_name("dead").send().await.expect("a queue").queue_url.expect("a URL");
    let c = server.client();
    let gone = create_machine(&c, "gone", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    let target = json!({"Arn": gone, "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": "{\"n\":7}",
        "RetryPolicy": {"MaximumRetryAttempts": 0}, "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dead"}});
    aws(
        &server.endpoint,
        &[
            "scheduler",
            "create-schedule",
            "--name",
            "doomed",
            "--schedule-expression",
            "rate(1 hour)",
            "--start-date",
            &(now_s() + 2).to_string(),
            "--flexible-time-window",
            "Mode=OFF",
            "--target",
            &target.to_string(),
        ],
    );
    c.delete_state_machine().state_machine_arn(&gone).send().await.expect("deleted");
    let dead = eventually("the dead-letter event", || async {
        let r = sqs.receive_message().queue_url(&dlq).message_attribute_names("All").wait_time_seconds(1).send().await;
        r.expect("a receive").messages.and_then(|m| m.into_iter().next())
    })
    .await;
    assert_eq!(dead.body.as_deref(), Some(r#"{"n":7}"#));
    let attrs = dead.message_attributes.expect("attributes");
    let attr = |k: &str| attrs.get(k).and_then(|v| v.string_value.clone()).unwrap_or_default();
    assert_eq!(attr("ERROR_CODE"), "StateMachineDoesNotExist");
    assert_eq!(attr("EXHAUSTED_RETRY_CONDITION"), "MaximumRetryAttemptsExhausted");
    assert!(attr("SCHEDULE_ARN").ends_with(":schedule/default/doomed"));
}
