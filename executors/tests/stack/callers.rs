//! Other Lambdas calling Stepwise: the example `caller` function, invoked
//! through the Lambda Invoke API, starts executions with aws-sdk-sfn (signed
//! with SigV4) and waits for their results; and the api refuses what a
//! signature does not vouch for.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::Credentials;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use serde_json::{Value, json};

use super::{STACK_KEY, Stack};

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

async fn invoke_caller(stack: &Stack, event: Value) -> Value {
    let r = stack
        .lambda()
        .invoke()
        .function_name("caller")
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .expect("Invoke caller");
    let body = String::from_utf8_lossy(r.payload().map(|b| b.as_ref()).unwrap_or_default()).into_owned();
    assert!(r.function_error().is_none(), "caller failed: {body}");
    serde_json::from_str(&body).expect("caller answers JSON")
}

/// A succeeding and a failing workflow, each started and awaited by `caller`.
pub async fn caller(stack: &Stack, c: &Client) {
    let hello = r#"{"StartAt":"Greet","States":{"Greet":{"Type":"Pass",
        "Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"Next":"Pause"},
        "Pause":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let m = c.create_state_machine().name("called").definition(hello).role_arn(ROLE).send().await;
    let m = m.expect("CreateStateMachine").state_machine_arn;
    let r =
        invoke_caller(stack, json!({"stateMachineArn": m, "input": {"name": "Ada"}, "name": "from-a-lambda"})).await;
    assert_eq!(r["status"], "SUCCEEDED", "{r}\n{}", stack.log("caller"));
    assert_eq!(r["output"], json!({"greeting": "Hello, Ada!"}));
    assert!(r["executionArn"].as_str().unwrap_or_default().ends_with(":from-a-lambda"), "{r}");

    let fails = r#"{"StartAt":"No","States":{"No":{"Type":"Fail","Error":"Out.Of.Stock","Cause":"none left"}}}"#;
    let m = c.create_state_machine().name("called-fails").definition(fails).role_arn(ROLE).send().await;
    let m = m.expect("CreateStateMachine").state_machine_arn;
    let r = invoke_caller(stack, json!({"stateMachineArn": m})).await;
    assert_eq!((r["status"].as_str(), r["error"].as_str()), (Some("FAILED"), Some("Out.Of.Stock")), "{r}");
}

/// With keys configured, the api Lambda serves only requests signed with them.
pub async fn refusals(stack: &Stack) {
    let code = |c: Client| async move {
        let e = c.list_state_machines().send().await.expect_err("refused");
        e.code().unwrap_or_default().to_string()
    };
    let wrong_secret = stack.sfn_as(Credentials::new(STACK_KEY.0, "x".repeat(40), None, None, "t"));
    assert_eq!(code(wrong_secret).await, "InvalidSignatureException");
    let unknown = stack.sfn_as(Credentials::new("AKIANOBODYKNOWSTHIS1", STACK_KEY.1, None, None, "t"));
    assert_eq!(code(unknown).await, "UnrecognizedClientException");
}
