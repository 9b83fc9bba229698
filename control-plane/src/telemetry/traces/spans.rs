//! Which spans a history makes: pure, so it is tested on histories alone.

use std::collections::HashMap;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanId;
use serde_json::Value;

use super::{SPANS_PER_EXECUTION_MAX, derive};

/// A span to build: its id, parent (`None`: the execution's root), name and times.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSpan {
    pub id: SpanId,
    pub parent: Option<SpanId>,
    pub name: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub error: Option<String>,
    pub attributes: Vec<KeyValue>,
}

const TASK_OPEN: [&str; 3] = ["TaskScheduled", "ActivityScheduled", "LambdaFunctionScheduled"];
const TASK_CLOSE_OK: [&str; 3] = ["TaskSucceeded", "ActivitySucceeded", "LambdaFunctionSucceeded"];

fn details(e: &Value) -> &Value {
    e.as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")).map(|(_, v)| v))
        .unwrap_or(&Value::Null)
}

fn holds_others(kind: &str) -> bool {
    kind.starts_with("Parallel") || kind.starts_with("Map")
}

struct Open {
    id: SpanId,
    parent: Option<SpanId>,
    start_ms: i64,
    error: Option<String>,
}

/// The spans of an ASL history: a state from its entry to its exit (under the
/// Parallel or Map state that holds it), a task attempt from its scheduling to
/// its answer (under its state). What is still open at `stop_ms` ends there.
pub fn spans_of(arn: &str, events: &[Value], stop_ms: i64) -> Vec<PlannedSpan> {
    let mut out = Vec::new();
    // Per event: the span of the state it belongs to, and of the state holding it.
    let mut state_of: HashMap<u64, Option<SpanId>> = HashMap::new();
    let mut holder_of: HashMap<u64, Option<SpanId>> = HashMap::new();
    let mut states: HashMap<SpanId, (String, Open)> = HashMap::new();
    let mut by_name: HashMap<String, Vec<SpanId>> = HashMap::new();
    let mut tasks: HashMap<SpanId, (String, Open)> = HashMap::new();
    for e in events {
        let id = e["id"].as_u64().unwrap_or_default();
        let prev = e["previousEventId"].as_u64().unwrap_or_default();
        let kind = e["type"].as_str().unwrap_or_default();
        // Stored histories keep milliseconds (the API shows seconds).
        let time = e["timestamp"].as_i64().unwrap_or(stop_ms);
        let d = details(e);
        let mut state = state_of.get(&prev).copied().flatten();
        let mut holder = holder_of.get(&prev).copied().flatten();
        if kind.ends_with("StateEntered") {
            let name = d["name"].as_str().unwrap_or_default().to_string();
            let span = SpanId::from_bytes(derive(arn, &format!("event-{id}")));
            states.insert(span, (name.clone(), Open { id: span, parent: holder, start_ms: time, error: None }));
            by_name.entry(name).or_default().push(span);
            state = Some(span);
            if holds_others(kind) {
                holder = Some(span);
            }
        } else if kind.ends_with("StateExited") {
            let name = d["name"].as_str().unwrap_or_default();
            if let Some(span) = by_name.get_mut(name).and_then(Vec::pop)
                && let Some((name, open)) = states.remove(&span)
            {
                if holds_others(kind) {
                    holder = open.parent;
                }
                out.push(close(format!("state {name}"), open, time, kind));
            }
            state = None;
        } else if TASK_OPEN.contains(&kind) {
            let span = SpanId::from_bytes(derive(arn, &format!("event-{id}")));
            let resource = match (d["resourceType"].as_str(), d["resource"].as_str()) {
                (Some(kind), Some(r)) => format!("{kind}:{r}"),
                (_, Some(r)) => r.to_string(),
                _ => "task".to_string(),
            };
            tasks.insert(span, (resource, Open { id: span, parent: state, start_ms: time, error: None }));
            state = Some(span);
        } else if let Some((resource, mut open)) = state.and_then(|s| tasks.remove(&s)) {
            // The answer to the attempt this thread of events scheduled.
            if !TASK_CLOSE_OK.contains(&kind) && (kind.ends_with("Failed") || kind.ends_with("TimedOut")) {
                open.error = Some(d["error"].as_str().unwrap_or(kind).to_string());
            }
            let parent = open.parent;
            out.push(close(format!("task {resource}"), open, time, kind));
            state = parent;
        } else if kind.ends_with("Failed")
            && !kind.starts_with("Execution")
            && let Some((_, open)) = state.and_then(|s| states.get_mut(&s))
        {
            open.error = Some(d["error"].as_str().unwrap_or(kind).to_string());
        }
        state_of.insert(id, state);
        holder_of.insert(id, holder);
        if out.len() >= SPANS_PER_EXECUTION_MAX {
            tracing::warn!(execution = arn, "a trace was cut at {SPANS_PER_EXECUTION_MAX} spans");
            return out;
        }
    }
    for (resource, open) in tasks.into_values() {
        out.push(close(format!("task {resource}"), open, stop_ms, "open at the close"));
    }
    for (name, mut open) in states.into_values() {
        open.error.get_or_insert_with(|| "the execution closed in this state".into());
        out.push(close(format!("state {name}"), open, stop_ms, "open at the close"));
    }
    out
}

fn close(name: String, open: Open, end_ms: i64, last: &str) -> PlannedSpan {
    PlannedSpan {
        id: open.id,
        parent: open.parent,
        name,
        start_ms: open.start_ms,
        end_ms: end_ms.max(open.start_ms),
        error: open.error,
        attributes: vec![KeyValue::new("stepwise.last_event", last.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, prev: u64, kind: &str, details: Value) -> Value {
        json!({"id": id, "previousEventId": prev, "type": kind, "timestamp": 1000 + id, "d": details})
    }

    fn entered(id: u64, prev: u64, kind: &str, name: &str) -> Value {
        let mut e = ev(id, prev, kind, Value::Null);
        e["stateEnteredEventDetails"] = json!({"name": name});
        e
    }

    fn exited(id: u64, prev: u64, kind: &str, name: &str) -> Value {
        let mut e = ev(id, prev, kind, Value::Null);
        e["stateExitedEventDetails"] = json!({"name": name});
        e
    }

    #[test]
    fn states_nest_in_their_parallel_and_tasks_in_their_state() {
        let mut scheduled = ev(5, 4, "TaskScheduled", Value::Null);
        scheduled["taskScheduledEventDetails"] = json!({"resource": "invoke"});
        let mut failed = ev(6, 5, "TaskFailed", Value::Null);
        failed["taskFailedEventDetails"] = json!({"error": "Boom"});
        let history = vec![
            ev(1, 0, "ExecutionStarted", Value::Null),
            entered(2, 1, "ParallelStateEntered", "Fan"),
            ev(3, 2, "ParallelStateStarted", Value::Null),
            entered(4, 3, "TaskStateEntered", "Call"),
            scheduled,
            failed,
            exited(7, 6, "TaskStateExited", "Call"),
            ev(8, 7, "ParallelStateSucceeded", Value::Null),
            exited(9, 8, "ParallelStateExited", "Fan"),
        ];
        let spans = spans_of("arn", &history, 2000);
        let find = |n: &str| spans.iter().find(|s| s.name == n).unwrap_or_else(|| panic!("{n} in {spans:?}"));
        let (fan, call, task) = (find("state Fan"), find("state Call"), find("task invoke"));
        assert_eq!(fan.parent, None, "the top-level state hangs from the root");
        assert_eq!(call.parent, Some(fan.id), "a branch's state is inside its Parallel");
        assert_eq!(task.parent, Some(call.id), "an attempt is inside its state");
        assert_eq!(task.error.as_deref(), Some("Boom"));
        assert_eq!((fan.start_ms, fan.end_ms), (1002, 1009));
        assert_eq!(spans_of("arn", &history, 2000), spans, "the same history makes the same spans");
    }

    #[test]
    fn a_state_open_at_the_close_ends_there_as_an_error() {
        let history = vec![ev(1, 0, "ExecutionStarted", Value::Null), entered(2, 1, "FailStateEntered", "Stop")];
        let spans = spans_of("arn", &history, 5_000_000);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].end_ms, 5_000_000);
        assert!(spans[0].error.is_some());
    }
}
