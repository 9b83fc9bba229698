//! Executions that outgrow a commit or the history cap fail, as on AWS,
//! instead of being retried forever or holding more than 25,000 events.

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

use crate::common::{Server, create_machine, finished, temp_dir};

/// A Map whose one step produces more history than one commit carries
/// (200 outputs of 200 KB: over 130 history pages; a commit has 99 writes).
fn oversized_map(first_wait: bool) -> Value {
    let map = json!({"Type": "Map", "Items": "{% [1..200] %}", "MaxConcurrency": 0,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Output": "{% $pad('', 200000, 'x') %}", "End": true}}},
        "Next": "After"});
    let mut states = json!({"M": map, "After": {"Type": "Pass", "End": true}});
    let start = if first_wait {
        states["W"] = json!({"Type": "Wait", "Seconds": 1, "Next": "M"});
        "W"
    } else {
        "M"
    };
    json!({"QueryLanguage": "JSONata", "StartAt": start, "States": states})
}

/// The issue's own machine: an inline Map over a million items at once.
fn million_items(first_wait: bool) -> Value {
    let mut def = oversized_map(first_wait);
    def["States"]["M"]["Items"] = json!("{% [1..1000000] %}");
    def["States"]["M"]["ItemProcessor"]["States"]["P"] = json!({"Type": "Pass", "End": true});
    def
}

#[tokio::test]
async fn a_step_over_the_commit_limit_fails_the_execution_on_start_and_later() {
    let s = Server::start(&temp_dir("oversized-step"));
    let c = s.client();
    let cases = [
        ("oversized-later", oversized_map(true), "writes; the limit is"),
        ("oversized-first", oversized_map(false), "writes; the limit is"),
        ("million-later", million_items(true), "maximum number of history events"),
        ("million-first", million_items(false), "maximum number of history events"),
    ];
    for (name, def, cause) in cases {
        let arn = create_machine(&c, name, &def.to_string()).await;
        // StartExecution answers 200 even when the first state cannot be committed.
        let exec = c.start_execution().state_machine_arn(&arn).send().await.expect("StartExecution");
        let d = finished(&c, &exec.execution_arn).await;
        assert_eq!(d.status, ExecutionStatus::Failed, "{name}");
        assert_eq!(d.error.as_deref(), Some("States.Runtime"), "{name}");
        assert!(d.cause.as_deref().is_some_and(|c| c.contains(cause)), "{name}: {:?}", d.cause);
        if name == "oversized-first" {
            // A redrive that would take the same step at once is refused, with the reason, and changes nothing.
            let e = c.redrive_execution().execution_arn(&exec.execution_arn).send().await.expect_err("not redrivable");
            assert_eq!(crate::common::error_code(&e), "ExecutionNotRedrivable", "{e:?}");
        }
        if name == "oversized-later" {
            // This one restarts at its Wait, so the redrive is taken; the Map then fails it again.
            c.redrive_execution().execution_arn(&exec.execution_arn).send().await.expect("RedriveExecution");
            let d = crate::common::eventually("the redriven execution fails again", || async {
                let d = c.describe_execution().execution_arn(&exec.execution_arn).send().await.ok()?;
                (d.status == ExecutionStatus::Failed && d.redrive_count == Some(1)).then_some(d)
            })
            .await;
            assert_eq!(d.error.as_deref(), Some("States.Runtime"));
        }
    }
    // The server is idle again: no step is being retried.
    let (rss, peak) = crate::memory_kib(s.pid());
    eprintln!("after the oversized steps: RSS {rss} KiB, peak {peak} KiB");
    assert!(peak < 1024 * 1024, "peak memory {peak} KiB is over the documented bound of 1 GiB");
}

#[tokio::test]
async fn the_history_cap_holds_as_events_are_produced() {
    let s = Server::start(&temp_dir("history-cap"));
    let c = s.client();
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "Items": "{% [1..40000] %}", "MaxConcurrency": 0,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let arn = create_machine(&c, "cap", &def.to_string()).await;
    let exec = c.start_execution().state_machine_arn(&arn).send().await.expect("StartExecution");
    let d = finished(&c, &exec.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.Runtime"));
    let mut ids = Vec::new();
    let mut last_type = None;
    let mut token = None;
    loop {
        let page = c
            .get_execution_history()
            .execution_arn(&exec.execution_arn)
            .max_results(1000)
            .set_next_token(token)
            .include_execution_data(false)
            .send()
            .await
            .expect("GetExecutionHistory");
        for e in page.events() {
            ids.push(e.id);
            last_type = Some(e.r#type.clone());
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(ids.len(), 25_000, "the history stops at AWS's cap");
    assert!(ids.iter().enumerate().all(|(i, id)| *id == i as i64 + 1), "ids are contiguous");
    assert_eq!(last_type, Some(aws_sdk_sfn::types::HistoryEventType::ExecutionFailed));
}
