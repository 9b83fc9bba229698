//! The Lambda handlers (`executors/` binaries are shims over them), driven
//! with the events Lambda delivers, over an in-process engine.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};
use stepwise_control_plane::engine::Engine;
use stepwise_control_plane::handlers;
use stepwise_control_plane::server::{Backend, EngineConfig, open};

fn data_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("stepwise-handlers-{name}-{}", std::process::id()))
}

async fn engine(name: &str) -> Arc<Engine> {
    let dir = data_dir(name);
    let _ = std::fs::remove_dir_all(&dir);
    let opts = EngineConfig {
        backend: Backend::Embedded { data_dir: dir },
        scope: Default::default(),
        aws_endpoint: None,
        lambda_endpoint: None,
        auth: Default::default(),
        eval_threads: None,
        eval_queue_max: stepwise_control_plane::engine::compute::COMPUTE_QUEUE_MAX_DEFAULT,
        map_children_running_max: stepwise_control_plane::engine::MAP_CHILDREN_RUNNING_MAX_DEFAULT,
    };
    open(&opts).await.expect("an engine on a fresh store")
}

/// A function URL event as Lambda delivers it.
fn url_event(op: &str, body: &Value, base64: bool) -> Value {
    let text = body.to_string();
    json!({
        "version": "2.0",
        "rawPath": "/",
        "headers": {"x-amz-target": format!("AWSStepFunctions.{op}"), "content-type": "application/x-amz-json-1.0"},
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": if base64 { base64::engine::general_purpose::STANDARD.encode(&text) } else { text },
        "isBase64Encoded": base64,
    })
}

fn body(resp: &Value) -> Value {
    serde_json::from_str(resp["body"].as_str().expect("a body")).expect("a JSON body")
}

#[tokio::test]
async fn api_events_reach_the_router() {
    let e = engine("api").await;
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let create = json!({"name": "m", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"});
    let r = handlers::api(e.clone(), url_event("CreateStateMachine", &create, true)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let arn = body(&r)["stateMachineArn"].as_str().unwrap().to_string();
    let r = handlers::api(
        e.clone(),
        url_event("StartExecution", &json!({"stateMachineArn": arn, "input": "{\"a\":1}"}), false),
    )
    .await;
    let exec = body(&r)["executionArn"].as_str().unwrap().to_string();
    let r = handlers::api(e.clone(), url_event("DescribeExecution", &json!({"executionArn": exec}), false)).await;
    assert_eq!(body(&r)["output"], "{\"a\":1}");
    let r =
        handlers::api(e.clone(), url_event("DescribeStateMachine", &json!({"stateMachineArn": "nope"}), false)).await;
    assert_eq!(r["statusCode"], 400);
    assert_eq!(r["headers"]["x-amzn-errortype"], "InvalidArn");
    let r = handlers::api(e, json!({"headers": {}, "body": "{}"})).await;
    assert_eq!(body(&r)["__type"], "UnknownOperationException");
}

#[tokio::test]
async fn scheduler_batches_report_only_their_failures() {
    let e = engine("scheduler").await;
    // A wake-up for an execution that does not exist is a harmless no-op; an
    // unreadable message is dropped; a wake-up whose record is corrupt (with an
    // answer waiting in its inbox, so the step must read the record) fails and
    // is reported, so SQS delivers only it again.
    use stepwise_control_plane::model::{InboxEntry, keys};
    use stepwise_control_plane::store::{Condition, Write};
    let arn = "arn:aws:states:us-east-1:123456789012:execution:m:broken";
    let record = Write::put(keys::execution(arn), b"\0\0\0\x01not json".to_vec(), Condition::None);
    let entry = stepwise_control_plane::engine::encode(&InboxEntry::Heartbeat);
    let inbox = Write::put(keys::inbox(arn, 1, "2h"), entry, Condition::None);
    // Written beside the engine, as a damaged store would hold it: only the engine's steps write records.
    let beside =
        stepwise_control_plane::store::sqlite::Sqlite::open(&data_dir("scheduler").join("stepwise.db")).unwrap();
    stepwise_control_plane::store::Store::transact(&beside, vec![record, inbox], Vec::new()).await.unwrap();
    let event = json!({"Records": [
        {"messageId": "a", "body": json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:none"}).to_string()},
        {"messageId": "b", "body": "not a message"},
        {"messageId": "c", "body": json!({"executionArn": arn}).to_string()},
        {"messageId": "d", "body": json!({"tokenHash": "00"}).to_string()},
    ]});
    let r = handlers::scheduler(e.clone(), event).await;
    assert_eq!(r, json!({"batchItemFailures": [{"itemIdentifier": "c"}]}));
    let r = handlers::sweeper(e, json!({"source": "aws.events"})).await;
    assert_eq!(r["resent"], 0);
}

/// Schedulers racing on one execution: optimistic concurrency lets exactly one
/// apply the task's result; the others find nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_schedulers_apply_a_result_once() {
    use stepwise_control_plane::api::call;
    let e = engine("race").await;
    let act =
        call(&e, "CreateActivity", json!({"name": "a"})).await.unwrap()["activityArn"].as_str().unwrap().to_string();
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","Next":"D"}},"D":{{"Type":"Pass","End":true}}}}}}"#
    );
    let m = call(&e, "CreateStateMachine", json!({"name": "m", "definition": def, "roleArn": "arn:aws:iam::1:role/r"}))
        .await
        .unwrap();
    let s = call(&e, "StartExecution", json!({"stateMachineArn": m["stateMachineArn"]})).await.unwrap();
    let arn = s["executionArn"].as_str().unwrap().to_string();
    let t = call(&e, "GetActivityTask", json!({"activityArn": act})).await.unwrap();
    call(&e, "SendTaskSuccess", json!({"taskToken": t["taskToken"], "output": "{}"})).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (e, arn) = (e.clone(), arn.clone());
            tokio::spawn(async move { e.advance(&arn, None, &[]).await.map(|_| ()) })
        })
        .collect();
    for r in racers {
        r.await.unwrap().unwrap();
    }
    let h = call(&e, "GetExecutionHistory", json!({"executionArn": arn, "maxResults": 1000})).await.unwrap();
    let types: Vec<&str> = h["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.iter().filter(|t| **t == "ActivitySucceeded").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "PassStateEntered").count(), 1, "{types:?}");
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
}

#[tokio::test]
async fn the_function_url_serves_the_console() {
    let e = engine("console").await;
    let get = |path: &str| json!({"version": "2.0", "rawPath": path, "headers": {}, "requestContext": {"http": {"method": "GET", "path": path}}, "isBase64Encoded": false});
    let page = handlers::api(e.clone(), get("/")).await;
    assert_eq!(page["statusCode"], 200, "{page}");
    assert_eq!(page["headers"]["content-type"], "text/html; charset=utf-8");
    let policy = page["headers"]["content-security-policy"].as_str().expect("a security policy");
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
    assert!(page["body"].as_str().expect("the page").contains("/console/app.js"));
    let module = handlers::api(e.clone(), get("/console/app.js")).await;
    assert_eq!(module["headers"]["content-type"], "text/javascript; charset=utf-8");
    // The console learns where to sign from here.
    let health = handlers::api(e, get("/healthz")).await;
    assert_eq!(body(&health)["auth"], "none");
    assert_eq!(body(&health)["region"], "us-east-1");
}
