//! AwaitExecution: DescribeExecution's answer when the execution closes, a
//! long poll that a close answers at once.

// What a client waits is real time.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stepwise_sdk::Error as SdkError;
use stepwise_sdk::client::Client;

use super::common::{Server, create_machine, temp_dir};

const ACTIVITY_TASK: &str = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"ACT","End":true}}}"#;

fn service_error(r: Result<Value, SdkError>) -> String {
    match r {
        Err(SdkError::Service { kind, .. }) => kind,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn await_answers_at_the_close_and_after_its_wait() {
    let server = Server::start(&temp_dir("exec-await"));
    let c = server.client();
    let raw = Client::new(&server.endpoint);
    let act = c.create_activity().name("work").send().await.expect("CreateActivity").activity_arn;
    let m = create_machine(&c, "awaited", &ACTIVITY_TASK.replace("ACT", &act)).await;
    let arn =
        c.start_execution().state_machine_arn(&m).name("a1").input("{}").send().await.expect("start").execution_arn;

    // Still running at the end of its wait: the running execution, after about the wait.
    let t0 = Instant::now();
    let d = raw.call("AwaitExecution", json!({"executionArn": arn, "waitSeconds": 1})).await.expect("await");
    assert_eq!(d["status"], "RUNNING");
    assert!(t0.elapsed() >= Duration::from_millis(900), "it waited {:?}", t0.elapsed());
    // waitSeconds 0 is DescribeExecution.
    let d = raw.call("AwaitExecution", json!({"executionArn": arn, "waitSeconds": 0})).await.expect("await 0");
    assert_eq!(d["status"], "RUNNING");

    // A long wait, answered by the close (a worker answers the task meanwhile).
    let waiting = {
        let (raw, arn) = (raw.clone(), arn.clone());
        tokio::spawn(async move {
            let t0 = Instant::now();
            (raw.call("AwaitExecution", json!({"executionArn": arn, "waitSeconds": 60})).await, t0.elapsed())
        })
    };
    let task = c.get_activity_task().activity_arn(&act).send().await.expect("GetActivityTask");
    let token = task.task_token.expect("a task");
    c.send_task_success().task_token(token).output(r#"{"done":true}"#).send().await.expect("SendTaskSuccess");
    let (d, took) = waiting.await.expect("the waiting task");
    let d = d.expect("await");
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"done":true}"#);
    assert_eq!(d["executionArn"], arn.as_str());
    assert!(took < Duration::from_secs(30), "answered at the close, not at the end of the wait: {took:?}");
    // A closed execution is answered at once.
    let t0 = Instant::now();
    let d = raw.call("AwaitExecution", json!({"executionArn": arn})).await.expect("await closed");
    assert_eq!(d["status"], "SUCCEEDED");
    assert!(t0.elapsed() < Duration::from_secs(5));
    // The SDK's result() waits with it.
    let result = raw.result(&arn, Duration::from_secs(5)).await.expect("result");
    assert_eq!(result.expect("closed").expect("succeeded"), json!({"done": true}));
}

#[tokio::test]
async fn await_checks_its_input() {
    let server = Server::start(&temp_dir("exec-await-bad"));
    let raw = Client::new(&server.endpoint);
    let missing = "arn:aws:states:us-east-1:123456789012:execution:nope:e";
    let cases = [
        (json!({"executionArn": missing}), "ExecutionDoesNotExist"),
        (json!({"executionArn": missing, "waitSeconds": 61}), "ValidationException"),
        (json!({"executionArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}), "InvalidArn"),
        (json!({"waitSeconds": 1}), "ValidationException"),
    ];
    for (body, expected) in cases {
        assert_eq!(service_error(raw.call("AwaitExecution", body.clone()).await), expected, "{body}");
    }
}
