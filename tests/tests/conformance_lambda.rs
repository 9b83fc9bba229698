//! Corpus cases that need only what a simulated host can serve: Lambda functions the corpus describes
//! (identity, raising `Exception`, named in the input) and waits in virtual time: the engine runs them
//! with those functions played as described (`engine::run_with_lambda`), and
//! the outcome is compared with AWS's recorded one. The real Lambda path, with
//! aws-sdk-lambda against a local Lambda, is tested in
//! `control-plane/tests/integrations_lambda.rs`.

use std::collections::BTreeMap;

use serde_json::Value;
use stepwise_tests::{compare, engine, json_files, known, shared_dir};

fn run_case(case: &Value) -> Result<(), String> {
    let out = engine::run_with_lambda(case, false)?;
    let status = serde_json::to_value(out.status).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    let observed = compare::Observed { status, output: out.output, error: out.error, cause: out.cause };
    compare::compare(&case["expected"], &observed)
}

#[test]
fn lambda_cases_of_the_corpus() -> anyhow::Result<()> {
    let known =
        known::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/known-lambda-failures.txt"))?;
    let (mut ran, mut failed) = (Vec::new(), BTreeMap::new());
    let (mut jsonata, mut jsonata_pass) = (0, 0);
    for file in json_files(&shared_dir().join("conformance/cases"))? {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        if !engine::needs_only_lambda(&case) {
            continue;
        }
        let name = case["name"].as_str().unwrap_or_default().to_string();
        let result = run_case(&case);
        if engine::uses_jsonata(&case) {
            jsonata += 1;
            jsonata_pass += u32::from(result.is_ok());
        }
        if let Err(why) = result {
            failed.insert(name.clone(), why);
        }
        ran.push(name);
    }
    println!(
        "corpus cases with played Lambda functions: {} pass, {} fail; JSONata among them: {jsonata_pass} of {jsonata}",
        ran.len() - failed.len(),
        failed.len()
    );
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} problems (see above)", problems.len());
    Ok(())
}
