//! Operating the server: health and readiness probes, and Prometheus
//! metrics whose counts match a known workload exactly.

mod common;

use aws_sdk_sfn::types::ExecutionStatus;
use common::raw::raw_get;
use common::{Server, create_machine, finished, temp_dir};

/// The value of one series in Prometheus text, e.g. `name{label="v"}`.
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse::<f64>().ok()))
        .unwrap_or_else(|| panic!("no series {name_and_labels} in:\n{text}"))
}

#[test]
fn health_and_readiness_answer_with_the_version() {
    let s = Server::start(&temp_dir("probes"));
    for path in ["/healthz", "/readyz"] {
        let (status, content_type, body) = raw_get(&s.endpoint, path);
        assert_eq!((status, content_type.as_str()), (200, "application/json"), "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"), "{path}");
    }
}

#[tokio::test]
async fn metrics_count_a_known_workload_exactly() {
    let s = Server::start(&temp_dir("metrics"));
    let c = s.client();
    let ok = create_machine(&c, "ok", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    let bad = create_machine(&c, "bad", r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}"#).await;
    let wait =
        create_machine(&c, "wait", r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}"#).await;
    let act = c.create_activity().name("work").send().await.expect("CreateActivity").activity_arn;
    let task = format!(r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","End":true}}}}}}"#);
    let worker = create_machine(&c, "worker", &task).await;

    let mut runs = Vec::new();
    for (machine, n) in [(&ok, 3), (&bad, 2), (&wait, 1), (&worker, 1)] {
        for _ in 0..n {
            let e = c.start_execution().state_machine_arn(machine).send().await.expect("StartExecution");
            runs.push(e.execution_arn);
        }
    }
    let t = c.get_activity_task().activity_arn(&act).send().await.expect("GetActivityTask");
    c.send_task_success().task_token(t.task_token.expect("a task")).output("{}").send().await.expect("SendTaskSuccess");
    c.stop_execution().execution_arn(&runs[5]).send().await.expect("StopExecution");
    for arn in &runs {
        finished(&c, arn).await;
    }
    // The stopped Wait is redriven (it waits again) and stopped once more.
    c.redrive_execution().execution_arn(&runs[5]).send().await.expect("RedriveExecution");
    let d = c.describe_execution().execution_arn(&runs[5]).send().await.expect("DescribeExecution");
    assert_eq!((d.status, d.redrive_count), (ExecutionStatus::Running, Some(1)));
    c.stop_execution().execution_arn(&runs[5]).send().await.expect("StopExecution");
    finished(&c, &runs[5]).await;

    let (status, content_type, text) = raw_get(&s.endpoint, "/metrics");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let m = |name: &str, arn: &str| series(&text, &format!("{name}{{state_machine_arn=\"{arn}\"}}"));
    assert_eq!(m("stepwise_executions_started_total", &ok), 3.0);
    assert_eq!(m("stepwise_executions_succeeded_total", &ok), 3.0);
    assert_eq!(m("stepwise_executions_failed_total", &bad), 2.0);
    assert_eq!(m("stepwise_executions_redriven_total", &wait), 1.0);
    assert_eq!(m("stepwise_executions_aborted_total", &wait), 2.0, "stopped, redriven, stopped again");
    assert_eq!(m("stepwise_executions_succeeded_total", &worker), 1.0);
    assert_eq!(m("stepwise_execution_duration_seconds_count", &ok), 3.0);
    // Pass ×3, Fail ×2, Wait and once more on redrive, Task.
    assert_eq!(series(&text, "stepwise_state_transitions_total"), 8.0);
    for (event, n) in [("scheduled", 1.0), ("started", 1.0), ("succeeded", 1.0)] {
        assert_eq!(series(&text, &format!("stepwise_tasks_total{{event=\"{event}\"}}")), n, "{event}");
    }
    let resource = format!("stepwise_task_schedule_to_start_seconds_count{{resource=\"{act}\"}}");
    assert_eq!(series(&text, &resource), 1.0);
    let starts = series(&text, "stepwise_api_requests_total{operation=\"StartExecution\",error=\"none\"}");
    assert_eq!(starts, 7.0);
    for gauge in ["stepwise_uptime_seconds", "stepwise_resident_memory_bytes", "stepwise_store_database_bytes"] {
        assert!(series(&text, gauge) > 0.0, "{gauge}");
    }
    assert!(text.contains("stepwise_build_info{version=\""), "build info");
    assert!(series(&text, "stepwise_queue_messages") >= 0.0, "the queue backlog is scraped");
    assert!(!text.contains(":execution:"), "no execution ARN is ever a label");
}

/// The Grafana dashboard loads (panels with Prometheus targets) and names
/// only metrics the server records.
#[test]
fn the_grafana_dashboard_names_only_metrics_that_exist() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/grafana/stepwise.json");
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard")).expect("JSON");
    let panels = dash["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    let known: Vec<&str> = stepwise_control_plane::telemetry::METRICS.iter().map(|(n, _, _)| *n).collect();
    let mut named = std::collections::BTreeSet::new();
    for p in panels {
        let targets = p["targets"].as_array().expect("every panel has targets");
        assert!(!targets.is_empty(), "{}", p["title"]);
        for t in targets {
            let expr = t["expr"].as_str().expect("a PromQL expression");
            let words = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            for word in words.filter(|w| w.starts_with("stepwise_")) {
                let base = ["_bucket", "_sum", "_count"].iter().fold(word, |w, s| w.strip_suffix(s).unwrap_or(w));
                assert!(known.contains(&base), "the dashboard names {word}, which Stepwise does not record");
                named.insert(base.to_string());
            }
        }
    }
    let missing: Vec<&&str> = known.iter().filter(|k| !named.contains(**k)).collect();
    assert!(missing.is_empty(), "metrics on no panel: {missing:?}");
}
