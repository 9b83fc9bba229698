//! Differential test: the expressions of `tests/jsonata-differential/cases.json`
//! (the language, Step Functions' added functions and the `$states`
//! bindings) through this engine and through the reference, jsonata 2.0.6
//! from npm on Node (`run.js`, installed by `npm ci` in that folder, which
//! `scripts/test.sh` runs). Results must be equal, and errors must have the
//! same code.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/jsonata-differential"))
}

/// The reference's answers, one per case.
fn reference(cases: &str) -> Vec<Value> {
    assert!(
        dir().join("node_modules/jsonata/package.json").exists(),
        "jsonata 2.0.6 is not installed: run `npm ci` in {}",
        dir().display()
    );
    let mut child = Command::new("node")
        .arg("run.js")
        .current_dir(dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    child.stdin.take().expect("stdin").write_all(cases.as_bytes()).expect("cases sent");
    let out = child.wait_with_output().expect("node finished");
    assert!(out.status.success(), "run.js failed");
    serde_json::from_slice(&out.stdout).expect("run.js prints JSON")
}

/// Numbers compare as numbers (`1` and `1.0` are the same JSON value).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(i, j)| same(i, j)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn ours(case: &Value) -> Value {
    let expr = case["expr"].as_str().unwrap_or_default();
    let parsed = match jsonata::Expression::parse(expr) {
        Ok(p) => p,
        Err(e) => return serde_json::json!({ "code": e.code }),
    };
    let bindings = case.get("bindings").and_then(Value::as_object).cloned().unwrap_or_default();
    // A missing "input" is undefined; `null` is null.
    let input = case.get("input");
    // `$` is the input document here, as the reference's harness gives it.
    let result = match input {
        Some(doc) => evaluate_with_doc(&parsed, doc, &bindings),
        None => state_language::jsonata_functions::evaluate(&parsed, &bindings, jsonata::Options::default()),
    };
    match result {
        Ok(Some(v)) => serde_json::json!({ "result": v }),
        Ok(None) => serde_json::json!({ "undefined": true }),
        Err(e) => serde_json::json!({ "code": e.code }),
    }
}

/// Evaluates with a document as `$` and the ASL bindings and added functions.
fn evaluate_with_doc(
    parsed: &jsonata::Expression,
    doc: &Value,
    bindings: &serde_json::Map<String, Value>,
) -> jsonata::Result<Option<Value>> {
    let mut values: Vec<(String, jsonata::Value)> = Vec::new();
    for name in parsed.variables() {
        if let Some(v) = bindings.get(&name) {
            values.push((name, jsonata::Value::from_json(v)));
        } else if let Some(f) = state_language::jsonata_functions::function(&name) {
            values.push((name, f));
        }
    }
    let refs: Vec<(&str, jsonata::Value)> = values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    parsed.evaluate_json(Some(doc), &refs, jsonata::Options::default())
}

#[test]
fn the_engine_agrees_with_jsonata_2_0_6() {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases are JSON");
    let theirs = reference(&text);
    assert_eq!(theirs.len(), cases.len(), "one answer per case");
    let mut differ = Vec::new();
    for (case, want) in cases.iter().zip(&theirs) {
        let got = ours(case);
        let agree = match (want.get("code"), got.get("code")) {
            (Some(a), Some(b)) => a == b,
            (None, None) => match (want.get("result"), got.get("result")) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            },
            _ => false,
        };
        if !agree {
            differ.push(format!("{}: reference {want}, ours {got}", case["expr"]));
        }
    }
    println!(
        "jsonata differential: {} of {} expressions agree with jsonata 2.0.6",
        cases.len() - differ.len(),
        cases.len()
    );
    for d in &differ {
        println!("  DIFFERS {d}");
    }
    assert!(differ.is_empty(), "{} expressions differ from the reference", differ.len());
}
