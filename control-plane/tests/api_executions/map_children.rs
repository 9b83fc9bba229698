//! A STANDARD distributed Map's children are executions of their own: a Map
//! Run that fails past its threshold, or whose parent is stopped, aborts the
//! children still running, as AWS does.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;

use super::common::{Server, create_machine, error_code, eventually, finished, temp_dir};

fn fan_definition(act: &str) -> String {
    format!(
        r#"{{"StartAt":"Fan","States":{{"Fan":{{"Type":"Map","MaxConcurrency":3,"Label":"fan","End":true,
           "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},
             "StartAt":"W","States":{{"W":{{"Type":"Task","Resource":"{act}","End":true}}}}}}}}}}}}"#
    )
}

/// The three children's activity tasks, once all three have started.
async fn three_tasks(c: &Client, act: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let t = c.get_activity_task().activity_arn(act).send().await.expect("GetActivityTask");
        tokens.push(t.task_token.expect("a task was handed out"));
    }
    tokens
}

async fn map_run_of(c: &Client, execution: &str) -> String {
    let runs = c.list_map_runs().execution_arn(execution).send().await.expect("ListMapRuns");
    runs.map_runs[0].map_run_arn.clone()
}

/// Waits until the Map Run's children reach these counts: (aborted, other closed).
async fn children_settle(c: &Client, run: &str, aborted: usize, failed: usize) {
    eventually("the children to be aborted", || async {
        let l = c.list_executions().map_run_arn(run).send().await.expect("ListExecutions(mapRunArn)");
        let count = |s: ExecutionStatus| l.executions.iter().filter(|e| e.status == s).count();
        let settled = count(ExecutionStatus::Aborted) == aborted && count(ExecutionStatus::Failed) == failed;
        (settled && count(ExecutionStatus::Running) == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_failed_map_run_and_a_stopped_parent_abort_the_running_children() {
    let server = Server::start(&temp_dir("map-children-abort"));
    let c = server.client();
    let act = c.create_activity().name("items").send().await.unwrap().activity_arn;
    let m = create_machine(&c, "fan", &fan_definition(&act)).await;

    // One child fails: the threshold (0) is crossed, and the other two are aborted.
    let s = c.start_execution().state_machine_arn(&m).input("[1,2,3]").send().await.unwrap();
    let tokens = three_tasks(&c, &act).await;
    c.send_task_failure().task_token(&tokens[0]).error("Boom").send().await.expect("SendTaskFailure");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
    let run = map_run_of(&c, &s.execution_arn).await;
    children_settle(&c, &run, 2, 1).await;
    // An aborted child's task is gone: its worker's late answer is refused.
    let late = c.send_task_success().task_token(&tokens[1]).output("{}").send().await.unwrap_err();
    assert_eq!(error_code(&late), "TaskTimedOut");

    // Stopping the parent aborts all its running children.
    let s = c.start_execution().state_machine_arn(&m).input("[4,5,6]").send().await.unwrap();
    three_tasks(&c, &act).await;
    c.stop_execution().execution_arn(&s.execution_arn).send().await.expect("StopExecution");
    let run = map_run_of(&c, &s.execution_arn).await;
    children_settle(&c, &run, 3, 0).await;
    let child = c.list_executions().map_run_arn(&run).send().await.unwrap().executions.remove(0);
    let h = c.get_execution_history().execution_arn(&child.execution_arn).send().await.unwrap();
    let last = h.events.last().expect("events").r#type.as_str().to_string();
    assert_eq!(last, "ExecutionAborted");
}

/// EXPRESS children run inside the parent, yet each is listed under its Map
/// Run with its status once it closes, as AWS keeps Express children's status.
#[tokio::test]
async fn express_children_are_listed_under_their_map_run_with_their_status() {
    let server = Server::start(&temp_dir("map-children-express"));
    let c = server.client();
    let definition = r#"{"StartAt":"Fan","States":{"Fan":{"Type":"Map","Label":"fan","ToleratedFailureCount":1,"End":true,
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"C","States":{
          "C":{"Type":"Choice","Default":"W","Choices":[{"Variable":"$","NumericEquals":0,"Next":"Boom"}]},
          "Boom":{"Type":"Fail","Error":"Boom"},"W":{"Type":"Pass","End":true}}}}}}"#;
    let m = create_machine(&c, "fast", definition).await;
    let s = c.start_execution().state_machine_arn(&m).input("[1,0,2]").send().await.unwrap();
    assert_eq!(finished(&c, &s.execution_arn).await.status, ExecutionStatus::Succeeded);
    let run = map_run_of(&c, &s.execution_arn).await;

    let l = c.list_executions().map_run_arn(&run).send().await.expect("ListExecutions(mapRunArn)");
    assert_eq!(l.executions.len(), 3, "{:?}", l.executions);
    let count = |st: ExecutionStatus| l.executions.iter().filter(|e| e.status == st).count();
    assert_eq!((count(ExecutionStatus::Succeeded), count(ExecutionStatus::Failed)), (2, 1));
    for e in &l.executions {
        assert_eq!(e.map_run_arn.as_deref(), Some(run.as_str()));
        assert_eq!(e.item_count, Some(1));
        assert!(e.state_machine_arn.ends_with(":stateMachine:fast/fan"), "{}", e.state_machine_arn);
        assert!(e.execution_arn.contains(":execution:fast/fan:"), "{}", e.execution_arn);
        assert!(e.stop_date.is_some());
    }
    let failed = c.list_executions().map_run_arn(&run).status_filter(ExecutionStatus::Failed).send().await.unwrap();
    assert_eq!(failed.executions.len(), 1);
    // AWS describes a Map Run's EXPRESS children, though it keeps no history of them.
    let child = &failed.executions[0].execution_arn;
    let d = c.describe_execution().execution_arn(child).send().await.expect("DescribeExecution of an EXPRESS child");
    assert_eq!(
        (&d.status, d.error.as_deref(), d.map_run_arn.as_deref()),
        (&ExecutionStatus::Failed, Some("Boom"), Some(run.as_str()))
    );
    assert!(d.state_machine_arn.ends_with(":stateMachine:fast/fan") && d.stop_date.is_some(), "{d:?}");
    assert_eq!((d.input.as_deref(), d.input_details.map(|i| i.included)), (None, Some(false)), "its input is not kept");
    assert_eq!(d.redrive_status, Some(aws_sdk_sfn::types::ExecutionRedriveStatus::NotRedrivable));
    let e = c.get_execution_history().execution_arn(child).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ExecutionDoesNotExist", "no history is kept for an EXPRESS child");
    // A name that has the Map Run's tag but no item behind it describes nothing.
    let forged = format!("{}{:012x}", &child[..child.len() - 12], 4_000);
    let e = c.describe_execution().execution_arn(&forged).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ExecutionDoesNotExist", "{forged}");
    // The parent's own list holds only the parent.
    let own = c.list_executions().state_machine_arn(&m).send().await.unwrap();
    assert_eq!(own.executions.len(), 1);

    // A child that waits is listed as running until it closes.
    let act = c.create_activity().name("express-items").send().await.unwrap().activity_arn;
    let waiting = fan_definition(&act).replace(r#""ExecutionType":"STANDARD""#, r#""ExecutionType":"EXPRESS""#);
    let m = create_machine(&c, "waits", &waiting).await;
    let s = c.start_execution().state_machine_arn(&m).input("[7]").send().await.unwrap();
    let task = c.get_activity_task().activity_arn(&act).send().await.expect("GetActivityTask");
    let run = map_run_of(&c, &s.execution_arn).await;
    let l = c.list_executions().map_run_arn(&run).send().await.unwrap().executions;
    assert_eq!(l.len(), 1);
    assert_eq!((&l[0].status, l[0].stop_date), (&ExecutionStatus::Running, None));
    let d = c.describe_execution().execution_arn(&l[0].execution_arn).send().await.expect("a running EXPRESS child");
    assert_eq!((&d.status, d.stop_date, d.error), (&ExecutionStatus::Running, None, None));
    let token = task.task_token.expect("a task");
    c.send_task_success().task_token(token).output("{}").send().await.expect("SendTaskSuccess");
    assert_eq!(finished(&c, &s.execution_arn).await.status, ExecutionStatus::Succeeded);
    let l = c.list_executions().map_run_arn(&run).send().await.unwrap().executions;
    assert_eq!((l.len(), &l[0].status), (1, &ExecutionStatus::Succeeded), "the same entry, closed");
    let d = c.describe_execution().execution_arn(&l[0].execution_arn).send().await.expect("a closed EXPRESS child");
    assert_eq!((&d.status, d.stop_date, d.error), (&ExecutionStatus::Succeeded, l[0].stop_date, None));
}

/// A child whose history is full cannot be redriven (AWS's rule): its Map Run
/// counts it in `failuresNotRedrivable`, and the parent's redrive answers its
/// item with the same failure at once, without running it again.
#[tokio::test]
async fn a_child_that_cannot_be_redriven_keeps_its_failure_through_the_parents_redrive() {
    let server = Server::start(&temp_dir("map-children-not-redrivable"));
    let c = server.client();
    // Item 0's child fills its history (7,000 inline iterations of 4 events each).
    let definition = r#"{"QueryLanguage":"JSONata","StartAt":"Fan","States":{"Fan":{"Type":"Map","Label":"fan","End":true,
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"C","States":{
          "C":{"Type":"Choice","Default":"Ok","Choices":[{"Condition":"{% $states.input = 0 %}","Next":"Flood"}]},
          "Flood":{"Type":"Map","Items":"{% [1..7000] %}","End":true,
            "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}},
          "Ok":{"Type":"Pass","End":true}}}}}}"#;
    let m = create_machine(&c, "full", definition).await;
    let s = c.start_execution().state_machine_arn(&m).input("[0,1]").send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
    let run = map_run_of(&c, &s.execution_arn).await;
    children_settle(&c, &run, 0, 1).await;
    let full = c.list_executions().map_run_arn(&run).status_filter(ExecutionStatus::Failed).send().await.unwrap();
    let child = full.executions[0].execution_arn.clone();
    let described = c.describe_execution().execution_arn(&child).send().await.unwrap();
    assert_eq!(described.error.as_deref(), Some("States.Runtime"));
    assert_eq!(described.redrive_status.as_ref().map(|s| s.as_str()), Some("NOT_REDRIVABLE"));
    let counts = c.describe_map_run().map_run_arn(&run).send().await.unwrap().execution_counts.expect("counts");
    assert_eq!((counts.failed, counts.failures_not_redrivable), (1, Some(1)));

    c.redrive_execution().execution_arn(&s.execution_arn).send().await.expect("the parent is redrivable");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"), "the child's failure stands");
    // Neither child ran again: the full one cannot, and the other had succeeded
    // (whether the parent took its answer before the Map Run failed is a race).
    let listed = c.list_executions().map_run_arn(&run).send().await.unwrap().executions;
    assert!(listed.iter().all(|e| e.redrive_count.unwrap_or(0) == 0), "{listed:?}");
    let counts = c.describe_map_run().map_run_arn(&run).send().await.unwrap().execution_counts.expect("counts");
    assert_eq!((counts.failed, counts.failures_not_redrivable), (1, Some(1)));
    assert_eq!(counts.succeeded + counts.aborted, 1, "{counts:?}");
    let e = c.redrive_execution().execution_arn(&child).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ExecutionNotRedrivable");
}
