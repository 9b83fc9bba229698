//! Regression tests for the defects found by probing the server as an
//! attacker and as a new user would (the hardening issue). Each test fails on
//! the code before its fix.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod addressing;
#[path = "../common/mod.rs"]
mod common;
mod connections;
mod limits;
mod load;

use serde_json::{Value, json};

/// A JSON request to the server's API, as any client sends it; gives the status and body.
pub fn call(endpoint: &str, operation: &str, body: Value) -> (u16, Value) {
    let target = format!("AWSStepFunctions.{operation}");
    common::raw_post(endpoint, Some(&target), body.to_string().as_bytes())
}

/// The server process's resident memory (`VmRSS`) and peak (`VmHWM`), in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a memory field")
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A JSONata Pass state evaluating `output`, as TestState takes it.
pub fn pass_state(output: &str) -> Value {
    json!({"QueryLanguage": "JSONata", "Type": "Pass", "Output": output, "End": true})
}
