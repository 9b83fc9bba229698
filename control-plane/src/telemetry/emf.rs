//! The serverless home's metrics: the same names and labels as /metrics,
//! written after each invocation as CloudWatch Embedded Metric Format lines
//! (namespace `Stepwise`), the AWS-native way that needs no API call.
//! Counters are the invocation's increments; histograms its observations.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::{Map, Value, json};

use crate::Error;

/// The CloudWatch namespace of Stepwise's metrics.
pub const NAMESPACE: &str = "Stepwise";
/// CloudWatch takes at most 100 values of one metric in one EMF line.
const VALUES_PER_LINE_MAX: usize = 100;

/// Installs the recorder that EMF lines are taken from.
pub fn install() -> Result<Snapshotter, Error> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().map_err(|e| Error::Config(format!("metrics: {e}")))?;
    super::describe();
    Ok(snapshotter)
}

/// The EMF lines for what was recorded since the last call (and resets it).
pub fn lines(snapshotter: &Snapshotter, now_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let name = key.key().name().to_string();
        let labels: Vec<(String, String)> =
            key.key().labels().map(|l| (l.key().to_string(), l.value().to_string())).collect();
        let (unit, values): (&str, Vec<f64>) = match value {
            DebugValue::Counter(0) => continue,
            DebugValue::Counter(n) => ("Count", vec![n as f64]),
            DebugValue::Gauge(g) => ("None", vec![g.into_inner()]),
            DebugValue::Histogram(v) if v.is_empty() => continue,
            DebugValue::Histogram(v) => {
                let unit = if name.ends_with("_seconds") { "Seconds" } else { "None" };
                (unit, v.into_iter().map(|f| f.into_inner()).collect())
            }
        };
        for chunk in values.chunks(VALUES_PER_LINE_MAX) {
            out.push(line(&name, unit, &labels, chunk, now_ms));
        }
    }
    out
}

fn line(name: &str, unit: &str, labels: &[(String, String)], values: &[f64], now_ms: i64) -> String {
    let dimensions: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
    // With labels, the metric is also published without them: the total that alarms watch.
    let sets: Vec<Vec<&str>> = if dimensions.is_empty() { vec![dimensions] } else { vec![dimensions, Vec::new()] };
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        }),
    );
    for (k, v) in labels {
        doc.insert(k.clone(), json!(v));
    }
    let value = if values.len() == 1 { json!(values[0]) } else { json!(values) };
    doc.insert(name.to_string(), value);
    Value::Object(doc).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_is_emf() {
        let labels = vec![("state_machine_arn".to_string(), "arn:m".to_string())];
        let l: serde_json::Value =
            serde_json::from_str(&super::line("stepwise_x_total", "Count", &labels, &[2.0], 7)).expect("JSON");
        assert_eq!(l["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Stepwise");
        assert_eq!(l["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "state_machine_arn");
        assert_eq!(l["_aws"]["CloudWatchMetrics"][0]["Dimensions"][1], serde_json::json!([]), "and the total");
        assert_eq!(l["stepwise_x_total"], 2.0);
        assert_eq!(l["state_machine_arn"], "arn:m");
    }
}
