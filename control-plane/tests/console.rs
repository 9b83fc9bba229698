//! The web console in a real Chromium against a real server: lists and
//! filters, the graph with per-state input and output, Stop and Redrive
//! (single and bulk), a 25,000-event history, SigV4 sign-in, escaping, and the
//! lost-connection banner. Fixtures are made with aws-sdk-sfn; the browser
//! side is `tests/console/scenarios.mjs`. Code workflows' Signal and Query are
//! in `code_workflows/console.rs`.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod common;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use common::console::drive;
use common::{Server, create_machine, finished, temp_dir};
use serde_json::json;

const ORDERS: &str = r#"{"StartAt": "Validate", "States": {
  "Validate": {"Type": "Pass", "Parameters": {"order.$": "$.order", "checked": true}, "ResultPath": "$.validation", "Next": "Fanout"},
  "Fanout": {"Type": "Parallel", "ResultPath": "$.parts", "Next": "Risky", "Branches": [
    {"StartAt": "Price", "States": {"Price": {"Type": "Pass", "Result": {"price": 42}, "End": true}}},
    {"StartAt": "Stock", "States": {"Stock": {"Type": "Pass", "Result": {"stock": 3}, "End": true}}}]},
  "Risky": {"Type": "Parallel", "Next": "Decide", "Branches": [
    {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "the branch always fails"}}}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Decide"}]},
  "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.parts[0].price", "NumericGreaterThan": 10, "Next": "Approve"}], "Default": "Reject"},
  "Approve": {"Type": "Pass", "Result": {"approved": true}, "ResultPath": "$.decision", "Next": "Done"},
  "Reject": {"Type": "Fail", "Error": "Rejected"},
  "Done": {"Type": "Succeed"}}}"#;

const WAITER: &str = r#"{"StartAt": "Hold", "States": {
  "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}}}"#;

async fn start(c: &Client, machine: &str, name: &str, input: &str) -> String {
    let out = c.start_execution().state_machine_arn(machine).name(name).input(input).send().await;
    out.expect("StartExecution").execution_arn
}

#[tokio::test]
async fn a_new_user_follows_an_execution_through_the_console() {
    let server = Server::start(&temp_dir("console-tour"));
    let c = server.client();
    let machine = create_machine(&c, "orders", ORDERS).await;
    let version = c.publish_state_machine_version().state_machine_arn(&machine).send().await;
    let version = version.expect("PublishStateMachineVersion").state_machine_version_arn;
    let route = aws_sdk_sfn::types::RoutingConfigurationListItem::builder()
        .state_machine_version_arn(&version)
        .weight(100)
        .build()
        .expect("a route");
    c.create_state_machine_alias().name("live").routing_configuration(route).send().await.expect("an alias");
    let arn = start(&c, &machine, "order-1", r#"{"order": {"id": "o-1"}}"#).await;
    finished(&c, &arn).await;
    drive("tour", &server.endpoint, json!({"execution_name": "order-1"})).await;
    drive("start_form", &server.endpoint, json!({"machine": machine})).await;
}

#[tokio::test]
async fn stop_and_redrive_one_and_in_bulk() {
    let server = Server::start(&temp_dir("console-stop"));
    let c = server.client();
    let machine = create_machine(&c, "waiter", WAITER).await;
    let solo = start(&c, &machine, "solo", "{}").await;
    for name in ["b1", "b2"] {
        start(&c, &machine, name, "{}").await;
    }
    let b3 = start(&c, &machine, "b3", "{}").await;
    drive("stop_and_redrive", &server.endpoint, json!({"machine": machine, "solo": solo, "b3": b3})).await;
    let running = c.list_executions().state_machine_arn(&machine).status_filter("RUNNING".into()).send().await;
    assert!(running.expect("ListExecutions").executions.is_empty(), "the bulk stop left none running");
}

#[tokio::test]
async fn what_an_execution_carries_is_shown_as_text() {
    let server = Server::start(&temp_dir("console-escaping"));
    let c = server.client();
    let definition = json!({"StartAt": "Explode", "States": {"Explode": {"Type": "Fail",
        "Error": "<script>window.pwned = 1</script>", "Cause": "<img src=x onerror=\"window.pwned = 2\">"}}});
    let machine = create_machine(&c, "markup", &definition.to_string()).await;
    let input = json!({"html": "<b>bold?</b>", "script": "<script>window.pwned = 3</script>"}).to_string();
    let arn = start(&c, &machine, "markup-1", &input).await;
    finished(&c, &arn).await;
    drive("escaping", &server.endpoint, json!({"execution": arn})).await;
}

/// Loops of a Pass and a Choice: four events a round, to near AWS's 25,000.
const ROUNDS: u64 = 6240;

#[tokio::test]
async fn a_history_of_25000_events_scrolls() {
    let server = Server::start(&temp_dir("console-history"));
    let c = server.client();
    let definition = json!({"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "More"},
        "More": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": ROUNDS, "Next": "Count"}], "Default": "End"},
        "End": {"Type": "Succeed"}}});
    let machine = create_machine(&c, "counter", &definition.to_string()).await;
    let arn = start(&c, &machine, "long", r#"{"n": 0}"#).await;
    finished(&c, &arn).await;
    let events = ROUNDS * 4 + 4;
    drive("big_history", &server.endpoint, json!({"execution": arn, "events": events})).await;
}

#[tokio::test]
async fn sigv4_asks_for_a_key_and_signs_in_the_browser() {
    const KEY: (&str, &str) = ("AKIASTEPWISECONSOLE1", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYCONSOLE001");
    let creds = format!("{}:{}", KEY.0, KEY.1);
    let server =
        Server::start_env(&temp_dir("console-sigv4"), &["--auth", "sigv4"], &[("STEPWISE_CREDENTIALS", &creds)]);
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(KEY.0, KEY.1, None, None, "tests"))
        .endpoint_url(&server.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .interceptor(common::NoHostPrefix)
        .build();
    let c = Client::from_conf(config);
    let machine = create_machine(&c, "signed", WAITER).await;
    start(&c, &machine, "signed-1", "{}").await;
    // The Schedules screen's REST calls are signed in the browser too.
    let args = schedule_args(&machine);
    common::aws_cli_as(&server.endpoint, KEY, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let fixtures = json!({"key_id": KEY.0, "secret": KEY.1, "execution_name": "signed-1"});
    drive("sign_in", &server.endpoint, fixtures).await;
}

/// `aws scheduler create-schedule` of an hourly schedule `hourly` starting `machine`.
fn schedule_args(machine: &str) -> Vec<String> {
    let target = json!({"Arn": machine, "RoleArn": "arn:aws:iam::123456789012:role/r"}).to_string();
    ["scheduler", "create-schedule", "--name", "hourly", "--schedule-expression", "cron(0 * * * ? *)"]
        .into_iter()
        .map(str::to_string)
        .chain(["--flexible-time-window".into(), "Mode=OFF".into(), "--target".into(), target])
        .collect()
}

#[tokio::test]
async fn schedules_are_listed_paused_and_triggered() {
    let server = Server::start(&temp_dir("console-schedules"));
    let c = server.client();
    let machine = create_machine(&c, "tick", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    let args = schedule_args(&machine);
    common::aws_cli(&server.endpoint, &args.iter().map(String::as_str).collect::<Vec<_>>());
    drive("schedules", &server.endpoint, json!({"machine": machine})).await;
}

#[tokio::test]
async fn a_lost_server_shows_a_banner_with_retry() {
    let server = Server::start(&temp_dir("console-lost"));
    let c = server.client();
    let machine = create_machine(&c, "waiter", WAITER).await;
    let arn = start(&c, &machine, "w1", "{}").await;
    drive("lost_connection", &server.endpoint, json!({"execution": arn, "server_pid": server.pid()})).await;
}

#[tokio::test]
async fn a_running_map_run_is_shown_and_its_concurrency_raised() {
    let server = Server::start(&temp_dir("console-map-runs"));
    let c = server.client();
    let activity = c.create_activity().name("items").send().await.expect("CreateActivity").activity_arn;
    let definition = json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "ItemsPath": "$.items",
        "MaxConcurrency": 1, "Label": "fan", "End": true, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": true}}}}}});
    let machine = create_machine(&c, "fan", &definition.to_string()).await;
    let arn = start(&c, &machine, "fan-1", r#"{"items": [1, 2, 3, 4]}"#).await;
    drive("map_runs", &server.endpoint, json!({"execution": arn})).await;
    let runs = c.list_map_runs().execution_arn(&arn).send().await.expect("ListMapRuns").map_runs;
    let run = c.describe_map_run().map_run_arn(&runs[0].map_run_arn).send().await.expect("DescribeMapRun");
    assert_eq!(run.max_concurrency, 3, "the console's update reached the server");
    assert_eq!(run.tolerated_failure_percentage, 0.0, "the refused update changed nothing");
}

#[tokio::test]
async fn express_map_run_children_are_listed_and_explained() {
    let server = Server::start(&temp_dir("console-express-map-run"));
    let c = server.client();
    let definition = json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "ItemsPath": "$.items",
        "ToleratedFailureCount": 1, "Label": "fan", "End": true, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "C", "States": {
                "C": {"Type": "Choice", "Default": "W", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Boom"}]},
                "Boom": {"Type": "Fail", "Error": "Boom"}, "W": {"Type": "Pass", "End": true}}}}}});
    let machine = create_machine(&c, "quick", &definition.to_string()).await;
    let arn = start(&c, &machine, "quick-1", r#"{"items": [1, 0, 2]}"#).await;
    finished(&c, &arn).await;
    drive("express_map_run", &server.endpoint, json!({"execution": arn})).await;
}

#[tokio::test]
async fn activities_show_waiting_tasks_and_their_workers() {
    let server = Server::start(&temp_dir("console-activities"));
    let c = server.client();
    let activity = c.create_activity().name("approve").send().await.expect("CreateActivity").activity_arn;
    let definition = json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": activity, "End": true}}});
    let machine = create_machine(&c, "asks", &definition.to_string()).await;
    for name in ["q1", "q2", "q3"] {
        start(&c, &machine, name, "{}").await;
    }
    // One worker takes one task; two wait.
    let task = c.get_activity_task().activity_arn(&activity).worker_name("clerk-7").send().await.expect("a task");
    assert!(task.task_token.is_some());
    drive("activities", &server.endpoint, json!({})).await;
}

#[tokio::test]
async fn a_nested_execution_links_to_its_parent_and_back() {
    let server = Server::start(&temp_dir("console-children"));
    let c = server.client();
    let child =
        create_machine(&c, "child", r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).await;
    let definition = json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Name": "the-child", "Input": {"from": "parent"}}, "End": true}}});
    let parent = create_machine(&c, "parent", &definition.to_string()).await;
    let arn = start(&c, &parent, "the-parent", "{}").await;
    finished(&c, &arn).await;
    let child_arn = arn.replace(":parent:the-parent", ":child:the-child");
    let d = c.describe_execution().execution_arn(&child_arn).send().await.expect("the child ran");
    assert_eq!(d.status, aws_sdk_sfn::types::ExecutionStatus::Succeeded);
    drive("children", &server.endpoint, json!({"parent": arn, "child": child_arn})).await;
}
