//! Runs every engine-only case of `../shared/conformance/cases` through the
//! engine and compares the outcome with AWS's recorded one.

use std::collections::BTreeMap;

use serde_json::Value;
use state_language::driver::{self, Simulated, TaskOutcome};
use state_language::interpreter::{Limits, StartContext};
use stepwise_tests::{compare, json_files, known, shared_dir};

/// The floor for the pass rate of AWS-validated, engine-only, JSONPath cases;
/// raise it as the engine improves (the target is 95%).
const JSONPATH_PASS_PERCENT_MIN: f64 = 95.0;

fn context(name: &str) -> StartContext {
    StartContext {
        execution_arn: format!("arn:aws:states:us-east-1:111111111111:execution:conformance:{name}"),
        execution_name: name.chars().take(80).collect(),
        state_machine_arn: "arn:aws:states:us-east-1:111111111111:stateMachine:conformance".into(),
        state_machine_name: "conformance".into(),
        role_arn: "arn:aws:iam::111111111111:role/snf_role_arn".into(),
        seed: 42,
        redrive_count: 0,
    }
}

fn run_case(case: &Value, name: &str) -> Result<(), String> {
    let express = case.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
    let report = state_language::validate(&case["definition"], state_language::Options { express });
    let ok = report.is_ok();
    let Some(def) = report.definition.clone().filter(|_| ok) else {
        return Err(format!("rejected: {}", report.aws_message()));
    };
    let mut host = Simulated {
        now_ms: 1_700_000_000_000,
        tasks: |t: &state_language::interpreter::TaskCommand| TaskOutcome::Failed {
            error: "States.TaskFailed".into(),
            cause: format!("no task host in the conformance run ({})", t.resource),
        },
    };
    let out = driver::run(&def, case["input"].clone(), context(name), &mut host, Limits::default(), false)
        .map_err(|e| format!("driver: {e}"))?;
    let status = serde_json::to_value(out.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let observed = compare::Observed { status, output: out.output, error: out.error, cause: out.cause };
    compare::compare(&case["expected"], &observed)
}

#[test]
fn conformance_cases() -> anyhow::Result<()> {
    let dir = shared_dir().join("conformance/cases");
    let known = known::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/known-failures.txt"))?;
    let mut ran = Vec::new();
    let mut failed = BTreeMap::new();
    let mut by_cat: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let (mut jp_validated, mut jp_pass) = (0u32, 0u32);
    for file in json_files(&dir)? {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        if case["needs"].as_array().is_some_and(|n| !n.is_empty()) {
            continue;
        }
        let name = case["name"].as_str().unwrap_or_default().to_string();
        let cat = case["category"].as_str().unwrap_or_default().to_string();
        let jsonata = case["definition"].to_string().contains("JSONata");
        let result = run_case(&case, &name);
        let e = by_cat.entry(if jsonata { format!("{cat} (JSONata)") } else { cat }).or_default();
        e.0 += 1;
        if result.is_ok() {
            e.1 += 1;
        }
        if !jsonata && case["aws_validated"] == Value::Bool(true) {
            jp_validated += 1;
            jp_pass += u32::from(result.is_ok());
        }
        if let Err(why) = result {
            failed.insert(name.clone(), why);
        }
        ran.push(name);
    }
    println!("conformance by category (passed/ran):");
    for (cat, (n, p)) in &by_cat {
        println!("  {cat:40} {p:4}/{n:4}");
    }
    let pct = 100.0 * f64::from(jp_pass) / f64::from(jp_validated.max(1));
    println!("AWS-validated engine-only JSONPath cases: {jp_pass}/{jp_validated} = {pct:.1}%");
    println!("{} passed, {} failed", ran.len() - failed.len(), failed.len());
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} conformance problems (see above)", problems.len());
    assert!(pct >= JSONPATH_PASS_PERCENT_MIN, "pass rate {pct:.1}% is below {JSONPATH_PASS_PERCENT_MIN}%");
    Ok(())
}
