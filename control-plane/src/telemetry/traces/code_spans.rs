//! Which spans a code workflow's history makes: each workflow task, activity
//! (scheduling to its outcome, over all attempts), timer and child, under the
//! execution's root. Pure, so it is tested on histories alone.

use std::collections::HashMap;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanId;
use serde_json::Value;

use super::{PlannedSpan, SPANS_PER_EXECUTION_MAX, derive};

/// The span an event opens, keyed by what closes it: (family, seq).
fn opens(kind: &str, d: &Value) -> Option<(&'static str, u64, String)> {
    let seq = d["seq"].as_u64();
    match kind {
        "WorkflowTaskScheduled" => Some(("task", 0, "workflow task".into())),
        "ActivityScheduled" => Some(("activity", seq?, format!("activity {}", d["name"].as_str().unwrap_or("?")))),
        "TimerStarted" => Some(("timer", seq?, "timer".into())),
        "ChildStarted" => Some(("child", seq?, format!("child {}", d["workflow_type"].as_str().unwrap_or("?")))),
        _ => None,
    }
}

/// What an event closes, and the error it closes it with.
fn closes(kind: &str, d: &Value) -> Option<((&'static str, u64), Option<String>)> {
    let seq = d["seq"].as_u64();
    let error = || d["error"]["error_type"].as_str().or(d["error"].as_str()).map(str::to_string).or(Some(kind.into()));
    match kind {
        "WorkflowTaskCompleted" => Some((("task", 0), None)),
        "WorkflowTaskFailed" | "WorkflowTaskTimedOut" => Some((("task", 0), error())),
        "ActivityCompleted" => Some((("activity", seq?), None)),
        "ActivityFailed" | "ActivityTimedOut" | "ActivityCancelled" => Some((("activity", seq?), error())),
        "TimerFired" | "TimerCancelled" => Some((("timer", seq?), None)),
        "ChildCompleted" => Some((("child", seq?), None)),
        "ChildFailed" => Some((("child", seq?), error())),
        _ => None,
    }
}

pub fn code_spans_of(arn: &str, events: &[Value], stop_ms: i64) -> Vec<PlannedSpan> {
    let mut out = Vec::new();
    let mut open: HashMap<(&'static str, u64), (SpanId, String, i64)> = HashMap::new();
    for e in events {
        let id = e["id"].as_u64().unwrap_or_default();
        let kind = e["type"].as_str().unwrap_or_default();
        let time = e["timestamp"].as_i64().unwrap_or(stop_ms);
        let d = &e["workflowEventDetails"];
        if let Some((family, seq, name)) = opens(kind, d) {
            let span = SpanId::from_bytes(derive(arn, &format!("event-{id}")));
            open.insert((family, seq), (span, name, time));
        } else if let Some((key, error)) = closes(kind, d)
            && let Some((span, name, start_ms)) = open.remove(&key)
        {
            out.push(planned(span, name, start_ms, time, error, kind));
        }
        if out.len() >= SPANS_PER_EXECUTION_MAX {
            tracing::warn!(execution = arn, "a trace was cut at {SPANS_PER_EXECUTION_MAX} spans");
            return out;
        }
    }
    for (span, name, start_ms) in open.into_values() {
        out.push(planned(span, name, start_ms, stop_ms, Some("open at the close".into()), "open at the close"));
    }
    out
}

fn planned(id: SpanId, name: String, start_ms: i64, end_ms: i64, error: Option<String>, last: &str) -> PlannedSpan {
    PlannedSpan {
        id,
        parent: None,
        name,
        start_ms,
        end_ms: end_ms.max(start_ms),
        error,
        attributes: vec![KeyValue::new("stepwise.last_event", last.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, kind: &str, details: Value) -> Value {
        json!({"id": id, "previousEventId": id - 1, "type": kind, "timestamp": 100 * id, "workflowEventDetails": details})
    }

    #[test]
    fn activities_timers_and_tasks_span_from_start_to_outcome() {
        let history = vec![
            ev(1, "WorkflowStarted", json!({})),
            ev(2, "WorkflowTaskScheduled", json!({})),
            ev(3, "WorkflowTaskCompleted", json!({})),
            ev(4, "ActivityScheduled", json!({"seq": 1, "name": "charge"})),
            ev(5, "TimerStarted", json!({"seq": 2})),
            ev(6, "ActivityFailed", json!({"seq": 1, "error": {"error_type": "Declined"}})),
            ev(7, "TimerFired", json!({"seq": 2})),
        ];
        let spans = code_spans_of("arn", &history, 900);
        let find = |n: &str| spans.iter().find(|s| s.name == n).unwrap_or_else(|| panic!("{n} in {spans:?}"));
        let charge = find("activity charge");
        assert_eq!((charge.start_ms, charge.end_ms, charge.error.as_deref()), (400, 600, Some("Declined")));
        assert_eq!((find("timer").start_ms, find("timer").end_ms), (500, 700));
        assert_eq!(find("workflow task").error, None);
        assert!(spans.iter().all(|s| s.parent.is_none()), "all hang from the execution's root");
    }
}
