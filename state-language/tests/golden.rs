//! Data-driven engine tests (`tests/golden/*.json`) for behaviour the AWS corpus
//! does not record: each file holds a definition, an input, scripted task
//! outcomes in order, and the expected terminal outcome.

use std::collections::VecDeque;

use serde_json::Value;
use state_language::driver::{self, Host, TaskOutcome};
use state_language::interpreter::{Limits, StartContext, TaskCommand};

struct Scripted {
    now_ms: i64,
    script: VecDeque<Value>,
}

impl Host for Scripted {
    fn now_ms(&mut self) -> i64 {
        self.now_ms
    }
    fn wait_until(&mut self, ms: i64) -> i64 {
        self.now_ms = self.now_ms.max(ms);
        self.now_ms
    }
    fn run_task(&mut self, _task: &TaskCommand) -> TaskOutcome {
        let step = self.script.pop_front().unwrap_or(Value::Null);
        if let Some(v) = step.get("succeed") {
            return TaskOutcome::Succeeded(v.clone());
        }
        if let Some(f) = step.get("fail") {
            let s = |i: usize| f[i].as_str().unwrap_or_default().to_string();
            return TaskOutcome::Failed { error: s(0), cause: s(1) };
        }
        // "hang": the task never answers in time; its timeout fires first.
        self.now_ms += 1_000_000;
        TaskOutcome::Succeeded(Value::Null)
    }
}

pub fn context() -> StartContext {
    StartContext {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:golden:x".into(),
        execution_name: "x".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:golden".into(),
        state_machine_name: "golden".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        seed: 3,
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    }
}

#[test]
fn golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("golden dir").flatten().map(|e| e.path()).collect();
    files.sort();
    assert!(files.len() >= 15);
    let mut failures = Vec::new();
    for f in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        let report = state_language::validate(&case["definition"], Default::default());
        let def = report.definition.unwrap_or_else(|| panic!("{}: {:?}", f.display(), report.diagnostics));
        let script: VecDeque<Value> = case["tasks"].as_array().cloned().unwrap_or_default().into();
        let start = 1_800_000_000_000;
        let mut host = Scripted { now_ms: start, script };
        let out = driver::run(&def, case["input"].clone(), context(), &mut host, Limits::default(), true)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let want = &case["expected"];
        let status = serde_json::to_value(out.status).expect("status");
        let mut problems = Vec::new();
        if status != want["status"] {
            problems.push(format!("status {status} (error {:?}, cause {:?})", out.error, out.cause));
        }
        if let Some(o) = want.get("output")
            && out.output.as_ref() != Some(o)
        {
            problems.push(format!("output {:?}", out.output));
        }
        for (k, got) in [("error", &out.error), ("cause", &out.cause)] {
            if let Some(w) = want.get(k).and_then(Value::as_str)
                && got.as_deref() != Some(w)
            {
                problems.push(format!("{k} {got:?}"));
            }
        }
        if let Some(min) = case["elapsed_ms_min"].as_i64()
            && host.now_ms - start < min
        {
            problems.push(format!("only {} ms of virtual time passed", host.now_ms - start));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", f.file_name().unwrap_or_default().to_string_lossy(), problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "golden failures:\n{}", failures.join("\n"));
}
