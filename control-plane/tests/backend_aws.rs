//! The engine on its second backend: DynamoDB and SQS (LocalStack), behind
//! the same Store and Queue interfaces as the embedded store.

mod common;

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use common::{LocalStack, Server, corpus, create_machine, error_code, finished, temp_dir};

/// One corpus case in this many runs on the AWS backend (LocalStack is slow).
const CORPUS_SAMPLE_EVERY: usize = 8;

/// The resources, made by the same bootstrap users run (`localstack/bootstrap.sh`).
fn bootstrap(ls: &LocalStack) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../localstack/bootstrap.sh");
    let out = std::process::Command::new("bash")
        .args([script, &ls.endpoint, "stepwise", "sw-", "sw-payloads"])
        .output()
        .expect("bootstrap.sh runs");
    assert!(out.status.success(), "bootstrap failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn start(ls: &LocalStack, dir: &std::path::Path) -> Server {
    Server::start_with(
        dir,
        &[
            "--dynamodb-table",
            "stepwise",
            "--queue-prefix",
            "sw-",
            "--payload-bucket",
            "sw-payloads",
            "--aws-endpoint",
            &ls.endpoint,
            "--account-id",
            "111111111111",
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_on_dynamodb_and_sqs() {
    let ls = LocalStack::start("backend");
    bootstrap(&ls);
    let dir = temp_dir("backend-aws");
    let server = start(&ls, &dir);
    let c = server.client();

    // Pass, Map, a Wait timer delivered through SQS, Choice.
    let hello = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hello.asl.json")).unwrap();
    let m = create_machine(&c, "hello", &hello).await;
    let s = c.start_execution().state_machine_arn(&m).name("one").input(r#"{"name":"Ada"}"#).send().await.unwrap();
    let again = c.start_execution().state_machine_arn(&m).name("one").input(r#"{"name":"Ada"}"#).send().await.unwrap();
    assert_eq!(again.execution_arn, s.execution_arn, "idempotent start");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded, "{:?} {:?}", d.error, d.cause);

    // An activity worker, heartbeats, and a result accepted once.
    let act = c.create_activity().name("work").send().await.unwrap().activity_arn;
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","HeartbeatSeconds":30,"End":true}}}}}}"#
    );
    let m = create_machine(&c, "worker", &def).await;
    let s = c.start_execution().state_machine_arn(&m).input(r#"{"n":2}"#).send().await.unwrap();
    let t = c.get_activity_task().activity_arn(&act).worker_name("w").send().await.unwrap();
    let token = t.task_token.unwrap();
    assert_eq!(t.input.as_deref(), Some(r#"{"n":2}"#));
    c.send_task_heartbeat().task_token(&token).send().await.unwrap();
    c.send_task_success().task_token(&token).output(r#"{"n":4}"#).send().await.unwrap();
    let e = c.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "TaskTimedOut");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#"{"n":4}"#));

    // A nested .sync execution.
    let child = create_machine(&c, "child", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await;
    let parent = format!(
        r#"{{"StartAt":"S","States":{{"S":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{{"StateMachineArn":"{child}","Input":{{"x":1}}}},"OutputPath":"$.Output","End":true}}}}}}"#
    );
    let m = create_machine(&c, "parent", &parent).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.unwrap();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#"{"x":1}"#));

    // kill -9 during a wait: the timer is in SQS and the state in DynamoDB.
    let wait =
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;
    let m = create_machine(&c, "waiter", wait).await;
    let s = c.start_execution().state_machine_arn(&m).send().await.unwrap();
    server.kill9();
    let server = start(&ls, &dir);
    let c = server.client();
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    let h = c.get_execution_history().execution_arn(&s.execution_arn).send().await.unwrap();
    assert_eq!(h.events.iter().filter(|e| e.r#type == HistoryEventType::WaitStateEntered).count(), 1);
    let list = c.list_executions().state_machine_arn(&m).send().await.unwrap();
    assert_eq!(list.executions.len(), 1);

    // A step that outgrows one transaction fails the execution, on start and later (the hardening issue).
    for (name, first) in [("oversized-first", "M"), ("oversized-later", "W")] {
        let def = serde_json::json!({"QueryLanguage": "JSONata", "StartAt": first, "States": {
            "W": {"Type": "Wait", "Seconds": 1, "Next": "M"},
            "M": {"Type": "Map", "Items": "{% [1..200] %}", "MaxConcurrency": 0, "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass",
                    "Output": "{% $pad('', 200000, 'x') %}", "End": true}}}}}});
        let def = if first == "M" {
            let mut d = def;
            d["States"].as_object_mut().unwrap().remove("W");
            d
        } else {
            def
        };
        let m = create_machine(&c, name, &def.to_string()).await;
        let s = c.start_execution().state_machine_arn(&m).send().await.unwrap();
        let d = finished(&c, &s.execution_arn).await;
        assert_eq!((d.status, d.error.as_deref()), (ExecutionStatus::Failed, Some("States.Runtime")), "{name}");
        assert!(d.cause.as_deref().unwrap_or_default().contains("the limit is"), "{name}: {:?}", d.cause);
    }

    // A sample of the conformance corpus gives the same answers as on the embedded store.
    let cases = corpus::cases(CORPUS_SAMPLE_EVERY);
    let (ran, failed) = corpus::run_all(&c, cases, 8).await;
    println!("corpus sample on DynamoDB/SQS: {} of {ran} cases match AWS", ran - failed.len());
    assert!(failed.is_empty(), "{failed:#?}");
}
