//! The `stepwise executions` verbs for code workflows: signal, query,
//! update and cancel, against a server with a worker.

use serde_json::{Value, json};
use stepwise_sdk::client::Client;

use crate::common::{Server, temp_dir};
use crate::workflows::Calls;
use crate::{RESULT_WAIT, with_worker};

/// Runs the CLI without blocking the worker that shares this thread.
async fn stepwise(endpoint: &str, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(args)
        .arg("--json")
        .env("STEPWISE_ENDPOINT", endpoint)
        .output()
        .await
        .expect("the binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn ok(endpoint: &str, args: &[&str]) -> Value {
    let (success, text) = stepwise(endpoint, args).await;
    assert!(success, "{args:?}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_cli_signals_queries_updates_and_cancels() {
    let server = Server::start(&temp_dir("code-cli"));
    let e = server.endpoint.clone();
    let client = Client::new(&e);
    client.register_workflow_type("approval", "shop").await.unwrap();
    with_worker(&e, &Calls::default(), async {
        let started = ok(&e, &["executions", "start", "approval", "--name", "c1", "--input", r#"{"limit":100}"#]).await;
        let arn = started["executionArn"].as_str().expect("an ARN").to_string();
        crate::common::eventually("the query handler", || async {
            let (success, text) = stepwise(&e, &["executions", "query", &arn, "status"]).await;
            (success && text.contains("waiting")).then_some(())
        })
        .await;
        let (refused, why) = stepwise(&e, &["executions", "update", &arn, "raise", "--input", "1000"]).await;
        assert!(!refused && why.contains("UpdateRejected"), "{why}");
        assert_eq!(ok(&e, &["executions", "update", &arn, "raise", "--input", "150"]).await["output"], json!(150));
        ok(&e, &["executions", "signal", &arn, "approve", "--input", r#""ada""#]).await;
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r, Ok(json!({"approved_by": "ada", "limit": 150})));

        let started = ok(&e, &["executions", "start", "approval", "--name", "c2", "--input", r#"{"limit":1}"#]).await;
        let arn = started["executionArn"].as_str().expect("an ARN").to_string();
        ok(&e, &["executions", "cancel", &arn]).await;
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        assert_eq!(r.unwrap_err().error, "Cancelled");
    })
    .await;
    // The workflow tasks' own timings, by task queue (issue 16's code workflow metrics).
    let (_, _, metrics) = crate::common::raw::raw_get(&e, "/metrics");
    for name in ["stepwise_workflow_task_schedule_to_start_seconds", "stepwise_workflow_task_execution_seconds"] {
        let count = format!("{name}_count{{task_queue=\"shop\"}} ");
        let n: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(count.as_str()).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {count} in the scrape"));
        assert!(n >= 2.0, "{name}: {n} workflow tasks");
    }
}
