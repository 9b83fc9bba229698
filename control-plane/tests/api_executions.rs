//! Executions through aws-sdk-sfn: start, idempotency, describe, list,
//! history, stop, sync starts, AwaitExecution and input limits.

#[path = "api_executions/await_execution.rs"]
mod await_execution;
mod common;
#[path = "api_executions/map_children.rs"]
mod map_children;
#[path = "api_executions/map_runs.rs"]
mod map_runs;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType, StateMachineType};
use common::{ROLE, Server, create_machine, error_code, finished, temp_dir};

const GREET: &str = r#"{"StartAt":"G","States":{"G":{"Type":"Pass","Parameters":{"msg.$":"States.Format('hi {}', $.who)"},"End":true}}}"#;
const WAIT_LONG: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

#[tokio::test]
async fn start_describe_history() {
    let server = Server::start(&temp_dir("exec-basic"));
    let c = server.client();
    let m = create_machine(&c, "greet", GREET).await;
    let s = c.start_execution().state_machine_arn(&m).name("e1").input(r#"{"who":"Ada"}"#).send().await.unwrap();
    assert_eq!(s.execution_arn, "arn:aws:states:us-east-1:123456789012:execution:greet:e1");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some(r#"{"msg":"hi Ada"}"#));
    assert_eq!(d.input.as_deref(), Some(r#"{"who":"Ada"}"#));
    assert!(d.stop_date.is_some());

    let h = c.get_execution_history().execution_arn(&s.execution_arn).send().await.unwrap();
    let types: Vec<_> = h.events.iter().map(|e| e.r#type.clone()).collect();
    assert_eq!(
        types,
        [
            HistoryEventType::ExecutionStarted,
            HistoryEventType::PassStateEntered,
            HistoryEventType::PassStateExited,
            HistoryEventType::ExecutionSucceeded
        ]
    );
    let started = h.events[0].execution_started_event_details.as_ref().unwrap();
    assert_eq!(started.input.as_deref(), Some(r#"{"who":"Ada"}"#));
    // Paged, reversed, and without data.
    let page = c
        .get_execution_history()
        .execution_arn(&s.execution_arn)
        .max_results(3)
        .reverse_order(true)
        .include_execution_data(false)
        .send()
        .await
        .unwrap();
    assert_eq!(page.events.len(), 3);
    assert_eq!(page.events[0].r#type, HistoryEventType::ExecutionSucceeded);
    assert!(page.events[0].execution_succeeded_event_details.as_ref().unwrap().output.is_none());
    let rest = c
        .get_execution_history()
        .execution_arn(&s.execution_arn)
        .max_results(3)
        .reverse_order(true)
        .set_next_token(page.next_token)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.events.len(), 1);
    assert!(rest.next_token.is_none());

    let f = c.describe_state_machine_for_execution().execution_arn(&s.execution_arn).send().await.unwrap();
    assert_eq!(f.definition, GREET);
}

#[tokio::test]
async fn idempotent_start_and_name_reuse() {
    let server = Server::start(&temp_dir("exec-idem"));
    let c = server.client();
    let m = create_machine(&c, "waits", WAIT_LONG).await;
    let a = c.start_execution().state_machine_arn(&m).name("same").input("{}").send().await.unwrap();
    let b = c.start_execution().state_machine_arn(&m).name("same").input("{}").send().await.unwrap();
    assert_eq!(a.execution_arn, b.execution_arn);
    assert_eq!(a.start_date, b.start_date);
    let e = c.start_execution().state_machine_arn(&m).name("same").input(r#"{"x":1}"#).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ExecutionAlreadyExists");
    let list = c.list_executions().state_machine_arn(&m).send().await.unwrap();
    assert_eq!(list.executions.len(), 1);

    let stop = c.stop_execution().execution_arn(&a.execution_arn).error("Bye").cause("test").send().await.unwrap();
    let d = c.describe_execution().execution_arn(&a.execution_arn).send().await.unwrap();
    assert_eq!(d.status, ExecutionStatus::Aborted);
    assert_eq!(d.stop_date, Some(stop.stop_date));
    assert_eq!(d.error.as_deref(), Some("Bye"));
    // Closed: the same name is taken even with the same input.
    let e = c.start_execution().state_machine_arn(&m).name("same").input("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "ExecutionAlreadyExists");
    let h = c.get_execution_history().execution_arn(&a.execution_arn).send().await.unwrap();
    assert_eq!(h.events.last().unwrap().r#type, HistoryEventType::ExecutionAborted);
}

#[tokio::test]
async fn list_filters_and_pages() {
    let server = Server::start(&temp_dir("exec-list"));
    let c = server.client();
    let quick = create_machine(&c, "quick", GREET).await;
    for i in 0..7 {
        let s = c
            .start_execution()
            .state_machine_arn(&quick)
            .name(format!("q{i}"))
            .input(r#"{"who":"x"}"#)
            .send()
            .await
            .unwrap();
        finished(&c, &s.execution_arn).await;
    }
    let slow = create_machine(&c, "slow", WAIT_LONG).await;
    c.start_execution().state_machine_arn(&slow).name("s0").send().await.unwrap();
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let p =
            c.list_executions().state_machine_arn(&quick).max_results(3).set_next_token(token).send().await.unwrap();
        names.extend(p.executions.iter().map(|e| e.name.clone()));
        token = p.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["q6", "q5", "q4", "q3", "q2", "q1", "q0"], "newest first, every one once");
    let running =
        c.list_executions().state_machine_arn(&slow).status_filter(ExecutionStatus::Running).send().await.unwrap();
    assert_eq!(running.executions.len(), 1);
    let none =
        c.list_executions().state_machine_arn(&quick).status_filter(ExecutionStatus::Running).send().await.unwrap();
    assert!(none.executions.is_empty());
    let e = c.list_executions().state_machine_arn(format!("{quick}-nope")).send().await.unwrap_err();
    assert_eq!(error_code(&e), "StateMachineDoesNotExist");
}

#[tokio::test]
async fn update_leaves_running_executions_alone() {
    let server = Server::start(&temp_dir("exec-update"));
    let c = server.client();
    let act = c.create_activity().name("hold").send().await.unwrap().activity_arn;
    let def = |result: &str| {
        format!(
            r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","Next":"R"}},"R":{{"Type":"Pass","Result":"{result}","End":true}}}}}}"#
        )
    };
    let m = create_machine(&c, "upd", &def("old")).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.unwrap();
    c.update_state_machine().state_machine_arn(&m).definition(def("new")).send().await.unwrap();
    let t = c.get_activity_task().activity_arn(&act).send().await.unwrap();
    c.send_task_success().task_token(t.task_token.unwrap()).output("{}").send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#""old""#));
}

#[tokio::test]
async fn inputs_are_checked() {
    let server = Server::start(&temp_dir("exec-input"));
    let c = server.client();
    let m = create_machine(&c, "in", GREET).await;
    let e = c.start_execution().state_machine_arn(&m).input("{nope").send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidExecutionInput");
    let big = format!(r#"{{"who":"{}"}}"#, "x".repeat(256 * 1024));
    let e = c.start_execution().state_machine_arn(&m).input(big).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = c.start_execution().state_machine_arn(&m).name("a/b").send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidName");
    let e = c
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:in:none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ExecutionDoesNotExist");
    // An output over 256 KiB fails the execution with States.DataLimitExceeded.
    let grow = r#"{"StartAt":"G","States":{"G":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"End":true}}}"#;
    let g = create_machine(&c, "grow", grow).await;
    let input = format!(r#"{{"s":"{}"}}"#, "y".repeat(200 * 1024));
    let s = c.start_execution().state_machine_arn(&g).input(input).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[tokio::test]
async fn start_sync_execution_on_express() {
    let server = Server::start(&temp_dir("exec-sync"));
    let c = server.client();
    let m = c
        .create_state_machine()
        .name("fast")
        .definition(GREET)
        .role_arn(ROLE)
        .r#type(StateMachineType::Express)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let r = c.start_sync_execution().state_machine_arn(&m).input(r#"{"who":"sync"}"#).send().await.unwrap();
    assert_eq!(r.status, aws_sdk_sfn::types::SyncExecutionStatus::Succeeded);
    assert_eq!(r.output.as_deref(), Some(r#"{"msg":"hi sync"}"#));
    assert!(r.execution_arn.contains(":express:fast:"));
    let std = create_machine(&c, "std", GREET).await;
    let e = c.start_sync_execution().state_machine_arn(&std).send().await.unwrap_err();
    assert_eq!(error_code(&e), "StateMachineTypeNotSupported");
}

/// Operations on what Stepwise cannot do or what does not exist answer with a clear error, never a 500.
#[tokio::test]
async fn unserved_operations_say_so() {
    let server = Server::start(&temp_dir("exec-unserved"));
    let c = server.client();
    let m = create_machine(&c, "f", r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}"#).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.unwrap();
    finished(&c, &s.execution_arn).await;
    // TestState is served (its corpus runs in test_state_corpus.rs); an unmocked task of a service
    // Stepwise cannot call is refused clearly.
    let t = c.test_state().definition(r#"{"Type":"Pass","End":true}"#).role_arn(ROLE).input("{}").send().await.unwrap();
    assert_eq!(t.output.as_deref(), Some("{}"));
    let task = r#"{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","End":true}"#;
    let e = c.test_state().definition(task).role_arn(ROLE).input("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    // Map Run operations on what does not exist answer AWS's errors.
    let map_run = "arn:aws:states:us-east-1:123456789012:mapRun:f/m:1";
    let e = c.describe_map_run().map_run_arn(map_run).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFound");
    let e = c.describe_map_run().map_run_arn(&s.execution_arn).send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidArn");
    let none = c.list_map_runs().execution_arn(&s.execution_arn).send().await.unwrap();
    assert!(none.map_runs.is_empty() && none.next_token.is_none());
    let e = c.update_map_run().map_run_arn(map_run).max_concurrency(1).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFound");
    let e = c.update_map_run().map_run_arn(map_run).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException", "nothing to update");
}

/// RedriveExecution restarts a failed execution at the state that failed, with
/// its input and variables; states that succeeded are not run again.
#[tokio::test]
async fn redrive_restarts_the_failed_state() {
    let server = Server::start(&temp_dir("exec-redrive"));
    let c = server.client();
    let act = c.create_activity().name("flaky").send().await.unwrap().activity_arn;
    let def = format!(
        r#"{{"StartAt":"Prep","States":{{"Prep":{{"Type":"Pass","Assign":{{"who":"ada"}},"Next":"Work"}},
           "Work":{{"Type":"Task","Resource":"{act}","Parameters":{{"who.$":"$who","n.$":"$.n"}},"Next":"Done"}},
           "Done":{{"Type":"Pass","Parameters":{{"got.$":"$","redrives.$":"$$.Execution.RedriveCount"}},"End":true}}}}}}"#
    );
    let m = create_machine(&c, "redrive", &def).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"n":1}"#).send().await.unwrap();
    let t = c.get_activity_task().activity_arn(&act).send().await.unwrap();
    c.send_task_failure().task_token(t.task_token.unwrap()).error("Down").send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.redrive_status, Some(aws_sdk_sfn::types::ExecutionRedriveStatus::Redrivable));

    let r = c.redrive_execution().execution_arn(&s.execution_arn).send().await.unwrap();
    let t = c.get_activity_task().activity_arn(&act).send().await.unwrap();
    assert_eq!(t.input.as_deref(), Some(r#"{"who":"ada","n":1}"#), "the same input and variables");
    c.send_task_success().task_token(t.task_token.unwrap()).output(r#"{"ok":true}"#).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some(r#"{"got":{"ok":true},"redrives":1}"#));
    assert_eq!(d.redrive_count, Some(1));
    assert_eq!(d.redrive_date, Some(r.redrive_date));
    let h = c.get_execution_history().execution_arn(&s.execution_arn).max_results(1000).send().await.unwrap();
    let types: Vec<_> = h.events.iter().map(|e| e.r#type.as_str().to_string()).collect();
    assert_eq!(types.iter().filter(|t| *t == "PassStateEntered").count(), 2, "Prep once, Done once: {types:?}");
    assert_eq!(types.iter().filter(|t| *t == "ExecutionRedriven").count(), 1);
    assert_eq!(types.iter().filter(|t| *t == "TaskStateEntered").count(), 2);
    let e = c.redrive_execution().execution_arn(&s.execution_arn).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ExecutionNotRedrivable", "a succeeded execution");
    let redriven = c
        .list_executions()
        .state_machine_arn(&m)
        .redrive_filter(aws_sdk_sfn::types::ExecutionRedriveFilter::Redriven)
        .send()
        .await
        .unwrap();
    assert_eq!(redriven.executions.len(), 1);
}
