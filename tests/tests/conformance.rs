//! Runs every engine-only case of `../shared/conformance/cases` through the
//! engine and compares the outcome with AWS's recorded one.

use std::collections::BTreeMap;

use serde_json::Value;
use stepwise_tests::{compare, engine, json_files, known, shared_dir};

/// The floor for the pass rate of AWS-validated, engine-only, JSONPath cases;
/// it only ratchets up (the issue asked for at least 95%; all pass today).
const JSONPATH_PASS_PERCENT_MIN: f64 = 100.0;

fn run_case(case: &Value) -> Result<(), String> {
    let out = engine::run(case, false)?;
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
        let jsonata = engine::uses_jsonata(&case);
        let result = run_case(&case);
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
    // Worded so CI does not read it as a test runner's closing line.
    println!(
        "corpus cases: {} pass, {} fail (each failure must be on the known list)",
        ran.len() - failed.len(),
        failed.len()
    );
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} conformance problems (see above)", problems.len());
    assert!(pct >= JSONPATH_PASS_PERCENT_MIN, "pass rate {pct:.1}% is below {JSONPATH_PASS_PERCENT_MIN}%");
    Ok(())
}
