//! SQS and DynamoDB task integrations against a real LocalStack.

mod common;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sfn::types::ExecutionStatus;
use common::{LocalStack, Server, create_machine, finished, temp_dir};
use serde_json::{Value, json};

fn output(d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    serde_json::from_str(d.output.as_deref().unwrap_or("null")).expect("output is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_and_dynamodb_tasks() {
    let ls = LocalStack::start("integrations");
    let conf = ls.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let server = Server::start_with(&temp_dir("integrations"), &["--aws-endpoint", &ls.endpoint]);
    let c = server.client();

    // SQS sendMessage: the message arrives; the output has AWS's fields.
    let queue = sqs.create_queue().queue_name("work").send().await.unwrap().queue_url.unwrap();
    let send = r#"{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl.$":"$.q","MessageBody":{"hello.$":"$.who"}},"End":true}}}"#;
    let m = create_machine(&c, "send", send).await;
    let s = c
        .start_execution()
        .state_machine_arn(&m)
        .input(json!({"q": queue, "who": "sqs"}).to_string())
        .send()
        .await
        .unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{d:?}");
    let out = output(&d);
    assert!(out["MessageId"].is_string() && out["MD5OfMessageBody"].is_string(), "{out}");
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);
    let got = sqs.receive_message().queue_url(&queue).wait_time_seconds(5).send().await.unwrap();
    assert_eq!(got.messages.unwrap()[0].body.as_deref(), Some(r#"{"hello":"sqs"}"#));

    // sendMessage.waitForTaskToken: a consumer answers with the token it received.
    let wait = r#"{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","Parameters":{"QueueUrl.$":"$.q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}"#;
    let m = create_machine(&c, "wait", wait).await;
    let s = c.start_execution().state_machine_arn(&m).input(json!({"q": queue}).to_string()).send().await.unwrap();
    let msg = common::eventually("the callback message", || async {
        let r = sqs.receive_message().queue_url(&queue).wait_time_seconds(1).send().await.unwrap();
        r.messages.and_then(|m| m.into_iter().next())
    })
    .await;
    let body: Value = serde_json::from_str(msg.body.as_deref().unwrap()).unwrap();
    c.send_task_success().task_token(body["token"].as_str().unwrap()).output(r#"{"done":1}"#).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#"{"done":1}"#));

    // DynamoDB put, update, get, delete, and errors that Catch sees by AWS's names.
    ddb.create_table()
        .table_name("items")
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let crud = r#"{"StartAt":"Put","States":{
      "Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"items","Item":{"id":{"S":"a"},"n":{"N":"1"},"tags":{"SS":["x","y"]}}},"ResultPath":"$.put","Next":"Again"},
      "Again":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"items","Item":{"id":{"S":"a"}},"ConditionExpression":"attribute_not_exists(id)"},
        "Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"ResultPath":"$.conflict","Next":"Update"}],"Next":"Update"},
      "Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","Parameters":{"TableName":"items","Key":{"id":{"S":"a"}},"UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":{"N":"1"}},"ReturnValues":"UPDATED_NEW"},"ResultSelector":{"n.$":"$.Attributes.n.N"},"ResultPath":"$.update","Next":"Get"},
      "Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:getItem","Parameters":{"TableName":"items","Key":{"id":{"S":"a"}}},"ResultPath":"$.get","Next":"Delete"},
      "Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem","Parameters":{"TableName":"items","Key":{"id":{"S":"a"}}},"ResultSelector":{"ok":true},"ResultPath":"$.delete","Next":"Missing"},
      "Missing":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"nope","Key":{"id":{"S":"a"}}},"End":true}}}"#;
    let m = create_machine(&c, "crud", crud).await;
    let s = c.start_execution().state_machine_arn(&m).input("{}").send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("DynamoDB.ResourceNotFoundException"));
    assert!(
        d.cause
            .as_deref()
            .unwrap()
            .contains("(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ResourceNotFoundException;")
    );
    let h = c.get_execution_history().execution_arn(&s.execution_arn).max_results(1000).send().await.unwrap();
    let exited: Vec<Value> = h
        .events
        .iter()
        .filter_map(|e| e.state_exited_event_details.as_ref())
        .filter(|x| x.name == "Get")
        .map(|x| serde_json::from_str(x.output.as_deref().unwrap()).unwrap())
        .collect();
    let state = &exited[0];
    assert_eq!(state["conflict"]["Error"], "DynamoDB.ConditionalCheckFailedException");
    assert_eq!(state["update"], json!({"n": "2"}));
    assert_eq!(
        state["get"],
        json!({"Item": {"id": {"S": "a"}, "n": {"N": "2"}, "tags": {"SS": ["x", "y"]}}}),
        "aws-sdk form: no SDK metadata"
    );
    assert!(state["put"]["SdkResponseMetadata"]["RequestId"].is_string());
    let left = ddb.get_item().table_name("items").key("id", AttributeValue::S("a".into())).send().await.unwrap();
    assert!(left.item.is_none(), "deleted");
}
