//! OTLP traces from a real server to a receiver in this test: one trace per
//! execution under the caller's `traceparent`, a span per state and per task
//! attempt, and a nested execution under its parent's span.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod common;

use common::otlp::{named, receiver};
use common::{Server, create_machine, eventually, finished, temp_dir};
use serde_json::{Value, json};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn an_execution_is_one_trace_with_its_states_tasks_and_child() {
    let (otlp, received) = receiver();
    let env = common::otlp::env(&otlp);
    let server = Server::start_env(&temp_dir("traces"), &["--lambda-endpoint", &otlp], &env);
    let c = server.client();
    let child =
        create_machine(&c, "child", r#"{"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": true}}}"#)
            .await;
    let activity = c.create_activity().name("review").send().await.expect("CreateActivity").activity_arn;
    let definition = json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child, "Name": "kid"}, "End": true}}},
        {"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": activity, "End": true}}},
        {"StartAt": "Invoke", "States": {"Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "traced", "Payload": {}}, "End": true}}}]}}});
    let parent = create_machine(&c, "parent", &definition.to_string()).await;
    let traceparent = format!("00-{TRACE}-{CALLER_SPAN}-01");
    let arn = c.start_execution().state_machine_arn(&parent).name("p1").trace_header(&traceparent).send().await;
    let arn = arn.expect("StartExecution").execution_arn;
    // The worker is handed the trace to continue: the execution's span as parent.
    let body = json!({"activityArn": activity, "workerName": "w"}).to_string();
    let (status, task) = common::raw_post(&server.endpoint, Some("AWSStepFunctions.GetActivityTask"), body.as_bytes());
    assert_eq!(status, 200, "{task}");
    let task_traceparent = task["traceparent"].as_str().expect("a traceparent for the worker").to_string();
    assert!(task_traceparent.starts_with(&format!("00-{TRACE}-")), "{task_traceparent}");
    let token = task["taskToken"].as_str().expect("a token");
    c.send_task_success().task_token(token).output("{}").send().await.expect("SendTaskSuccess");
    finished(&c, &arn).await;

    let spans = eventually("both executions' traces", || {
        let received = received.clone();
        async move {
            let spans = received.lock().expect("the receiver lives").spans.clone();
            let roots =
                spans.iter().filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("execution "))).count();
            (roots == 2 && spans.iter().any(|s| s["name"] == "state Both")).then_some(spans)
        }
    })
    .await;
    assert!(spans.iter().all(|s| s["traceId"] == TRACE), "one trace, the caller's: {spans:#?}");
    let root = named(&spans, "execution parent");
    assert_eq!(root["parentSpanId"], CALLER_SPAN, "the execution hangs from the caller's span");
    assert_eq!(task_traceparent, format!("00-{TRACE}-{}-01", root["spanId"].as_str().expect("an id")));
    let both = named(&spans, "state Both");
    assert_eq!(both["parentSpanId"], root["spanId"]);
    let (call, ask) = (named(&spans, "state Call"), named(&spans, "state Ask"));
    assert_eq!(call["parentSpanId"], both["spanId"], "a branch's state is inside its Parallel");
    assert_eq!(ask["parentSpanId"], both["spanId"]);
    let attempt = named(&spans, "task activity:review");
    assert_eq!(named(&spans, "task states:startExecution.sync:2")["parentSpanId"], call["spanId"]);
    assert_eq!(attempt["parentSpanId"], ask["spanId"], "the activity attempt is inside its state");
    let kid = named(&spans, "execution child");
    assert_eq!(kid["parentSpanId"], root["spanId"], "the nested execution hangs from its parent's execution");
    assert_eq!(named(&spans, "state Inner")["parentSpanId"], kid["spanId"]);
    assert_eq!(named(&spans, "task lambda:invoke")["parentSpanId"], named(&spans, "state Invoke")["spanId"]);

    // The function is handed the trace: in its client context, and as X-Ray's header.
    let invocations = &received.lock().expect("the receiver lives").invocations;
    let headers = invocations.first().expect("the function was invoked");
    let header = |name: &str| {
        let prefix = format!("{name}:");
        headers
            .iter()
            .find_map(|h| h.to_ascii_lowercase().starts_with(&prefix).then(|| h[prefix.len()..].trim().to_string()))
    };
    let context = header("x-amz-client-context").expect("a client context");
    use base64::Engine as _;
    let context: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(context).expect("base64"))
            .expect("JSON");
    assert_eq!(context["custom"]["traceparent"], task_traceparent, "the same parent as the activity's worker");
    let xray = header("x-amzn-trace-id").expect("an X-Ray header");
    assert!(xray.starts_with("Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent="), "{xray}");
}
