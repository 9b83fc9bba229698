//! ARNs of another partition, region or account are not served as local
//! resources, and pagination tokens that were never issued are refused.

use serde_json::json;

use crate::call;
use crate::common::{Server, temp_dir};

const LOCAL: &str = "arn:aws:states:us-east-1:123456789012";

#[test]
fn foreign_arns_are_answered_as_missing_in_every_operation() {
    let s = Server::start(&temp_dir("foreign-arns"));
    let e = &s.endpoint;
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}}).to_string();
    let role = "arn:aws:iam::123456789012:role/r";
    assert_eq!(call(e, "CreateStateMachine", json!({"name": "m", "definition": def, "roleArn": role})).0, 200);
    assert_eq!(call(e, "CreateActivity", json!({"name": "a"})).0, 200);
    let started = call(e, "StartExecution", json!({"stateMachineArn": format!("{LOCAL}:stateMachine:m"), "name": "x"}));
    assert_eq!(started.0, 200, "{:?}", started.1);
    let foreign = [
        "arn:aws:states:eu-west-1:123456789012",
        "arn:aws:states:us-east-1:999999999999",
        "arn:aws-cn:states:us-east-1:123456789012",
    ];
    for prefix in foreign {
        let machine = format!("{prefix}:stateMachine:m");
        let execution = format!("{prefix}:execution:m:x");
        let activity = format!("{prefix}:activity:a");
        let cases = [
            ("DescribeStateMachine", json!({"stateMachineArn": machine}), "StateMachineDoesNotExist"),
            ("StartExecution", json!({"stateMachineArn": machine}), "StateMachineDoesNotExist"),
            ("ListExecutions", json!({"stateMachineArn": machine}), "StateMachineDoesNotExist"),
            ("UpdateStateMachine", json!({"stateMachineArn": machine, "definition": def}), "StateMachineDoesNotExist"),
            ("DeleteStateMachine", json!({"stateMachineArn": machine}), "StateMachineDoesNotExist"),
            ("DescribeExecution", json!({"executionArn": execution}), "ExecutionDoesNotExist"),
            ("StopExecution", json!({"executionArn": execution}), "ExecutionDoesNotExist"),
            ("GetExecutionHistory", json!({"executionArn": execution}), "ExecutionDoesNotExist"),
            ("DescribeStateMachineForExecution", json!({"executionArn": execution}), "ExecutionDoesNotExist"),
            ("DescribeActivity", json!({"activityArn": activity}), "ActivityDoesNotExist"),
            ("DeleteActivity", json!({"activityArn": activity}), "ActivityDoesNotExist"),
            ("ListTagsForResource", json!({"resourceArn": machine}), "ResourceNotFound"),
        ];
        for (op, body, want) in cases {
            let (status, out) = call(e, op, body);
            assert_eq!((status, out["__type"].as_str()), (400, Some(want)), "{op} {prefix}: {out}");
        }
    }
    // Nothing local was touched: the machine, its execution and the activity are all there.
    let d = call(e, "DescribeExecution", json!({"executionArn": format!("{LOCAL}:execution:m:x")}));
    assert_eq!(d.1["status"], "RUNNING");
    assert_eq!(call(e, "DescribeActivity", json!({"activityArn": format!("{LOCAL}:activity:a")})).0, 200);
    // A malformed ARN is still InvalidArn.
    let bad = call(e, "DescribeStateMachine", json!({"stateMachineArn": "arn:aws:states:us-east-1"}));
    assert_eq!(bad.1["__type"], "InvalidArn");
}

#[test]
fn pagination_tokens_are_bound_to_what_issued_them() {
    let s = Server::start(&temp_dir("tokens"));
    let e = &s.endpoint;
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string();
    let role = "arn:aws:iam::123456789012:role/r";
    for i in 0..3 {
        call(e, "CreateStateMachine", json!({"name": format!("m{i}"), "definition": def, "roleArn": role}));
        call(e, "CreateActivity", json!({"name": format!("a{i}")}));
    }
    let machine = format!("{LOCAL}:stateMachine:m0");
    for i in 0..3 {
        call(e, "StartExecution", json!({"stateMachineArn": machine, "name": format!("x{i}")}));
    }
    let execution = format!("{LOCAL}:execution:m0:x0");
    let ops = [
        ("ListStateMachines", json!({})),
        ("ListActivities", json!({})),
        ("ListExecutions", json!({"stateMachineArn": machine})),
        ("ListStateMachineVersions", json!({"stateMachineArn": machine})),
        ("GetExecutionHistory", json!({"executionArn": execution})),
    ];
    for (op, body) in &ops {
        for forged in ["AAAAAAAAAAAAAAAAAAAA", "bogus", "MQ.AAAAAAAAAAAAAAAAAAAAAA"] {
            let mut b = body.clone();
            b["nextToken"] = json!(forged);
            let (status, out) = call(e, op, b);
            assert_eq!((status, out["__type"].as_str()), (400, Some("InvalidToken")), "{op} {forged}: {out}");
        }
    }
    // A real token pages on; it is refused by another operation and under other filters.
    let first = call(e, "ListStateMachines", json!({"maxResults": 1}));
    let token = first.1["nextToken"].as_str().expect("a second page").to_string();
    assert_eq!(call(e, "ListStateMachines", json!({"maxResults": 1, "nextToken": token})).0, 200);
    assert_eq!(call(e, "ListActivities", json!({"nextToken": token})).1["__type"], "InvalidToken");
    let page = call(e, "ListExecutions", json!({"stateMachineArn": machine, "maxResults": 1}));
    let token = page.1["nextToken"].as_str().expect("a second page").to_string();
    let ok = call(e, "ListExecutions", json!({"stateMachineArn": machine, "maxResults": 2, "nextToken": token}));
    assert_eq!(ok.0, 200, "maxResults may change between pages");
    let other = json!({"stateMachineArn": machine, "statusFilter": "FAILED", "nextToken": token});
    assert_eq!(call(e, "ListExecutions", other).1["__type"], "InvalidToken");
}
