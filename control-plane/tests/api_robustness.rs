//! Malformed, mistyped and oversized requests get a 4xx in AWS's error
//! shape: never a 500, never a dropped connection.

mod common;

use common::{Server, temp_dir};
use serde_json::{Value, json};

use common::raw_post as post;

const FIELDS: [&str; 35] = [
    "stateMachineArn",
    "executionArn",
    "activityArn",
    "name",
    "definition",
    "roleArn",
    "input",
    "output",
    "taskToken",
    "maxResults",
    "nextToken",
    "type",
    "tags",
    "routingConfiguration",
    "stateMachineAliasArn",
    "stateMachineVersionArn",
    "resourceArn",
    "tagKeys",
    "error",
    "cause",
    "reverseOrder",
    "includeExecutionData",
    "statusFilter",
    "publish",
    "revisionId",
    "description",
    // Stepwise's operations for code workflows (none of these values names a
    // real task queue, so no poll waits).
    "taskQueue",
    "workerName",
    "signalName",
    "queryName",
    "updateName",
    "queryId",
    "message",
    "commands",
    "timeMs",
];

/// Every field with a well-formed value (names no existing resource, so
/// nothing long-polls).
fn base() -> Value {
    let p = "arn:aws:states:us-east-1:123456789012";
    json!({
        "stateMachineArn": format!("{p}:stateMachine:m"),
        "executionArn": format!("{p}:execution:m:e"),
        "activityArn": format!("{p}:activity:a"),
        "name": "n",
        "definition": r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "input": "{}",
        "output": "{}",
        "taskToken": "0".repeat(48),
        "maxResults": 10,
        "nextToken": "QQ",
        "type": "STANDARD",
        "tags": [{"key": "k", "value": "v"}],
        "routingConfiguration": [{"stateMachineVersionArn": format!("{p}:stateMachine:m:1"), "weight": 100}],
        "stateMachineAliasArn": format!("{p}:stateMachine:m:prod"),
        "stateMachineVersionArn": format!("{p}:stateMachine:m:1"),
        "resourceArn": format!("{p}:stateMachine:m"),
        "tagKeys": ["k"],
        "error": "E",
        "cause": "C",
        "reverseOrder": false,
        "includeExecutionData": true,
        "statusFilter": "RUNNING",
        "publish": false,
        "revisionId": "r",
        "description": "d",
    })
}

#[test]
fn bad_requests_are_client_errors() {
    let server = Server::start(&temp_dir("robust"));
    let ep = &server.endpoint;
    let (st, b) = post(ep, None, b"{}");
    assert_eq!((st, b["__type"].as_str()), (400, Some("UnknownOperationException")));
    let (st, b) = post(ep, Some("AWSStepFunctions.Nope"), b"{}");
    assert_eq!((st, b["__type"].as_str()), (400, Some("UnknownOperationException")));
    let (st, b) = post(ep, Some("AWSStepFunctions.ListStateMachines"), b"{not json");
    assert_eq!((st, b["__type"].as_str()), (400, Some("SerializationException")));
    let (st, _) = post(ep, Some("AWSStepFunctions.ListStateMachines"), &vec![b' '; 5 * 1024 * 1024]);
    assert_eq!(st, 413);

    let bad_values = [
        json!(5),
        json!(-1),
        json!(1e300),
        json!({"a": [1]}),
        json!([null]),
        json!(true),
        json!(""),
        json!("arn:aws:states:us-east-1:123456789012:stateMachine:"),
        json!("x".repeat(70_000)),
        json!("\u{0}\u{7f}"),
    ];
    let mut checked = 0;
    let aws = stepwise_control_plane::api::OPERATIONS.map(|(op, _)| op);
    for op in aws.iter().chain(stepwise_control_plane::api::STEPWISE_OPERATIONS.iter()) {
        let target = format!("AWSStepFunctions.{op}");
        for body in [json!({}), json!([]), json!("s"), json!(null)] {
            let (st, b) = post(ep, Some(&target), body.to_string().as_bytes());
            assert!((200..500).contains(&st), "{op} {body}: {st}");
            assert!(st == 200 || b["__type"].is_string(), "{op} {body}: {b}");
            checked += 1;
        }
        for field in FIELDS {
            for v in &bad_values {
                // A plausible request with one field spoiled, so checks past the first are reached.
                let mut body = base();
                body[field] = v.clone();
                let (st, b) = post(ep, Some(&target), body.to_string().as_bytes());
                assert!((200..500).contains(&st), "{op} {body}: {st} {b}");
                assert!(st == 200 || b["__type"].is_string(), "{op} {body}: {b}");
                checked += 1;
            }
        }
    }
    assert!(checked > 9000);
}
