//! Activities, task tokens, callbacks and nested executions through aws-sdk-sfn.

mod common;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use common::{Server, create_machine, error_code, finished, temp_dir};

#[tokio::test]
async fn activity_worker_loop() {
    let server = Server::start(&temp_dir("activity"));
    let c = server.client();
    let act = c.create_activity().name("double").send().await.unwrap().activity_arn;
    assert_eq!(act, "arn:aws:states:us-east-1:123456789012:activity:double");
    // CreateActivity is idempotent.
    assert_eq!(c.create_activity().name("double").send().await.unwrap().activity_arn, act);
    let d = c.describe_activity().activity_arn(&act).send().await.unwrap();
    assert_eq!(d.name, "double");
    let def = format!(
        r#"{{"StartAt":"Each","States":{{"Each":{{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","HeartbeatSeconds":60,"End":true}}}}}},"End":true}}}}}}"#
    );
    let m = create_machine(&c, "doubler", &def).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"xs":[1,2,3,4,5]}"#).send().await.unwrap();
    let mut done = 0;
    while done < 5 {
        let t = c.get_activity_task().activity_arn(&act).worker_name("w1").send().await.unwrap();
        let Some(token) = t.task_token else { continue };
        let n: i64 = t.input.unwrap().parse().unwrap();
        c.send_task_heartbeat().task_token(&token).send().await.unwrap();
        c.send_task_success().task_token(&token).output((n * 2).to_string()).send().await.unwrap();
        // A second answer to a closed task is refused, as AWS does.
        let e = c.send_task_success().task_token(&token).output("0").send().await.unwrap_err();
        assert_eq!(error_code(&e), "TaskTimedOut");
        done += 1;
    }
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some("[2,4,6,8,10]"));
    let h = c.get_execution_history().execution_arn(&s.execution_arn).max_results(1000).send().await.unwrap();
    let count = |t: HistoryEventType| h.events.iter().filter(|e| e.r#type == t).count();
    assert_eq!(count(HistoryEventType::ActivityScheduled), 5);
    assert_eq!(count(HistoryEventType::ActivityStarted), 5);
    assert_eq!(count(HistoryEventType::ActivitySucceeded), 5);
    let sched = h.events.iter().find_map(|e| e.activity_scheduled_event_details.as_ref()).unwrap();
    assert_eq!(sched.resource, act);

    let l = c.list_activities().send().await.unwrap();
    assert_eq!(l.activities.len(), 1);
    c.delete_activity().activity_arn(&act).send().await.unwrap();
    let e = c.describe_activity().activity_arn(&act).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ActivityDoesNotExist");
}

#[tokio::test]
async fn failures_timeouts_and_forged_tokens() {
    let server = Server::start(&temp_dir("activity-fail"));
    let c = server.client();
    let act = c.create_activity().name("flaky").send().await.unwrap().activity_arn;
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","Catch":[{{"ErrorEquals":["Boom"],"ResultPath":"$.err","Next":"Caught"}}],"End":true}},"Caught":{{"Type":"Pass","End":true}}}}}}"#
    );
    let m = create_machine(&c, "flaky", &def).await;
    let s = c.start_execution().state_machine_arn(&m).input("{}").send().await.unwrap();
    let t = c.get_activity_task().activity_arn(&act).send().await.unwrap();
    let token = t.task_token.unwrap();
    c.send_task_failure().task_token(&token).error("Boom").cause("it broke").send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some(r#"{"err":{"Error":"Boom","Cause":"it broke"}}"#));

    // Forged and malformed tokens.
    let forged = format!("{}{}", &token[..16], "0".repeat(32));
    let e = c.send_task_success().task_token(forged).output("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidToken");
    let e = c.send_task_success().task_token("garbage").output("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidToken");
    let e = c.send_task_heartbeat().task_token(&token).send().await.unwrap_err();
    assert_eq!(error_code(&e), "TaskTimedOut");

    // A heartbeat timeout fails the task with States.HeartbeatTimeout.
    let hb = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","HeartbeatSeconds":1,"End":true}}}}}}"#
    );
    let m2 = create_machine(&c, "hb", &hb).await;
    let s2 = c.start_execution().state_machine_arn(&m2).send().await.unwrap();
    let t2 = c.get_activity_task().activity_arn(&act).send().await.unwrap();
    assert!(t2.task_token.is_some());
    let d2 = finished(&c, &s2.execution_arn).await;
    assert_eq!(d2.status, ExecutionStatus::Failed);
    assert_eq!(d2.error.as_deref(), Some("States.HeartbeatTimeout"));
    let e = c.send_task_success().task_token(t2.task_token.unwrap()).output("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "TaskTimedOut");
    let e = c.send_task_success().task_token(&token).output("not json").send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidOutput");
}

#[tokio::test]
async fn nested_executions() {
    let server = Server::start(&temp_dir("nested"));
    let c = server.client();
    let child = create_machine(
        &c,
        "child",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"got.$":"$.n"},"End":true}}}"#,
    )
    .await;
    let failing = create_machine(
        &c,
        "failing",
        r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"SomeFailure","Cause":"no"}}}"#,
    )
    .await;
    let parent = |resource: &str, target: &str| {
        format!(
            r#"{{"StartAt":"S","States":{{"S":{{"Type":"Task","Resource":"arn:aws:states:::states:{resource}","Parameters":{{"StateMachineArn":"{target}","Input":{{"n":7}}}},"End":true}}}}}}"#
        )
    };
    let sync2 = create_machine(&c, "p-sync2", &parent("startExecution.sync:2", &child)).await;
    let s = c.start_execution().state_machine_arn(&sync2).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{d:?}");
    let out: serde_json::Value = serde_json::from_str(d.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["Output"], serde_json::json!({"got": 7}));
    assert_eq!(out["Status"], "SUCCEEDED");

    let sync = create_machine(&c, "p-sync", &parent("startExecution.sync", &child)).await;
    let s = c.start_execution().state_machine_arn(&sync).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    let out: serde_json::Value = serde_json::from_str(d.output.as_deref().unwrap()).unwrap();
    assert_eq!(out["Output"], r#"{"got":7}"#);

    let plain = create_machine(&c, "p-plain", &parent("startExecution", &child)).await;
    let s = c.start_execution().state_machine_arn(&plain).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    let out: serde_json::Value = serde_json::from_str(d.output.as_deref().unwrap()).unwrap();
    assert!(out["ExecutionArn"].as_str().unwrap().contains(":execution:child:"));

    let fails = create_machine(&c, "p-fails", &parent("startExecution.sync:2", &failing)).await;
    let s = c.start_execution().state_machine_arn(&fails).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.TaskFailed"));
    let cause: serde_json::Value = serde_json::from_str(d.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause["Error"], "SomeFailure");

    let missing = create_machine(&c, "p-missing", &parent("startExecution", &format!("{child}-nope"))).await;
    let s = c.start_execution().state_machine_arn(&missing).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.error.as_deref(), Some("StepFunctions.StateMachineDoesNotExistException"));
}

#[tokio::test]
async fn callbacks_with_wait_for_task_token() {
    let server = Server::start(&temp_dir("callback"));
    let c = server.client();
    // The child hands its token back to the parent through SendTaskSuccess.
    let child = create_machine(&c, "child", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    let def = format!(
        r#"{{"StartAt":"S","States":{{"S":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken","Parameters":{{"StateMachineArn":"{child}","Input":{{"token.$":"$$.Task.Token"}}}},"End":true}}}}}}"#
    );
    let m = create_machine(&c, "parent", &def).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.unwrap();
    let child_exec = common::eventually("the child to start", || async {
        let l = c.list_executions().state_machine_arn(&child).send().await.unwrap();
        l.executions.first().map(|e| e.execution_arn.clone())
    })
    .await;
    let d = finished(&c, &child_exec).await;
    let token: serde_json::Value = serde_json::from_str(d.output.as_deref().unwrap()).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let p = c.describe_execution().execution_arn(&s.execution_arn).send().await.unwrap();
    assert_eq!(p.status, ExecutionStatus::Running, "the parent waits for the token");
    c.send_task_success().task_token(&token).output(r#"{"ok":true}"#).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#"{"ok":true}"#));
}
