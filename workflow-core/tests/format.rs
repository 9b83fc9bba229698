//! A run stored in another format is refused, never misread; a run stored
//! before the format was recorded reads as format 1.

use serde_json::json;
use stepwise_workflow_core::host::{HostError, HostInput, RUN_FORMAT_VERSION, Run};

#[test]
fn runs_of_another_format_are_refused() {
    let mut run = Run::new("t", "q", "arn:aws:states:us-east-1:1:stateMachine:", 1, "key");
    assert_eq!(run.format, RUN_FORMAT_VERSION);
    let mut stored = serde_json::to_value(&run).expect("a run serializes");
    stored["format"] = json!(RUN_FORMAT_VERSION + 1);
    let mut newer: Run = serde_json::from_value(stored.clone()).expect("it still parses");
    let refused = newer.step(HostInput::Start { input: json!(null) }, 0);
    assert!(matches!(refused, Err(HostError::Version { .. })), "{refused:?}");
    stored.as_object_mut().expect("an object").remove("format");
    let older: Run = serde_json::from_value(stored).expect("an older run parses");
    assert_eq!(older.format, 1);
    assert!(run.step(HostInput::Start { input: json!(null) }, 0).is_ok());
}
