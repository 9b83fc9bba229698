//! Schedules in the serverless home: boto3's `scheduler` client against the
//! `api` function URL (signed), fires carried as SQS delayed messages to the
//! `scheduler` function. SQS delays are whole seconds and the local host
//! polls its event source mappings, so the serverless home's bound on a
//! fire's lateness is its own (measured and printed).

use std::process::Command;

use super::{STACK_KEY, Stack};

/// How late a fire may start in the serverless home, in seconds.
pub const LATE_S_MAX: &str = "10";

fn script(stack: &Stack, name: &str, args: &[&str]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../control-plane/tests/smoke").join(name);
    let out = Command::new("python3")
        .arg(&script)
        .arg(&stack.api)
        .args(args)
        .env("STEPWISE_TEST_ACCESS_KEY_ID", STACK_KEY.0)
        .env("STEPWISE_TEST_SECRET_ACCESS_KEY", STACK_KEY.1)
        .env("SCHEDULE_LATE_S_MAX", LATE_S_MAX)
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "{name} failed:\n{text}\n{}", stack.log("scheduler"));
}

/// The Scheduler API and a one-time schedule's lateness, in real time.
pub fn boto3(stack: &Stack) {
    script(stack, "scheduler_boto3.py", &[]);
}

/// Hourly fires on a fast clock: each fire time one execution, under the
/// stack's faults (duplicate deliveries, lost messages, crashes).
pub fn fires(stack: &Stack, name: &str) {
    script(stack, "scheduler_fires.py", &[name]);
}
