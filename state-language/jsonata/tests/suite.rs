//! The JSONata reference test suite (v2.0.6, in `../shared/jsonata-test-suite`),
//! every case. Cases that differ are listed with a reason in
//! `tests/known-failures.txt`; the list may only shrink.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jsonata::{Expression, Options, Value};
use serde_json::Value as Json;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/jsonata-test-suite")
}

struct Case {
    id: String,
    spec: Json,
    dir: PathBuf,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut groups: Vec<_> =
        std::fs::read_dir(suite().join("groups")).expect("the suite").flatten().map(|e| e.path()).collect();
    groups.sort();
    for g in groups {
        let mut files: Vec<_> = std::fs::read_dir(&g).expect("a group").flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files.into_iter().filter(|f| f.extension().is_some_and(|x| x == "json")) {
            let name = format!(
                "{}/{}",
                g.file_name().unwrap_or_default().to_string_lossy(),
                f.file_stem().unwrap_or_default().to_string_lossy()
            );
            // A case Rust cannot read (a lone surrogate in a string) stays a case, and fails.
            let text = std::fs::read_to_string(&f).expect("a case");
            let spec: Json =
                serde_json::from_str(&text).unwrap_or_else(|e| serde_json::json!({"unreadable": e.to_string()}));
            match spec {
                Json::Array(list) => {
                    for (i, s) in list.into_iter().enumerate() {
                        out.push(Case { id: format!("{name}[{i}]"), spec: s, dir: g.clone() });
                    }
                }
                s => out.push(Case { id: name, spec: s, dir: g.clone() }),
            }
        }
    }
    out
}

fn same(a: &Json, b: &Json, unordered: bool) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) if unordered => {
            x.len() == y.len() && x.iter().all(|i| y.iter().any(|j| same(i, j, false)))
        }
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(i, j)| same(i, j, false)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w, false)))
        }
        _ => a == b,
    }
}

/// Why a case fails, or `None` when it passes.
fn run(case: &Case) -> Option<String> {
    let s = &case.spec;
    if let Some(why) = s.get("unreadable") {
        return Some(format!("the case file is not JSON serde can read: {why}"));
    }
    let expr = match (s.get("expr").and_then(Json::as_str), s.get("expr-file").and_then(Json::as_str)) {
        (Some(e), _) => e.to_string(),
        (None, Some(f)) => std::fs::read_to_string(case.dir.join(f)).ok()?,
        _ => return Some("no expression".into()),
    };
    let input: Option<Json> = match (s.get("data"), s.get("dataset")) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(Json::String(name))) => {
            let text = std::fs::read_to_string(suite().join("datasets").join(format!("{name}.json"))).ok()?;
            Some(serde_json::from_str(&text).ok()?)
        }
        _ => None,
    };
    let bindings: Vec<(String, Value)> = s
        .get("bindings")
        .and_then(Json::as_object)
        .map(|b| b.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
        .unwrap_or_default();
    let mut options = Options::default();
    if let Some(d) = s.get("depth").and_then(Json::as_u64) {
        options.depth_max = d as usize;
    }
    if let Some(t) = s.get("timelimit").and_then(Json::as_u64) {
        // The reference's harness stops an evaluation after `timelimit` ms: a step budget stands in.
        options.evaluations_max = t * 5_000;
    }
    let expected_code = s.get("code").or_else(|| s.get("error").and_then(|e| e.get("code"))).and_then(Json::as_str);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let e = Expression::parse(&expr)?;
        let refs: Vec<(&str, Value)> = bindings.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        e.evaluate_json(input.as_ref(), &refs, options)
    }));
    let result = match result {
        Ok(r) => r,
        Err(_) => return Some("panicked".into()),
    };
    match (result, expected_code) {
        (Err(e), Some(code)) if e.code == code => None,
        (Err(e), Some(code)) => Some(format!("expected {code}, got {}: {}", e.code, e.message())),
        (Err(e), None) => Some(format!("error {}: {}", e.code, e.message())),
        (Ok(v), Some(code)) => Some(format!("expected {code}, got {v:?}")),
        (Ok(v), None) => {
            let unordered = s.get("unordered").and_then(Json::as_bool).unwrap_or(false);
            match (v, s.get("result")) {
                (None, None) if s.get("undefinedResult").is_some() => None,
                (Some(got), Some(want)) if same(&got, want, unordered) => None,
                (got, want) => Some(format!("expected {want:?}, got {got:?}")),
            }
        }
    }
}

#[test]
fn reference_test_suite() {
    let listed: BTreeMap<String, String> =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/known-failures.txt"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(' ') {
                Some((id, why)) => (id.to_string(), why.to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect();
    let all = cases();
    let mut failed = Vec::new();
    let mut new_failures = Vec::new();
    for case in &all {
        if let Some(why) = run(case) {
            if !listed.contains_key(&case.id) {
                new_failures.push(format!("NEW FAILURE {}: {why}", case.id));
            }
            failed.push(case.id.clone());
        }
    }
    let now_passing: Vec<_> =
        listed.keys().filter(|id| !failed.contains(id)).map(|id| format!("NOW PASSES {id}")).collect();
    println!("jsonata reference suite: {} of {} cases pass", all.len() - failed.len(), all.len());
    if std::env::var("JSONATA_SUITE_LIST").is_ok() {
        for f in &failed {
            println!("FAILED {f}");
        }
    }
    for l in new_failures.iter().chain(&now_passing) {
        println!("{l}");
    }
    assert!(new_failures.is_empty() && now_passing.is_empty(), "the known-failures list is out of date");
}
