//! Map Runs and redrive of only what failed, through aws-sdk-sfn: a
//! distributed Map over an activity whose worker fails two items once, with
//! UpdateMapRun on the running Map Run; inline Map and Parallel redrives.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionRedriveFilter, ExecutionStatus, MapRunStatus};

use super::common::{Server, create_machine, eventually, finished, temp_dir};

/// Takes the next activity task: its input and token.
async fn take(c: &Client, act: &str) -> (serde_json::Value, String) {
    let t = c.get_activity_task().activity_arn(act).send().await.expect("GetActivityTask");
    let input = serde_json::from_str(t.input.as_deref().expect("a task was handed out")).expect("JSON input");
    (input, t.task_token.expect("a token"))
}

async fn answer(c: &Client, token: String, input: &serde_json::Value, ok: bool) {
    if ok {
        let out = serde_json::json!({"done": input}).to_string();
        c.send_task_success().task_token(token).output(out).send().await.expect("SendTaskSuccess");
    } else {
        c.send_task_failure().task_token(token).error("Flaky").cause("once").send().await.expect("SendTaskFailure");
    }
}

async fn history_types(c: &Client, arn: &str) -> Vec<String> {
    let h = c.get_execution_history().execution_arn(arn).max_results(1000).send().await.expect("history");
    h.events.iter().map(|e| e.r#type.as_str().to_string()).collect()
}

fn count(types: &[String], ty: &str) -> usize {
    types.iter().filter(|t| *t == ty).count()
}

#[tokio::test]
async fn a_distributed_map_run_is_described_updated_and_redriven_for_only_what_failed() {
    let server = Server::start(&temp_dir("map-runs"));
    let c = server.client();
    let act = c.create_activity().name("items").send().await.unwrap().activity_arn;
    let def = format!(
        r#"{{"StartAt":"Fan","States":{{"Fan":{{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,
           "ToleratedFailureCount":1,"Label":"fan","End":true,
           "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},
             "StartAt":"W","States":{{"W":{{"Type":"Task","Resource":"{act}","End":true}}}}}}}}}}}}"#
    );
    let m = create_machine(&c, "fan", &def).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"items":[0,1,2,3,4,5]}"#).send().await.unwrap();

    let runs = eventually("the Map Run to be listed", || async {
        let l = c.list_map_runs().execution_arn(&s.execution_arn).send().await.expect("ListMapRuns");
        (!l.map_runs.is_empty()).then_some(l.map_runs)
    })
    .await;
    assert_eq!(runs.len(), 1);
    let run = runs[0].map_run_arn.clone();
    assert!(run.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:fan/fan:"), "{run}");
    assert_eq!(runs[0].execution_arn, s.execution_arn);
    assert_eq!(runs[0].state_machine_arn, "arn:aws:states:us-east-1:123456789012:stateMachine:fan/fan");
    let d = c.describe_map_run().map_run_arn(&run).send().await.unwrap();
    assert_eq!((d.status, d.max_concurrency, d.tolerated_failure_count), (MapRunStatus::Running, 1, 1));
    let counts = d.execution_counts.expect("execution counts");
    assert_eq!((counts.running, counts.pending, counts.total), (1, 5, 6));

    // UpdateMapRun raises the concurrency of the running Map Run at once.
    c.update_map_run().map_run_arn(&run).max_concurrency(2).send().await.unwrap();
    let d = c.describe_map_run().map_run_arn(&run).send().await.unwrap();
    assert_eq!(d.max_concurrency, 2);
    assert_eq!(d.execution_counts.expect("counts").running, 2, "a second child started on the update");

    // The worker fails items 4 and 5 once: two failures cross the tolerated one.
    for _ in 0..6 {
        let (input, token) = take(&c, &act).await;
        let ok = !matches!(input.as_i64(), Some(4 | 5));
        answer(&c, token, &input, ok).await;
    }
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
    let mr = c.describe_map_run().map_run_arn(&run).send().await.unwrap();
    assert_eq!(mr.status, MapRunStatus::Failed);
    assert!(mr.stop_date.is_some());
    let e = mr.execution_counts.expect("execution counts");
    let i = mr.item_counts.expect("item counts");
    assert_eq!((e.succeeded, e.failed, e.pending, e.running, e.aborted, e.total), (4, 2, 0, 0, 0, 6));
    assert_eq!((i.succeeded, i.failed, i.pending, i.running, i.aborted, i.total), (4, 2, 0, 0, 0, 6));

    // Each item ran as a child execution of its own, listed under the Map Run.
    let children = children_of(&c, &run, None).await;
    assert_eq!(children.len(), 6, "{children:?}");
    let failed = children_of(&c, &run, Some(ExecutionStatus::Failed)).await;
    assert_eq!(failed.len(), 2);
    for child in &children {
        let arn = child.execution_arn.as_str();
        assert!(arn.starts_with("arn:aws:states:us-east-1:123456789012:execution:fan/fan:"), "{arn}");
        assert_eq!(child.state_machine_arn, "arn:aws:states:us-east-1:123456789012:stateMachine:fan/fan");
        assert_eq!(child.map_run_arn.as_deref(), Some(run.as_str()));
        assert_eq!(child.item_count, Some(1));
    }
    for child in &failed {
        let d = c.describe_execution().execution_arn(&child.execution_arn).send().await.unwrap();
        assert_eq!(d.map_run_arn.as_deref(), Some(run.as_str()));
        assert_eq!((d.error.as_deref(), d.cause.as_deref()), (Some("Flaky"), Some("once")));
        let input: serde_json::Value = serde_json::from_str(d.input.as_deref().unwrap()).unwrap();
        assert!(matches!(input.as_i64(), Some(4 | 5)), "{input}");
        let sm = c.describe_state_machine_for_execution().execution_arn(&child.execution_arn).send().await.unwrap();
        assert_eq!((sm.map_run_arn.as_deref(), sm.label.as_deref()), (Some(run.as_str()), Some("fan")));
        assert!(sm.definition.contains(r#""StartAt":"W""#), "the processor is the child's definition");
        let types = history_types(&c, &child.execution_arn).await;
        let expected = ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted"];
        assert_eq!(types[..4], expected, "{types:?}");
        assert_eq!(types.last().map(String::as_str), Some("ExecutionFailed"));
    }

    // The redrive runs exactly the two failed items again, in the same Map Run.
    c.redrive_execution().execution_arn(&s.execution_arn).send().await.unwrap();
    let mut again = Vec::new();
    for _ in 0..2 {
        let (input, token) = take(&c, &act).await;
        again.push(input.clone());
        answer(&c, token, &input, true).await;
    }
    again.sort_by_key(|v| v.as_i64());
    assert_eq!(again, vec![serde_json::json!(4), serde_json::json!(5)]);
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?}", d.cause);
    let out: serde_json::Value = serde_json::from_str(d.output.as_deref().unwrap()).unwrap();
    assert_eq!(out, serde_json::json!((0..6).map(|i| serde_json::json!({"done": i})).collect::<Vec<_>>()));
    let mr = c.describe_map_run().map_run_arn(&run).send().await.unwrap();
    assert_eq!((mr.status, mr.redrive_count), (MapRunStatus::Succeeded, Some(1)));
    assert!(mr.redrive_date.is_some());
    assert_eq!(mr.execution_counts.expect("counts").succeeded, 6);
    let types = history_types(&c, &s.execution_arn).await;
    assert_eq!(count(&types, "MapRunStarted"), 1, "{types:?}");
    assert_eq!(count(&types, "MapRunFailed"), 1);
    assert_eq!(count(&types, "MapRunRedriven"), 1);
    assert_eq!(count(&types, "MapRunSucceeded"), 1);
    let e = c.update_map_run().map_run_arn(&run).max_concurrency(3).send().await.unwrap_err();
    assert_eq!(super::common::error_code(&e), "ValidationException", "a closed Map Run");
    // The two failed children were redriven in place; the others never ran again.
    let redriven = c.list_executions().map_run_arn(&run).redrive_filter(ExecutionRedriveFilter::Redriven).send();
    let redriven = redriven.await.unwrap().executions;
    let mut names: Vec<&str> = redriven.iter().map(|e| e.execution_arn.as_str()).collect();
    let mut failed_names: Vec<&str> = failed.iter().map(|e| e.execution_arn.as_str()).collect();
    names.sort();
    failed_names.sort();
    assert_eq!(names, failed_names);
    for child in children_of(&c, &run, None).await {
        let d = c.describe_execution().execution_arn(&child.execution_arn).send().await.unwrap();
        let was_failed = failed_names.contains(&child.execution_arn.as_str());
        assert_eq!((d.status, d.redrive_count), (ExecutionStatus::Succeeded, Some(i32::from(was_failed))));
    }
    let e = c.list_executions().map_run_arn(&run).state_machine_arn(&m).send().await.unwrap_err();
    assert_eq!(super::common::error_code(&e), "ValidationException", "a machine and a Map Run at once");
    let (label, _) = run.rsplit_once(':').expect("a Map Run ARN ends in its id");
    let missing = format!("{label}:00000000-0000-4000-8000-000000000000");
    let e = c.list_executions().map_run_arn(missing).send().await.unwrap_err();
    assert_eq!(super::common::error_code(&e), "ResourceNotFound");
    let parent_listed = c.list_executions().state_machine_arn(&m).send().await.unwrap().executions;
    assert_eq!(parent_listed.len(), 1, "a machine lists its own executions, not its Map Runs' children");
}

async fn children_of(
    c: &Client,
    run: &str,
    status: Option<ExecutionStatus>,
) -> Vec<aws_sdk_sfn::types::ExecutionListItem> {
    let l = c.list_executions().map_run_arn(run).set_status_filter(status).max_results(100).send().await;
    l.expect("ListExecutions(mapRunArn)").executions
}

#[tokio::test]
async fn inline_map_and_parallel_redrive_only_what_failed() {
    let server = Server::start(&temp_dir("inline-redrive"));
    let c = server.client();
    let act = c.create_activity().name("steps").send().await.unwrap().activity_arn;
    let task = format!(r#"{{"StartAt":"W","States":{{"W":{{"Type":"Task","Resource":"{act}","End":true}}}}}}"#);
    let branch = |n: u32| {
        format!(
            r#"{{"StartAt":"B","States":{{"B":{{"Type":"Task","Resource":"{act}","Parameters":{{"b":{n}}},"End":true}}}}}}"#
        )
    };
    let cases = [
        ("map", format!(r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","ItemProcessor":{task},"End":true}}}}}}"#)),
        (
            "parallel",
            format!(
                r#"{{"StartAt":"P","States":{{"P":{{"Type":"Parallel","Branches":[{},{},{}],"End":true}}}}}}"#,
                branch(0),
                branch(1),
                branch(2)
            ),
        ),
    ];
    for (name, def) in cases {
        let m = create_machine(&c, name, &def).await;
        let s = c.start_execution().state_machine_arn(&m).input("[0,1,2]").send().await.unwrap();
        // The first two succeed; the third fails the state.
        let mut seen = Vec::new();
        for i in 0..3 {
            let (input, token) = take(&c, &act).await;
            seen.push(input.clone());
            answer(&c, token, &input, i < 2).await;
        }
        let d = finished(&c, &s.execution_arn).await;
        assert_eq!(d.status, ExecutionStatus::Failed, "{name}");
        c.redrive_execution().execution_arn(&s.execution_arn).send().await.unwrap();
        let (input, token) = take(&c, &act).await;
        assert_eq!(input, seen[2], "{name}: only the failed one runs again");
        answer(&c, token, &input, true).await;
        let d = finished(&c, &s.execution_arn).await;
        assert_eq!(d.status, ExecutionStatus::Succeeded, "{name}: {:?}", d.cause);
        let out: serde_json::Value = serde_json::from_str(d.output.as_deref().unwrap()).unwrap();
        let expected: Vec<serde_json::Value> = match name {
            "map" => (0..3).map(|i| serde_json::json!({"done": i})).collect(),
            _ => (0..3).map(|i| serde_json::json!({"done": {"b": i}})).collect(),
        };
        assert_eq!(out, serde_json::json!(expected), "{name}: the original order");
        let types = history_types(&c, &s.execution_arn).await;
        assert_eq!(count(&types, "ActivityScheduled"), 4, "{name}: {types:?}");
    }
}
