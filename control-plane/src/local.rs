//! The local runner: runs one execution in-process with the real clock.
//! Tasks cannot be performed here; they fail with a message that says so.

// The local runner is a host: it gives the pure interpreter its time.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use state_language::driver::{self, Host, Outcome, TaskOutcome};
use state_language::interpreter::{Limits, StartContext, TaskCommand};

use crate::Error;

/// The error a Task gets from the local runner.
pub const TASK_UNSUPPORTED_ERROR: &str = "Stepwise.TaskNotSupported";

/// Longest single sleep, so a Ctrl-C is seen within this bound.
const SLEEP_SLICE_MS: u64 = 1_000;

pub struct LocalHost {
    /// When false, timers fire at once (`--no-wait`): virtual time runs ahead of the clock.
    pub real_time: bool,
    offset_ms: i64,
}

impl LocalHost {
    pub fn new(real_time: bool) -> Self {
        LocalHost { real_time, offset_ms: 0 }
    }

    fn wall_ms() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

impl Host for LocalHost {
    fn now_ms(&mut self) -> i64 {
        Self::wall_ms() + self.offset_ms
    }

    fn wait_until(&mut self, ms: i64) -> i64 {
        loop {
            let now = self.now_ms();
            if now >= ms {
                return now;
            }
            if !self.real_time {
                self.offset_ms += ms - now;
                continue;
            }
            std::thread::sleep(Duration::from_millis(((ms - now) as u64).min(SLEEP_SLICE_MS)));
        }
    }

    fn run_task(&mut self, task: &TaskCommand) -> TaskOutcome {
        TaskOutcome::Failed {
            error: TASK_UNSUPPORTED_ERROR.into(),
            cause: format!(
                "The local runner cannot perform the Task state '{}' (resource {}). Run the definition under `stepwise server`, which performs tasks.",
                task.state_name, task.resource
            ),
        }
    }
}

/// Validates and runs a definition to completion.
pub fn run(definition: &str, input: Value, name: &str, real_time: bool) -> Result<Outcome, Error> {
    let report = state_language::validate_text(definition, state_language::Options::default());
    let def = match (report.is_ok(), report.definition.clone()) {
        (true, Some(d)) => d,
        _ => return Err(Error::Invalid(crate::local::render_diagnostics(&report))),
    };
    let size = state_language::json::size_bytes(&input);
    if size > state_language::limits::PAYLOAD_BYTES_MAX {
        return Err(Error::InputTooLarge { size, max: state_language::limits::PAYLOAD_BYTES_MAX });
    }
    let mut seed_bytes = [0u8; 8];
    // The seed only needs to differ between runs; the clock's nanoseconds and the pid suffice here.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    seed_bytes.copy_from_slice(&((nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)).to_le_bytes());
    let context = StartContext {
        execution_arn: format!("arn:aws:states:local:000000000000:execution:local:{name}"),
        execution_name: name.to_string(),
        state_machine_arn: "arn:aws:states:local:000000000000:stateMachine:local".into(),
        state_machine_name: "local".into(),
        role_arn: "arn:aws:iam::000000000000:role/stepwise-local".into(),
        seed: u64::from_le_bytes(seed_bytes),
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    };
    let mut host = LocalHost::new(real_time);
    Ok(driver::run(&def, input, context, &mut host, Limits::default(), true)?)
}

/// Human-readable diagnostics, one per line.
pub fn render_diagnostics(report: &state_language::Report) -> String {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let at = if d.location.is_empty() { "/" } else { d.location.as_str() };
            let sev = match d.severity {
                state_language::Severity::Error => "error",
                state_language::Severity::Warning => "warning",
            };
            format!("{sev} {} at {at}: {}", d.code, d.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
