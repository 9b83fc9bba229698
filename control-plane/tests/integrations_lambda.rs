//! Lambda task integrations through aws-sdk-lambda against cargo-lambda's
//! local Lambda, running a real lambda_runtime function.

mod common;

use aws_sdk_sfn::types::ExecutionStatus;
use common::{LocalLambda, Server, create_machine, finished, temp_dir};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_invoke_and_function_arns() {
    let lambda = LocalLambda::start();
    let server = Server::start_with(&temp_dir("lambda"), &["--lambda-endpoint", &lambda.endpoint]);
    let c = server.client();
    let out = |d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput| -> Value {
        serde_json::from_str(d.output.as_deref().unwrap_or("null")).expect("JSON output")
    };

    let invoke = r#"{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"_","Payload":{"x.$":"$.x"}},"End":true}}}"#;
    let m = create_machine(&c, "invoke", invoke).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"x":1}"#).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?} {:?}", d.error, d.cause);
    let o = out(&d);
    assert_eq!(o["Payload"], json!({"x": 1}));
    assert_eq!(o["StatusCode"], 200);
    assert!(o["ExecutedVersion"].is_string() && o["SdkResponseMetadata"]["RequestId"].is_string());

    // A bare function ARN: the input is the event and the result the output.
    let bare = r#"{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:_","End":true}}}"#;
    let m = create_machine(&c, "bare", bare).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"y":[1,2]}"#).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#"{"y":[1,2]}"#));

    // A function error is named by the function's error type; Catch sees it.
    let failing = r#"{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"_","Payload.$":"$"},
        "Catch":[{"ErrorEquals":["Boom"],"ResultPath":"$.caught","Next":"Done"}],"End":true},"Done":{"Type":"Pass","End":true}}}"#;
    let m = create_machine(&c, "failing", failing).await;
    let s = c
        .start_execution()
        .state_machine_arn(&m)
        .input(r#"{"fail":{"type":"Boom","message":"it broke"}}"#)
        .send()
        .await
        .unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?} {:?}", d.error, d.cause);
    let o = out(&d);
    assert_eq!(o["caught"]["Error"], "Boom");
    let cause: Value = serde_json::from_str(o["caught"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["errorMessage"], "it broke");
    assert_eq!(cause["errorType"], "Boom");

    // TestState calls the function when no mock is given, as AWS does.
    let state = r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"_","Payload.$":"$"},"ResultSelector":{"echo.$":"$.Payload"},"End":true}"#;
    let t = c
        .test_state()
        .definition(state)
        .role_arn("arn:aws:iam::123456789012:role/test")
        .input(r#"{"hi":1}"#)
        .inspection_level(aws_sdk_sfn::types::InspectionLevel::Debug)
        .send()
        .await
        .unwrap();
    assert_eq!(t.status, Some(aws_sdk_sfn::types::TestExecutionStatus::Succeeded));
    assert_eq!(t.output.as_deref(), Some(r#"{"echo":{"hi":1}}"#));
    let data = t.inspection_data.unwrap();
    assert_eq!(data.after_parameters.as_deref(), Some(r#"{"FunctionName":"_","Payload":{"hi":1}}"#));
}
