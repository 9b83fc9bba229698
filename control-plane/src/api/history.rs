//! GetExecutionHistory: stored pages rendered in AWS's shape.

use serde_json::{Map, Value, json};

use super::executions::load;
use super::{Req, ts};
use crate::Error;
use crate::engine::{Engine, decode};
use crate::model::keys;
use crate::store::Query;

/// History pages one call reads at most: AWS caps a history at 25,000 events.
const PAGES_MAX: usize = 25_000;

pub(super) async fn get(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("executionArn")?;
    let rec = load(engine, arn).await?;
    let limit = r.max_results(100)?;
    let reverse = r.bool("reverseOrder")?.unwrap_or(false);
    let include_data = r.bool("includeExecutionData")?.unwrap_or(true);
    let start = match super::decode_token(r)? {
        Some(t) => t.parse::<usize>().map_err(|_| Error::api("InvalidToken", format!("Invalid Token: '{t}'")))?,
        None => 0,
    };
    let last_id = rec.last_event_id();
    let (pk, _) = keys::history_page(arn, 0);
    let mut events: Vec<Value> = Vec::new();
    let mut after = None;
    if let Some(run) = &rec.code {
        events = code_events(run);
    }
    for _ in 0..PAGES_MAX {
        if rec.code.is_some() {
            break; // a code run keeps its history in its record
        }
        let q = Query { pk: pk.clone(), sk_prefix: "H#".into(), after: after.clone(), limit: 100, descending: false };
        let page = engine.store.query(q).await?;
        for item in &page.items {
            let page_events: Vec<Value> = decode(&item.body)?;
            events.extend(page_events.into_iter().filter(|e| e["id"].as_u64().is_some_and(|id| id <= last_id)));
        }
        match page.last {
            Some(l) => after = Some(l),
            None => break,
        }
    }
    if reverse {
        events.reverse();
    }
    let total = events.len();
    let shown: Vec<Value> =
        events.into_iter().skip(start).take(limit).map(|e| render(engine, e, include_data)).collect();
    let mut out = json!({"events": shown});
    if start + limit < total {
        out["nextToken"] = json!(super::encode_token(&(start + limit).to_string()));
    }
    Ok(out)
}

/// A code workflow's history in AWS's event shape: id, previous id,
/// timestamp and type, with the event's fields as `workflowEventDetails`.
fn code_events(run: &stepwise_sdk::workflow::host::Run) -> Vec<Value> {
    run.history
        .iter()
        .zip(&run.times)
        .enumerate()
        .map(|(i, (e, at))| {
            let mut details = serde_json::to_value(e).unwrap_or_default();
            let kind = details.as_object_mut().and_then(|o| o.remove("type")).unwrap_or_default();
            json!({"id": i + 1, "previousEventId": i, "timestamp": at, "type": kind, "workflowEventDetails": details})
        })
        .collect()
}

/// Timestamps in seconds; activity tasks under AWS's Activity* names; payloads
/// dropped when `includeExecutionData` is false.
fn render(engine: &Engine, mut e: Value, include_data: bool) -> Value {
    if let Some(t) = e["timestamp"].as_i64() {
        e["timestamp"] = ts(t);
    }
    let Some(obj) = e.as_object_mut() else { return e };
    let detail_key = obj.keys().find(|k| k.ends_with("EventDetails")).cloned();
    if let Some(k) = detail_key
        && obj[&k]["resourceType"] == "activity"
        && let Some(Value::Object(d)) = obj.remove(&k)
    {
        let kind = obj["type"].as_str().unwrap_or_default().trim_start_matches("Task").to_string();
        let name = d.get("resource").and_then(Value::as_str).unwrap_or_default();
        let mut nd = Map::new();
        match kind.as_str() {
            "Scheduled" => {
                nd.insert("resource".into(), json!(engine.scope.activity(name)));
                nd.insert("input".into(), d.get("parameters").cloned().unwrap_or(Value::Null));
                nd.insert("inputDetails".into(), json!({"truncated": false}));
                for f in ["timeoutInSeconds", "heartbeatInSeconds"] {
                    if let Some(v) = d.get(f) {
                        nd.insert(f.into(), v.clone());
                    }
                }
            }
            "Started" => {}
            _ => {
                for (f, v) in d {
                    if f != "resource" && f != "resourceType" {
                        nd.insert(f, v);
                    }
                }
            }
        }
        obj.insert("type".into(), json!(format!("Activity{kind}")));
        obj.insert(format!("activity{kind}EventDetails"), Value::Object(nd));
    }
    // Payloads are JSON text on the wire, or absent without execution data.
    for v in obj.values_mut() {
        if let Value::Object(d) = v {
            for f in ["input", "output", "parameters"] {
                if !include_data {
                    d.remove(f);
                } else if let Some(p) = d.get_mut(f) {
                    *p = Value::String(state_language::json::to_string(p));
                }
            }
        }
    }
    e
}
