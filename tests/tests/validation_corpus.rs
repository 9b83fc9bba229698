//! `../shared/conformance/invalid` must all be rejected and `valid` accepted.

use std::collections::BTreeMap;

use serde_json::Value;
use state_language::{Options, validate, validate_text};
use stepwise_tests::{json_files, known, shared_dir};

/// AWS-validated invalid definitions whose exact AWS message we reproduce; only ratchets up.
const AWS_MESSAGES_MATCHED_MIN: u32 = 23;

/// The whole `InvalidDefinition` text, or one diagnostic's message (ValidateStateMachineDefinition),
/// matched through the case's placeholder regex where LocalStack tokenised it.
fn message_matches(expected: &Value, report: &state_language::Report) -> bool {
    let want = expected["message"].as_str().unwrap_or_default();
    let got = report.aws_message();
    if got == want || report.diagnostics.iter().any(|d| d.message == want) {
        return true;
    }
    let re = expected["placeholder_regex"]["$.message"].as_str().and_then(|r| regex_lite::Regex::new(r).ok());
    re.is_some_and(|re| re.is_match(&got))
}

fn check(file: &Value) -> Result<state_language::Report, String> {
    let express = file.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
    let options = Options { express };
    Ok(match (file.get("definition"), file.get("definition_text").and_then(Value::as_str)) {
        (_, Some(text)) => validate_text(text, options),
        (Some(def), None) => validate(def, options),
        (None, None) => return Err("no definition in file".into()),
    })
}

#[test]
fn invalid_and_valid_definitions() -> anyhow::Result<()> {
    let root = shared_dir().join("conformance");
    let known = known::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/known-validation-failures.txt"),
    )?;
    let (mut ran, mut failed) = (Vec::new(), BTreeMap::new());
    let mut exact = (0u32, 0u32);
    for (sub, must_pass) in [("invalid", false), ("valid", true)] {
        for path in json_files(&root.join(sub))? {
            let file: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            let name = file["name"].as_str().unwrap_or_default().to_string();
            let report = check(&file).map_err(anyhow::Error::msg)?;
            if !must_pass && file["aws_validated"] == Value::Bool(true) {
                exact.1 += 1;
                if message_matches(&file["expected"], &report) {
                    exact.0 += 1;
                } else {
                    println!(
                        "message differs: {name}\n  AWS: {}\n  we: {}",
                        file["expected"]["message"],
                        report.aws_message()
                    );
                }
            }
            if report.is_ok() != must_pass {
                let why = if must_pass { report.aws_message() } else { "accepted, AWS rejects it".into() };
                failed.insert(name.clone(), why);
            }
            ran.push(name);
        }
    }
    println!("validation corpus: {} judged as AWS does, {} not", ran.len() - failed.len(), failed.len());
    println!("AWS-validated invalid definitions whose message we match: {}/{}", exact.0, exact.1);
    assert!(exact.0 >= AWS_MESSAGES_MATCHED_MIN, "message fidelity fell below {AWS_MESSAGES_MATCHED_MIN}");
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{p}");
    }
    assert!(problems.is_empty(), "{} validation corpus problems (see above)", problems.len());
    Ok(())
}
