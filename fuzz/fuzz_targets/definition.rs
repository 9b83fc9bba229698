//! Any text as a definition: validation must answer, never panic or hang;
//! an accepted definition must run to an end under a bounded simulation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use state_language::driver::{self, Simulated, TaskOutcome};
use state_language::interpreter::{Limits, StartContext, TaskCommand};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let report = state_language::validate_text(text, state_language::Options::default());
    let Some(def) = report.definition.filter(|_| report.diagnostics.is_empty()) else { return };
    let ctx = StartContext {
        execution_arn: "arn:aws:states:us-east-1:1:execution:f:x".into(),
        execution_name: "x".into(),
        state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:f".into(),
        state_machine_name: "f".into(),
        role_arn: "r".into(),
        seed: 7,
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    };
    let mut host = Simulated { now_ms: 0, tasks: |t: &TaskCommand| TaskOutcome::Succeeded(t.payload.clone()) };
    let limits = Limits { history_events_max: 2_000, ..Limits::default() };
    let _ = driver::run(&def, serde_json::json!({"a": [1, {"b": "c"}]}), ctx, &mut host, limits, false);
});
