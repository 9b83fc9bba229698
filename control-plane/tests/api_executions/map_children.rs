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
