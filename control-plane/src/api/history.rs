//! GetExecutionHistory: stored pages rendered in AWS's shape.

use crate::AwsError;
use serde_json::{Map, Value, json};

use super::executions::load;
use super::shapes::responses::History;
use super::shapes::{Ts, max_results, requests as rq};
use crate::Error;
use crate::engine::Engine;

pub(super) async fn get(engine: &Engine, r: rq::GetExecutionHistory) -> Result<History, Error> {
    let arn = r.execution_arn.as_str();
    let rec = load(engine, arn).await?;
    let limit = max_results(r.max_results, 100)?;
    let reverse = r.reverse_order.unwrap_or(false);
    let include_data = r.include_execution_data.unwrap_or(true);
    let start = match super::decode_token(engine, &r, "GetExecutionHistory").await? {
        Some(t) => {
            t.parse::<usize>().map_err(|_| Error::api(AwsError::InvalidToken, format!("Invalid Token: '{t}'")))?
        }
        None => 0,
    };
    let mut events = engine.history_events(arn, 1, rec.last_event_id()).await?;
    if reverse {
        events.reverse();
    }
    let total = events.len();
    let shown: Vec<Value> =
        events.into_iter().skip(start).take(limit).map(|e| render(engine, e, include_data)).collect();
    let next_token = if start + limit < total {
        Some(super::encode_token(engine, &r, "GetExecutionHistory", &(start + limit).to_string()).await?)
    } else {
        None
    };
    Ok(History { events: shown, next_token })
}

/// Timestamps in seconds; activity tasks under AWS's Activity* names; payloads
/// dropped when `includeExecutionData` is false.
fn render(engine: &Engine, mut e: Value, include_data: bool) -> Value {
    if let Some(t) = e["timestamp"].as_i64() {
        e["timestamp"] = json!(Ts(t));
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
