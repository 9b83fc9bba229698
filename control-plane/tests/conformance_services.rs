//! The corpus cases that need S3 (distributed Map ItemReader, ItemBatcher
//! and ResultWriter; the `aws-sdk:s3` tasks) or nested executions
//! (`states:startExecution[.sync[:2]]`), run on a real server against a
//! real LocalStack with aws-sdk-sfn. Each case's S3 objects are written
//! from the corpus's `resources` before it runs; a nested case's child
//! machine is created under the name its input gives (see `child`).

mod common;

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use common::{LocalStack, Server, corpus, temp_dir};
use serde_json::{Value, json};
use stepwise_tests::{json_files, known, shared_dir};

/// The needs this test serves; a case runs when it needs S3 or a nested
/// execution and nothing beyond these.
const SERVED: [&str; 4] = ["s3", "aws-sdk:s3", "sfn-nested-execution", "context-object-times"];

fn served(case: &Value) -> bool {
    let needs: Vec<&str> = case["needs"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    needs.iter().any(|n| *n != "context-object-times") && needs.iter().all(|n| SERVED.contains(n))
}

/// The child machine of a nested case. The corpus records the parent only;
/// LocalStack's tests create the child from one of their templates, whose
/// behaviour the recorded output shows: it outputs `{"Arg1":"argument1"}`,
/// raises `SomeFailure`, or outlives its own one-second timeout.
fn child(case_name: &str) -> &'static str {
    if case_name.contains("delegate_failure") {
        r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"SomeFailure","Cause":"This state machines raises a 'SomeFailure' failure."}}}"#
    } else if case_name.contains("delegate_timeout") {
        r#"{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}"#
    } else {
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"Arg1":"argument1"},"End":true}}}"#
    }
}

async fn prepare(case: &Value, s3: &aws_sdk_s3::Client, sfn: &aws_sdk_sfn::Client) -> Result<(), String> {
    for (uri, spec) in case["resources"].as_object().into_iter().flatten() {
        let Some(path) = uri.strip_prefix("s3://") else { continue };
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        // An existing bucket is fine: cases share bucket names.
        let _ = s3.create_bucket().bucket(bucket).send().await;
        if spec["kind"] == "s3-object" {
            let body = spec["body"].as_str().unwrap_or_default().as_bytes().to_vec();
            // S3's type for objects uploaded without one, as the recorded tests uploaded them.
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .content_type("binary/octet-stream")
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| format!("seeding {uri}: {e:?}"))?;
        }
    }
    let target = case["input"]["StateMachineArn"].as_str().unwrap_or_default();
    if case["needs"].as_array().is_some_and(|n| n.iter().any(|n| n == "sfn-nested-execution"))
        && let Some((_, name)) = target.rsplit_once(":stateMachine:")
        && !name.contains("NoSuchArn")
    {
        let definition = child(case["name"].as_str().unwrap_or_default());
        let created =
            sfn.create_state_machine().name(name).definition(definition).role_arn("snf_role_arn").send().await;
        if created.is_err() {
            sfn.update_state_machine()
                .state_machine_arn(target)
                .definition(definition)
                .send()
                .await
                .map_err(|e| format!("child machine: {:?}", e.into_service_error()))?;
        }
    }
    Ok(())
}

async fn get_json(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Value {
    let o = s3.get_object().bucket(bucket).key(key).send().await.expect("the object was written");
    let bytes = o.body.collect().await.expect("its body").into_bytes();
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The ResultWriter case wrote a manifest and the result file it lists, in AWS's shapes.
async fn check_result_files(s3: &aws_sdk_s3::Client) {
    let listed = s3.list_objects_v2().bucket("result-bucket").prefix("mapJobs/").send().await.expect("listing");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let manifest_key = keys.iter().find(|k| k.ends_with("/manifest.json")).expect("a manifest");
    let manifest = get_json(s3, "result-bucket", manifest_key).await;
    assert_eq!(manifest["DestinationBucket"], "result-bucket", "{manifest}");
    assert!(manifest["MapRunArn"].as_str().is_some_and(|a| a.contains(":mapRun:")), "{manifest}");
    let files = manifest["ResultFiles"]["SUCCEEDED"].as_array().expect("succeeded files");
    assert_eq!(files.len(), 1, "{manifest}");
    let results = get_json(s3, "result-bucket", files[0]["Key"].as_str().expect("a key")).await;
    let outputs: Vec<&str> = results.as_array().into_iter().flatten().filter_map(|e| e["Output"].as_str()).collect();
    assert_eq!(outputs, ["\"Hello\"", "\"World\""], "{results}");
    assert!(results.as_array().into_iter().flatten().all(|e| e["Status"] == "SUCCEEDED"), "{results}");
}

/// A JSON Lines reader is streamed (ranged reads of whole lines) and its
/// results written in parts: not a corpus case, but the same S3.
async fn streamed_jsonl_maps(s3: &aws_sdk_s3::Client, c: &aws_sdk_sfn::Client) {
    let n = 20_000u64;
    s3.create_bucket().bucket("stream").send().await.expect("a bucket");
    let body: String = (0..n).map(|i| format!("{{\"id\":{i},\"name\":\"item {i}\"}}\n")).collect();
    for (key, body) in [("items.jsonl", body.into_bytes()), ("empty.jsonl", Vec::new())] {
        s3.put_object().bucket("stream").key(key).body(ByteStream::from(body)).send().await.expect("an object");
    }
    // 20,000 STANDARD children would be 20,000 executions with histories: the
    // big run is EXPRESS (iterations inline), the small ones real children.
    let map = |key: &str, max_items: u64, writer: bool| {
        let kind = if writer { "EXPRESS" } else { "STANDARD" };
        let mut m = json!({"Type": "Map", "End": true,
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL", "MaxItems": max_items},
                "Parameters": {"Bucket": "stream", "Key": key}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": true}}}});
        if writer {
            m["ResultWriter"] = json!({"Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "stream", "Prefix": "out"}});
        }
        json!({"StartAt": "M", "States": {"M": m}}).to_string()
    };
    let run = |name: &'static str, definition: String| async move {
        let m = common::create_machine(c, name, &definition).await;
        let s = c.start_execution().state_machine_arn(&m).send().await.expect("StartExecution");
        let d = common::finished(c, &s.execution_arn).await;
        assert_eq!(d.status, aws_sdk_sfn::types::ExecutionStatus::Succeeded, "{name}: {d:?}");
        let output: Value = serde_json::from_str(d.output.as_deref().unwrap_or("null")).expect("JSON");
        (s.execution_arn, output)
    };
    let (_, out) = run("stream-empty", map("empty.jsonl", 0, false)).await;
    assert_eq!(out, json!([]), "an empty object has no items");
    let (_, out) = run("stream-three", map("items.jsonl", 3, false)).await;
    assert_eq!(out, json!([{"id": 0}, {"id": 1}, {"id": 2}]));

    let (arn, out) = run("stream-all", map("items.jsonl", 0, true)).await;
    let runs = c.list_map_runs().execution_arn(&arn).send().await.expect("ListMapRuns");
    let run_arn = &runs.map_runs()[0].map_run_arn;
    let counts = c.describe_map_run().map_run_arn(run_arn).send().await.expect("DescribeMapRun");
    let items = counts.item_counts().expect("item counts");
    assert_eq!((items.total(), items.succeeded(), items.results_written()), (n as i64, n as i64, n as i64));
    let manifest = get_json(s3, "stream", out["ResultWriterDetails"]["Key"].as_str().expect("a key")).await;
    let parts = manifest["ResultFiles"]["SUCCEEDED"].as_array().expect("parts");
    assert!(parts.len() > 1, "results in parts: {manifest}");
    let mut ids = Vec::new();
    for p in parts {
        let entries = get_json(s3, "stream", p["Key"].as_str().expect("a key")).await;
        for e in entries.as_array().expect("entries") {
            let output: Value = serde_json::from_str(e["Output"].as_str().expect("an output")).expect("JSON");
            ids.push(output["id"].as_u64().expect("an id"));
        }
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "every item's result, once");
}

/// An object replaced while a Map Run reads it fails the reader: each slice
/// after the first is read with If-Match on the first one's ETag. One child
/// at a time (an activity), so the second slice is read only after the
/// first slice's queue runs low (1,000 items), well after the object changed.
async fn a_replaced_object_fails_the_streamed_reader(s3: &aws_sdk_s3::Client, c: &aws_sdk_sfn::Client) {
    let line = |i: u64| format!("{{\"id\":{i},\"pad\":\"{}\"}}\n", "x".repeat(180));
    let body: String = (0..2_000).map(line).collect();
    let put = |body: String| {
        s3.put_object().bucket("stream").key("changing.jsonl").body(ByteStream::from(body.into_bytes())).send()
    };
    put(body.clone()).await.expect("an object");
    let act = c.create_activity().name("stream-work").send().await.expect("CreateActivity").activity_arn;
    let definition = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "MaxConcurrency": 1,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "stream", "Key": "changing.jsonl"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {"W": {"Type": "Task", "Resource": act, "End": true}}}}}});
    let m = common::create_machine(c, "stream-changing", &definition.to_string()).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.expect("StartExecution");
    let mut answered = 0;
    loop {
        let t = c.get_activity_task().activity_arn(&act).send().await.expect("GetActivityTask");
        let Some(token) = t.task_token.filter(|t| !t.is_empty()) else { break };
        if answered == 0 {
            put(format!("{{\"id\":\"new\"}}\n{body}")).await.expect("the object replaced");
        }
        // A closed execution refuses the answer; the loop then finds no task.
        if c.send_task_success().task_token(token).output("{}").send().await.is_err() {
            break;
        }
        answered += 1;
        assert!(answered < 2_000, "the second slice was read without noticing the change");
    }
    let d = common::finished(c, &s.execution_arn).await;
    assert_eq!(d.status, aws_sdk_sfn::types::ExecutionStatus::Failed, "{d:?}");
    assert_eq!(d.error.as_deref(), Some("States.ItemReaderFailed"), "{d:?}");
    assert!(d.cause.as_deref().is_some_and(|c| c.contains("changed")), "{d:?}");
    assert!(answered >= 300, "the first slice's items ran first: {answered}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_nested_cases_through_the_server() -> anyhow::Result<()> {
    let known = known::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/known-services-failures.txt"),
    )?;
    let ls = LocalStack::start("services");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&ls.sdk_config().await).force_path_style(true).build(),
    );
    let args = ["--aws-endpoint", &ls.endpoint, "--account-id", "111111111111"];
    let server = Server::start_with(&temp_dir("services"), &args);
    let (mut ran, mut failed) = (Vec::new(), BTreeMap::new());
    for (i, file) in json_files(&shared_dir().join("conformance/cases"))?.into_iter().enumerate() {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        if !served(&case) {
            continue;
        }
        let name = case["name"].as_str().unwrap_or_default().to_string();
        // A nested case gets a server of its own, as each test had a fresh
        // account: cases reuse child machine and execution names.
        let nested = case["needs"].as_array().is_some_and(|n| n.iter().any(|n| n == "sfn-nested-execution"));
        let own = nested.then(|| Server::start_with(&temp_dir(&format!("services-{i}")), &args));
        let c = own.as_ref().unwrap_or(&server).client();
        // One at a time: cases reuse bucket and key names.
        let result = match prepare(&case, &s3, &c).await {
            Ok(()) => corpus::run_case(c, i, case).await,
            Err(e) => Err(e),
        };
        if let Err(why) = result {
            failed.insert(name.clone(), why);
        }
        ran.push(name);
    }
    check_result_files(&s3).await;
    streamed_jsonl_maps(&s3, &server.client()).await;
    a_replaced_object_fails_the_streamed_reader(&s3, &server.client()).await;
    println!(
        "S3 and nested-execution cases through the server: {} of {} match AWS",
        ran.len() - failed.len(),
        ran.len()
    );
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} problems (see above)", problems.len());
    Ok(())
}
