//! Workflows driven through the `api` Lambda with aws-sdk-sfn; each checks
//! its results, its history and that no state ran twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

use super::{Stack, entered, finished};

const ROLE: &str = "arn:aws:iam::123456789012:role/r";
/// 20 s long polls of the callback queue before the test gives up.
const RECEIVES_MAX: usize = 5;
/// Tasks (or empty polls) one activity worker handles before it stops.
const WORKER_POLLS_MAX: usize = 1_000;

async fn machine(c: &Client, name: &str, definition: String) -> String {
    let r = c.create_state_machine().name(name).definition(definition).role_arn(ROLE).send().await;
    r.expect("CreateStateMachine").state_machine_arn
}

/// A Wait, an activity, and idempotent start.
pub async fn activity_flow(c: &Client) {
    let act = c.create_activity().name("approve").send().await.expect("CreateActivity").activity_arn;
    let def = format!(
        r#"{{"StartAt":"Prep","States":{{"Prep":{{"Type":"Pass","Result":{{"n":1}},"Next":"Pause"}},
           "Pause":{{"Type":"Wait","Seconds":1,"Next":"Ask"}},
           "Ask":{{"Type":"Task","Resource":"{act}","Next":"Done"}},"Done":{{"Type":"Succeed"}}}}}}"#
    );
    let m = machine(c, "flow", def).await;
    let s = c.start_execution().state_machine_arn(&m).name("e1").send().await.expect("start");
    let again = c.start_execution().state_machine_arn(&m).name("e1").send().await.expect("start again");
    assert_eq!(again.execution_arn, s.execution_arn, "idempotent start");
    // The Wait fires through SQS and the scheduler Lambda; then the activity is handed out by the api Lambda.
    let task = c.get_activity_task().activity_arn(&act).worker_name("w").send().await.expect("GetActivityTask");
    assert_eq!(task.input.as_deref(), Some(r#"{"n":1}"#));
    let token = task.task_token.expect("a task");
    c.send_task_success().task_token(&token).output(r#"{"ok":true}"#).send().await.expect("success");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some(r#"{"ok":true}"#));
    assert_eq!(entered(c, &s.execution_arn).await, ["Prep", "Pause", "Ask", "Done"]);
}

/// A nested `.sync:2` execution: the tasks queue, the scheduler Lambda and the child's closing commit.
pub async fn nested(c: &Client) {
    let child = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"from child","End":true}}}"#;
    let child = machine(c, "child", child.into()).await;
    let parent = format!(
        r#"{{"StartAt":"S","States":{{"S":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{{"StateMachineArn":"{child}"}},"OutputPath":"$.Output","End":true}}}}}}"#
    );
    let m = machine(c, "parent", parent).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.expect("start");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#""from child""#));
    assert_eq!(entered(c, &s.execution_arn).await, ["S"]);
    let children = c.list_executions().state_machine_arn(&child).send().await.expect("list").executions;
    assert_eq!(children.len(), 1, "one child, however often the task message came");
}

/// A callback: the SQS integration sends the task token to a queue; the
/// "external system" (this test) reads it there and answers.
pub async fn callback(stack: &Stack, c: &Client) {
    let sqs = stack.sqs();
    let q = sqs.create_queue().queue_name("callbacks").send().await.expect("CreateQueue").queue_url;
    let q = q.expect("a queue URL");
    let def = json!({"StartAt":"Notify","States":{"Notify":{"Type":"Task",
        "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters":{"QueueUrl": q, "MessageBody":{"token.$":"$$.Task.Token","order.$":"$.order"}},
        "ResultPath":"$.reply","End":true}}});
    let m = machine(c, "callback", def.to_string()).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"order":7}"#).send().await.expect("start");
    let mut msg = None;
    for _ in 0..RECEIVES_MAX {
        let r = sqs.receive_message().queue_url(&q).wait_time_seconds(20).send().await.expect("ReceiveMessage");
        msg = r.messages.unwrap_or_default().into_iter().next();
        if msg.is_some() {
            break;
        }
    }
    let msg = msg.expect("the task token reached the queue");
    let body: Value = serde_json::from_str(msg.body.as_deref().unwrap_or_default()).expect("a JSON body");
    assert_eq!(body["order"], 7);
    let token = body["token"].as_str().expect("the token");
    c.send_task_success().task_token(token).output(r#"{"shipped":true}"#).send().await.expect("success");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some(r#"{"order":7,"reply":{"shipped":true}}"#));
    let again = c.send_task_success().task_token(token).output("{}").send().await;
    assert!(again.is_err(), "a closed token is refused");
}

/// StartSyncExecution on an Express machine: the api Lambda answers when the
/// scheduler Lambda (another process) has closed the execution.
pub async fn sync_express(c: &Client) {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","Result":{"done":true},"End":true}}}"#;
    let r = c.create_state_machine().name("express").definition(def).role_arn(ROLE);
    let m = r.r#type(aws_sdk_sfn::types::StateMachineType::Express).send().await.expect("create").state_machine_arn;
    let d = c.start_sync_execution().state_machine_arn(&m).input("{}").send().await.expect("StartSyncExecution");
    assert_eq!(d.status, aws_sdk_sfn::types::SyncExecutionStatus::Succeeded, "{:?}", d.cause);
    assert_eq!(d.output.as_deref(), Some(r#"{"done":true}"#));
}

/// A payload near AWS's 256 KiB limit goes through every step unchanged;
/// the AWS backend keeps it in S3 (the claim check) and DynamoDB items small.
pub async fn big_payload(c: &Client) {
    let input = json!({"blob": "x".repeat(250 * 1024)}).to_string();
    let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Parameters":{"copy.$":"$.blob"},"OutputPath":"$.copy","End":true}}}"#;
    let m = machine(c, "big", def.into()).await;
    let s = c.start_execution().state_machine_arn(&m).input(&input).send().await.expect("start");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?}", d.cause);
    assert_eq!(d.output.map(|o| o.len()), Some(250 * 1024 + 2), "the whole string, quoted");
    let h = c.get_execution_history().execution_arn(&s.execution_arn).send().await.expect("history");
    let started = h.events[0].execution_started_event_details.as_ref().expect("started details");
    assert_eq!(started.input.as_deref(), Some(input.as_str()));
}

/// Waits two hours of (scaled) time: more than SQS's 900 s delay limit, so
/// the wake-up hops. Gives the number of hops the scheduler logged.
pub async fn long_wait(stack: &Stack, c: &Client) -> usize {
    let def = r#"{"StartAt":"Hours","States":{"Hours":{"Type":"Wait","Seconds":7200,"Next":"Done"},"Done":{"Type":"Succeed"}}}"#;
    let m = machine(c, "hours", def.into()).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.expect("start");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    let h = c.get_execution_history().execution_arn(&s.execution_arn).send().await.expect("history");
    let at = |name: &str| {
        let e = h.events.iter().find(|e| e.r#type.as_str() == name).expect(name);
        e.timestamp.as_secs_f64()
    };
    let waited = at("WaitStateExited") - at("WaitStateEntered");
    assert!(waited >= 7200.0, "the Wait ended after {waited} s");
    let log = stack.log("scheduler");
    log.lines().filter(|l| l.contains("timer hop") && l.contains(&s.execution_arn)).count()
}

/// Calls per activity and order, to prove each ran exactly as often as it should.
type Calls = Arc<Mutex<HashMap<(String, String), usize>>>;

/// An activity worker: polls `activity` and answers by `rule` until aborted.
fn worker(c: &Client, arn: String, name: &'static str, calls: Calls) -> tokio::task::JoinHandle<()> {
    let c = c.clone();
    tokio::spawn(async move {
        for _ in 0..WORKER_POLLS_MAX {
            let t = match c.get_activity_task().activity_arn(&arn).worker_name(name).send().await {
                Ok(t) => t,
                Err(e) => panic!("{name}: GetActivityTask: {e:?}"),
            };
            let Some(token) = t.task_token else { continue };
            let input: Value = serde_json::from_str(t.input.as_deref().unwrap_or("{}")).expect("JSON input");
            let order = input["id"].as_str().unwrap_or_default().to_string();
            let n = {
                let mut calls = calls.lock().expect("calls");
                let n = calls.entry((name.to_string(), order.clone())).or_default();
                *n += 1;
                *n
            };
            let failure = match (name, order.as_str(), n) {
                ("charge", "flaky", 1) => Some("PaymentDeclinedTransient"),
                ("reserve", "out-of-stock", _) => Some("OutOfStock"),
                _ => None,
            };
            match failure {
                Some(e) => {
                    let cause = format!("{name} {order}");
                    c.send_task_failure()
                        .task_token(token)
                        .error(e)
                        .cause(cause)
                        .send()
                        .await
                        .expect("failure accepted");
                }
                None => {
                    let out = json!({"by": name, "order": order}).to_string();
                    c.send_task_success().task_token(token).output(out).send().await.expect("success accepted");
                }
            }
        }
    })
}

/// The order saga: create, charge (retried once), reserve, confirm; when
/// inventory is out of stock, refund and cancel in reverse and fail.
pub async fn order_saga(c: &Client) {
    let names = ["create", "charge", "reserve", "confirm", "refund", "cancel"];
    let calls: Calls = Arc::default();
    let mut arns = HashMap::new();
    let mut workers = Vec::new();
    for name in names {
        let arn = c.create_activity().name(name).send().await.expect("CreateActivity").activity_arn;
        workers.push(worker(c, arn.clone(), name, calls.clone()));
        arns.insert(name, arn);
    }
    let task = |name: &str, result: &str, next: Value| {
        let mut t = json!({"Type":"Task","Resource": arns[name],"ResultPath": result});
        t.as_object_mut().expect("object").extend(next.as_object().cloned().unwrap_or_default());
        t
    };
    let def = json!({"StartAt":"CreateOrder","States":{
        "CreateOrder": task("create", "$.order", json!({"Next":"ChargePayment"})),
        "ChargePayment": task("charge", "$.payment", json!({"Next":"ReserveInventory",
            "Retry":[{"ErrorEquals":["PaymentDeclinedTransient"],"IntervalSeconds":1,"MaxAttempts":2}]})),
        "ReserveInventory": task("reserve", "$.reservation", json!({"Next":"SendConfirmation",
            "Catch":[{"ErrorEquals":["OutOfStock"],"ResultPath":"$.error","Next":"RefundPayment"}]})),
        "SendConfirmation": task("confirm", "$.confirmation", json!({"End":true})),
        "RefundPayment": task("refund", "$.refund", json!({"Next":"CancelOrder"})),
        "CancelOrder": task("cancel", "$.cancel", json!({"Next":"OrderFailed"})),
        "OrderFailed": {"Type":"Fail","Error":"OrderFailed","Cause":"out of stock; payment refunded"}}});
    let m = machine(c, "order-saga", def.to_string()).await;
    let mut runs = Vec::new();
    for id in ["ok", "flaky", "out-of-stock"] {
        let input = json!({"id": id}).to_string();
        let s = c.start_execution().state_machine_arn(&m).name(id).input(input).send().await.expect("start");
        runs.push((id, s.execution_arn));
    }
    let happy = ["CreateOrder", "ChargePayment", "ReserveInventory", "SendConfirmation"];
    for (id, arn) in &runs {
        let d = finished(c, arn).await;
        if *id == "out-of-stock" {
            assert_eq!(d.status, ExecutionStatus::Failed);
            assert_eq!(d.error.as_deref(), Some("OrderFailed"));
            let compensated = ["CreateOrder", "ChargePayment", "ReserveInventory", "RefundPayment", "CancelOrder"];
            assert_eq!(entered(c, arn).await, [compensated.as_slice(), &["OrderFailed"]].concat());
        } else {
            assert_eq!(d.status, ExecutionStatus::Succeeded, "{id}: {:?}", d.cause);
            let out: Value = serde_json::from_str(d.output.as_deref().expect("output")).expect("JSON");
            assert_eq!(out["confirmation"], json!({"by":"confirm","order":id}));
            assert_eq!(entered(c, arn).await, happy);
        }
    }
    for w in workers {
        w.abort();
    }
    let calls = calls.lock().expect("calls").clone();
    let expected: HashMap<(String, String), usize> = [
        (("create", "ok"), 1),
        (("charge", "ok"), 1),
        (("reserve", "ok"), 1),
        (("confirm", "ok"), 1),
        (("create", "flaky"), 1),
        (("charge", "flaky"), 2),
        (("reserve", "flaky"), 1),
        (("confirm", "flaky"), 1),
        (("create", "out-of-stock"), 1),
        (("charge", "out-of-stock"), 1),
        (("reserve", "out-of-stock"), 1),
        (("refund", "out-of-stock"), 1),
        (("cancel", "out-of-stock"), 1),
    ]
    .into_iter()
    .map(|((a, o), n)| ((a.to_string(), o.to_string()), n))
    .collect();
    assert_eq!(calls, expected, "each activity ran exactly as often as the saga asks");
}

/// A distributed Map over a CSV object in S3, batched, with its results
/// written back to S3: the reader and the writer are S3 calls the scheduler
/// Lambda makes through the tasks queue.
pub async fn item_reader(stack: &Stack, c: &Client) {
    let s3 = stack.s3();
    let _ = s3.create_bucket().bucket("items").send().await;
    let body = "id,qty\na,1\nb,2\nc,3\n".as_bytes().to_vec();
    let put = s3.put_object().bucket("items").key("orders.csv").body(body.into()).send().await;
    put.expect("PutObject");
    let def = json!({"StartAt":"Each","States":{"Each":{"Type":"Map",
        "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"items","Key":"orders.csv"},
            "ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}},
        "ItemBatcher":{"MaxItemsPerBatch":2},
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Count",
            "States":{"Count":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength($.Items)"},"End":true}}},
        "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"items","Prefix":"runs"}},
        "End":true}}});
    let m = machine(c, "reader", def.to_string()).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.expect("start");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?} {:?}", d.error, d.cause);
    let out: Value = serde_json::from_str(d.output.as_deref().unwrap_or("null")).expect("JSON output");
    let key = out["ResultWriterDetails"]["Key"].as_str().expect("a manifest key");
    let manifest = s3_json(&s3, key).await;
    let file = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"].as_str().expect("a result file");
    let results = s3_json(&s3, file).await;
    let outputs: Vec<&str> = results.as_array().into_iter().flatten().filter_map(|e| e["Output"].as_str()).collect();
    assert_eq!(outputs, [r#"{"n":2}"#, r#"{"n":1}"#], "two batches: {results}");
    // The Map Run, as DescribeMapRun shows it: two batches (children) of three items.
    let runs = c.list_map_runs().execution_arn(&s.execution_arn).send().await.expect("ListMapRuns");
    assert_eq!(runs.map_runs.len(), 1);
    assert_eq!(Some(runs.map_runs[0].map_run_arn.as_str()), out["MapRunArn"].as_str());
    let run = c.describe_map_run().map_run_arn(&runs.map_runs[0].map_run_arn).send().await.expect("DescribeMapRun");
    assert_eq!(run.status, aws_sdk_sfn::types::MapRunStatus::Succeeded);
    let e = run.execution_counts.expect("execution counts");
    assert_eq!((e.total, e.succeeded, e.results_written), (2, 2, 2));
    let i = run.item_counts.expect("item counts");
    assert_eq!((i.total, i.succeeded, i.results_written), (3, 3, 3));
    // Each batch ran as a child execution, listed under the Map Run, with a history.
    let children = c.list_executions().map_run_arn(&runs.map_runs[0].map_run_arn).send().await;
    let children = children.expect("ListExecutions(mapRunArn)").executions;
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|e| e.status == ExecutionStatus::Succeeded));
    let items: i32 = children.iter().filter_map(|e| e.item_count).sum();
    assert_eq!(items, 3, "ListExecutions gives each batch's item count");
    let listed: Vec<&str> = children.iter().map(|e| e.execution_arn.as_str()).collect();
    for e in results.as_array().expect("entries") {
        let arn = e["ExecutionArn"].as_str().expect("an ARN");
        assert!(listed.contains(&arn), "the result file names the real child {arn}: {listed:?}");
    }
    let h = c.get_execution_history().execution_arn(listed[0]).send().await.expect("a child's history");
    let last = h.events.last().expect("events").r#type.as_str().to_string();
    assert_eq!(last, "ExecutionSucceeded");
}

/// An object of the `items` bucket, read as JSON.
async fn s3_json(s3: &aws_sdk_s3::Client, key: &str) -> Value {
    let o = s3.get_object().bucket("items").key(key).send().await.unwrap_or_else(|e| panic!("GetObject {key}: {e}"));
    let bytes = o.body.collect().await.expect("the object's body").into_bytes();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{key} is not JSON: {e}"))
}

/// A distributed Map over a JSON Lines object, streamed: the scheduler reads
/// it a slice at a time (each slice a task message of its own) and writes the
/// results in parts as children end. EXPRESS, so the 600 iterations run in
/// the parent (STANDARD ones would be 600 executions: `item_reader` has those),
/// and each is listed under the Map Run. Items of about 520 bytes make two
/// slices of `ITEM_SLICE_BYTES_MAX`.
pub async fn streamed_item_reader(stack: &Stack, c: &Client) {
    let s3 = stack.s3();
    let _ = s3.create_bucket().bucket("items").send().await;
    let n = 600u64;
    let pad = "x".repeat(500);
    let body: String = (0..n).map(|i| format!("{{\"id\":{i},\"pad\":\"{pad}\"}}\n")).collect();
    let put = s3.put_object().bucket("items").key("many.jsonl").body(body.into_bytes().into()).send().await;
    put.expect("PutObject");
    let def = json!({"StartAt":"Each","States":{"Each":{"Type":"Map",
        "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"items","Key":"many.jsonl"},
            "ReaderConfig":{"InputType":"JSONL"}},
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"Id",
            "States":{"Id":{"Type":"Pass","Parameters":{"id.$":"$.id"},"End":true}}},
        "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"items","Prefix":"streamed"}},
        "End":true}}});
    let m = machine(c, "streamed", def.to_string()).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.expect("start");
    let d = finished(c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?} {:?}", d.error, d.cause);
    let runs = c.list_map_runs().execution_arn(&s.execution_arn).send().await.expect("ListMapRuns");
    let run = c.describe_map_run().map_run_arn(&runs.map_runs[0].map_run_arn).send().await.expect("DescribeMapRun");
    let i = run.item_counts.expect("item counts");
    assert_eq!((i.total, i.succeeded, i.results_written), (n as i64, n as i64, n as i64));
    // Each EXPRESS child is listed under its Map Run, closed, in pages.
    let listed = c.list_executions().map_run_arn(&runs.map_runs[0].map_run_arn).into_paginator().items().send();
    let listed: Vec<_> = listed.collect::<Result<Vec<_>, _>>().await.expect("ListExecutions(mapRunArn)");
    assert_eq!(listed.len() as u64, n, "every EXPRESS child is listed once");
    assert!(listed.iter().all(|e| e.status == ExecutionStatus::Succeeded && e.item_count == Some(1)));
    // And described, as AWS describes a Map Run's EXPRESS children: the last one listed.
    let last = listed.last().expect("children");
    let child = c.describe_execution().execution_arn(&last.execution_arn).send().await.expect("an EXPRESS child");
    assert_eq!(
        (&child.status, child.map_run_arn.as_deref()),
        (&ExecutionStatus::Succeeded, Some(run.map_run_arn.as_str()))
    );
    let mut file_arns = std::collections::BTreeSet::new();
    let mut ids = Vec::new();
    let out: Value = serde_json::from_str(d.output.as_deref().unwrap_or("null")).expect("JSON output");
    let manifest = s3_json(&s3, out["ResultWriterDetails"]["Key"].as_str().expect("a key")).await;
    for part in manifest["ResultFiles"]["SUCCEEDED"].as_array().expect("parts") {
        for e in s3_json(&s3, part["Key"].as_str().expect("a key")).await.as_array().expect("entries") {
            let output: Value = serde_json::from_str(e["Output"].as_str().expect("an output")).expect("JSON");
            ids.push(output["id"].as_u64().expect("an id"));
            file_arns.insert(e["ExecutionArn"].as_str().expect("an ARN").to_string());
        }
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "every item's result, once: {manifest}");
    // The result files name each child as ListExecutions does.
    assert!(listed.iter().all(|e| file_arns.contains(&e.execution_arn)), "the result files' ARNs are the listed ones");
}
