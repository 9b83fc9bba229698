//! The TestState cases of the conformance corpus (`../shared/conformance/test_state`,
//! recorded against AWS), JSONPath and JSONata, through the server with aws-sdk-sfn.
//! Failures must be on the checked-in list, which only shrinks.

mod common;

use std::collections::BTreeMap;

use aws_sdk_sfn::types::{InspectionLevel, MockErrorOutput, MockInput, TestStateConfiguration};
use serde_json::Value;
use stepwise_tests::{compare, json_files, known, shared_dir};

use common::{Server, temp_dir};

async fn run_case(c: &aws_sdk_sfn::Client, case: &Value) -> Result<(), String> {
    let req = &case["request"];
    let mut call = c
        .test_state()
        .definition(case["definition"].to_string())
        .role_arn("arn:aws:iam::111111111111:role/test")
        .input(case["input"].to_string())
        .inspection_level(InspectionLevel::from(req["inspectionLevel"].as_str().unwrap_or("INFO")));
    if let Some(n) = req["stateName"].as_str() {
        call = call.state_name(n);
    }
    if let Some(v) = req["context"].as_str() {
        call = call.context(v);
    }
    if let Some(v) = req.get("variables").filter(|v| !v.is_null()) {
        call = call.variables(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    }
    if let Some(m) = req.get("mock") {
        let mut b = MockInput::builder();
        if let Some(r) = m["result"].as_str() {
            b = b.result(r);
        }
        if let Some(e) = m.get("errorOutput") {
            let mut eb = MockErrorOutput::builder();
            if let Some(x) = e["error"].as_str() {
                eb = eb.error(x);
            }
            if let Some(x) = e["cause"].as_str() {
                eb = eb.cause(x);
            }
            b = b.error_output(eb.build());
        }
        call = call.mock(b.build());
    }
    let sc = &req["stateConfiguration"];
    if sc.is_object() {
        let mut b = TestStateConfiguration::builder();
        if let Some(n) = sc["retrierRetryCount"].as_i64() {
            b = b.retrier_retry_count(n as i32);
        }
        if let Some(n) = sc["mapIterationFailureCount"].as_i64() {
            b = b.map_iteration_failure_count(n as i32);
        }
        if let Some(s) = sc["errorCausedByState"].as_str() {
            b = b.error_caused_by_state(s);
        }
        call = call.state_configuration(b.build());
    }
    let out = call.send().await.map_err(|e| format!("{:?}", e.into_service_error()))?;
    let parse = |s: Option<&str>| s.map(|s| serde_json::from_str(s).unwrap_or(Value::String(s.into())));
    let observed = compare::Observed {
        status: out.status.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default(),
        output: parse(out.output.as_deref()),
        error: out.error.clone(),
        cause: out.cause.clone(),
    };
    compare::compare(&case["expected"], &observed)?;
    let exp = &case["expected"];
    if let Some(n) = exp["nextState"].as_str()
        && out.next_state.as_deref() != Some(n)
    {
        return Err(format!("nextState {:?}, expected {n}", out.next_state));
    }
    if let Some(want) = exp["inspectionData"].as_object() {
        let got = out.inspection_data.as_ref();
        let field = |k: &str| -> Option<Value> {
            let d = got?;
            let s = match k {
                "input" => d.input.as_deref(),
                "afterInputPath" => d.after_input_path.as_deref(),
                "afterParameters" => d.after_parameters.as_deref(),
                "afterArguments" => d.after_arguments.as_deref(),
                "result" => d.result.as_deref(),
                "afterResultSelector" => d.after_result_selector.as_deref(),
                "afterResultPath" => d.after_result_path.as_deref(),
                "variables" => d.variables.as_deref(),
                "afterItemsPath" => d.after_items_path.as_deref(),
                "maxConcurrency" => return d.max_concurrency.map(Value::from),
                "errorDetails" => {
                    let e = d.error_details.as_ref()?;
                    let mut m = serde_json::Map::new();
                    for (k, v) in [
                        ("catchIndex", e.catch_index),
                        ("retryIndex", e.retry_index),
                        ("retryBackoffIntervalSeconds", e.retry_backoff_interval_seconds),
                    ] {
                        if let Some(v) = v {
                            m.insert(k.into(), v.into());
                        }
                    }
                    return Some(Value::Object(m));
                }
                "toleratedFailureCount" => return d.tolerated_failure_count.map(Value::from),
                "toleratedFailurePercentage" => return d.tolerated_failure_percentage.map(|p| serde_json::json!(p)),
                _ => None,
            }?;
            Some(serde_json::from_str(s).unwrap_or(Value::String(s.into())))
        };
        let mut want_doc = serde_json::json!({"inspectionData": {}});
        let mut got_doc = serde_json::json!({"inspectionData": {}});
        for (k, v) in want {
            // Some recorded values stayed JSON text; compare them as JSON.
            let v = match v {
                Value::String(t) => serde_json::from_str(t).unwrap_or_else(|_| v.clone()),
                other => other.clone(),
            };
            want_doc["inspectionData"][k] = v;
            got_doc["inspectionData"][k] = field(k).unwrap_or(Value::Null);
        }
        for p in exp["placeholders"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if p.starts_with("$.inspectionData.") {
                compare::remove(&mut want_doc, p);
                compare::remove(&mut got_doc, p);
            }
        }
        if want_doc != got_doc {
            return Err(format!(
                "inspectionData {}, expected {}",
                got_doc["inspectionData"], want_doc["inspectionData"]
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn test_state_corpus_through_the_server() {
    let server = Server::start_with(
        &temp_dir("test-state"),
        &["--account-id", "111111111111", "--lambda-endpoint", "http://127.0.0.1:9"],
    );
    let c = server.client();
    let list =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/known-test-state-failures.txt");
    let known = known::load(&list).expect("the list parses");
    let (mut ran, mut failed) = (Vec::new(), BTreeMap::new());
    for file in json_files(&shared_dir().join("conformance/test_state")).expect("the corpus is beside the repository") {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("JSON");
        let name = case["name"].as_str().unwrap_or_default().to_string();
        if let Err(why) = run_case(&c, &case).await {
            failed.insert(name.clone(), why);
        }
        ran.push(name);
    }
    println!("TestState corpus (JSONPath and JSONata): {} of {} cases match AWS", ran.len() - failed.len(), ran.len());
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} TestState problems (see above)", problems.len());
}
