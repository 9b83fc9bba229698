//! Event histories against AWS's recorded ones: types, ids, chaining and
//! detail fields of every engine-only JSONPath case that has a history.

use std::collections::BTreeMap;

use serde_json::Value;
use stepwise_tests::{engine, history, json_files, known, shared_dir};

fn compare_case(case: &Value) -> Result<(), String> {
    let recorded = case["history"]["events"].as_array().ok_or("no history")?;
    let out = engine::run(case, true)?;
    let ours = serde_json::to_value(&out.history).map_err(|e| e.to_string())?;
    let mut ours: Vec<Value> = ours.as_array().ok_or("history is not an array")?.clone();
    let tokens = history::Tokens::of(case);
    // LocalStack's re-sorting of Parallel events dropped ParallelStateSucceeded
    // from the recordings (the case's notes say so); AWS does emit it.
    let resorted = case["history"]["notes"].to_string().contains("SfnNoneRecursiveParallelTransformer");
    if resorted && !recorded.iter().any(|e| e["type"] == "ParallelStateSucceeded") {
        ours.retain(|e| e["type"] != "ParallelStateSucceeded");
    }
    let ours = &ours;
    let def = case["definition"].to_string();
    // Branches and iterations interleave differently between runs, and LocalStack
    // re-sorted them: compare those histories as multisets, the others in order.
    let concurrent = def.contains("\"Parallel\"") || def.contains("\"Map\"");
    if ours.len() != recorded.len() {
        let t = |v: &[Value]| v.iter().map(|e| e["type"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>();
        return Err(format!("{} events vs {}: {:?} vs {:?}", ours.len(), recorded.len(), t(ours), t(recorded)));
    }
    let mut problems = Vec::new();
    if concurrent {
        let mut unmatched: Vec<&Value> = ours.iter().collect();
        for r in recorded {
            match unmatched.iter().position(|o| history::event_diff(o, r, &tokens).is_empty()) {
                Some(i) => {
                    unmatched.remove(i);
                }
                None => {
                    let best = unmatched.iter().find(|o| o["type"] == r["type"]);
                    let why = best.map(|o| history::event_diff(o, r, &tokens).join("; ")).unwrap_or_default();
                    problems.push(format!("no match for {} ({why})", r["type"]));
                }
            }
        }
    } else {
        for (o, r) in ours.iter().zip(recorded) {
            for k in ["id", "previousEventId"] {
                if o[k] != r[k] {
                    problems.push(format!("{} {k} {} vs {}", r["type"], o[k], r[k]));
                }
            }
            problems.extend(history::event_diff(o, r, &tokens));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join(" | ")) }
}

#[test]
fn histories_match_aws() -> anyhow::Result<()> {
    let dir = shared_dir().join("conformance/cases");
    let list = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/known-history-failures.txt");
    let known = known::load(&list)?;
    let (mut ran, mut failed) = (Vec::new(), BTreeMap::new());
    for file in json_files(&dir)? {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let engine_only = case["needs"].as_array().is_some_and(Vec::is_empty);
        if !engine_only || case["history"]["events"].as_array().is_none() {
            continue;
        }
        let name = case["name"].as_str().unwrap_or_default().to_string();
        if let Err(why) = compare_case(&case) {
            failed.insert(name.clone(), why);
        }
        ran.push(name);
    }
    println!("histories: {} match AWS, {} differ", ran.len() - failed.len(), failed.len());
    let problems = known::check(&known, &ran, &failed);
    for p in &problems {
        println!("{}", p.chars().take(600).collect::<String>());
    }
    assert!(problems.is_empty(), "{} history problems (see above)", problems.len());
    Ok(())
}
