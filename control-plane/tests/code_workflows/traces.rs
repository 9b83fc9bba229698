//! A code workflow's trace: the run under one execution span, its workflow
//! tasks and activities as spans, and the activity handed the trace context.

use serde_json::json;
use stepwise_sdk::client::Client;

use crate::common::otlp::{env, named, receiver};
use crate::common::{Server, eventually, temp_dir};
use crate::workflows::Calls;
use crate::{RESULT_WAIT, with_worker};

#[tokio::test]
async fn a_code_run_is_a_trace_its_activity_can_continue() {
    let (otlp, received) = receiver();
    let server = Server::start_env(&temp_dir("code-traces"), &[], &env(&otlp));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("traced", "shop").await.unwrap();
    let handed = with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&machine, "t1", &json!(0)).await.unwrap();
        let r = client.result(&arn, RESULT_WAIT).await.unwrap().expect("closed");
        r.expect("it succeeded")
    })
    .await;
    let handed = handed.as_str().expect("the activity was handed a traceparent").to_string();
    let spans = eventually("the run's trace", || {
        let received = received.clone();
        async move {
            let spans = received.lock().expect("the receiver lives").spans.clone();
            spans.iter().any(|s| s["name"] == "execution traced").then_some(spans)
        }
    })
    .await;
    let root = named(&spans, "execution traced");
    let activity = named(&spans, "activity trace_context");
    assert_eq!(activity["parentSpanId"], root["spanId"]);
    assert_eq!(named(&spans, "workflow task")["parentSpanId"], root["spanId"]);
    let expected =
        format!("00-{}-{}-01", root["traceId"].as_str().expect("hex"), root["spanId"].as_str().expect("hex"));
    assert_eq!(handed, expected, "the activity continues the run's trace");
}
