//! The durability contract under `kill -9`: started executions continue,
//! accepted callbacks apply exactly once, no state is entered twice, and
//! timers keep their deadlines.

mod common;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use common::{Server, create_machine, error_code, finished, temp_dir};

async fn history(c: &Client, arn: &str) -> Vec<HistoryEvent> {
    c.get_execution_history().execution_arn(arn).max_results(1000).send().await.expect("GetExecutionHistory").events
}

fn count(h: &[HistoryEvent], t: HistoryEventType) -> usize {
    h.iter().filter(|e| e.r#type == t).count()
}

/// Event ids run 1, 2, 3, … with no gap or repeat.
fn assert_contiguous(h: &[HistoryEvent]) {
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e.id, i as i64 + 1, "event ids are contiguous");
    }
}

#[tokio::test]
async fn waits_survive_kill_and_keep_deadlines() {
    let server = Server::start(&temp_dir("crash-wait"));
    let c = server.client();
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;
    let m = create_machine(&c, "waiter", def).await;
    let mut arns = Vec::new();
    for i in 0..20 {
        arns.push(c.start_execution().state_machine_arn(&m).name(format!("w{i}")).send().await.unwrap().execution_arn);
    }
    let dir = server.kill9();
    let server = Server::start(&dir);
    let c = server.client();
    for arn in &arns {
        let d = finished(&c, arn).await;
        assert_eq!(d.status, ExecutionStatus::Succeeded);
        let h = history(&c, arn).await;
        assert_contiguous(&h);
        assert_eq!(count(&h, HistoryEventType::WaitStateEntered), 1);
        assert_eq!(count(&h, HistoryEventType::PassStateEntered), 1);
        let at = |t: HistoryEventType| h.iter().find(|e| e.r#type == t).unwrap().timestamp.as_secs_f64();
        let waited = at(HistoryEventType::WaitStateExited) - at(HistoryEventType::WaitStateEntered);
        assert!(waited >= 2.0, "fired early: {waited}");
        assert!(waited < 4.0, "fired late: {waited}");
    }
}

#[tokio::test]
async fn tasks_and_callbacks_survive_kill() {
    let server = Server::start(&temp_dir("crash-task"));
    let c = server.client();
    let act = c.create_activity().name("work").send().await.unwrap().activity_arn;
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","Next":"Done"}},"Done":{{"Type":"Pass","End":true}}}}}}"#
    );
    let m = create_machine(&c, "tasks", &def).await;
    let a = c.start_execution().state_machine_arn(&m).name("a").send().await.unwrap().execution_arn;
    let b = c.start_execution().state_machine_arn(&m).name("b").send().await.unwrap().execution_arn;
    // Mid-task: a worker holds a's task when the server dies.
    let held = c.get_activity_task().activity_arn(&act).send().await.unwrap().task_token.unwrap();
    let server = Server::start(&server.kill9());
    let c = server.client();
    c.send_task_success().task_token(&held).output(r#"{"n":1}"#).send().await.unwrap();
    // The other task is still queued and handed out once.
    let other = c.get_activity_task().activity_arn(&act).send().await.unwrap().task_token.unwrap();
    assert_ne!(other, held);
    c.send_task_success().task_token(&other).output(r#"{"n":2}"#).send().await.unwrap();
    // Killed right after SendTaskSuccess returned: the result is not lost.
    let server = Server::start(&server.kill9());
    let c = server.client();
    let e = c.send_task_success().task_token(&other).output("{}").send().await.unwrap_err();
    assert_eq!(error_code(&e), "TaskTimedOut", "applied exactly once");
    let mut outputs = Vec::new();
    for arn in [&a, &b] {
        let d = finished(&c, arn).await;
        assert_eq!(d.status, ExecutionStatus::Succeeded);
        outputs.push(d.output.unwrap());
        let h = history(&c, arn).await;
        assert_contiguous(&h);
        assert_eq!(count(&h, HistoryEventType::TaskStateEntered), 1);
        assert_eq!(count(&h, HistoryEventType::ActivityScheduled), 1);
        assert_eq!(count(&h, HistoryEventType::ActivitySucceeded), 1);
    }
    outputs.sort();
    assert_eq!(outputs, [r#"{"n":1}"#, r#"{"n":2}"#]);
    // No third task was ever queued.
    let none =
        tokio::time::timeout(std::time::Duration::from_secs(2), c.get_activity_task().activity_arn(&act).send()).await;
    assert!(none.is_err() || none.unwrap().unwrap().task_token.is_none());
}

/// Kills the server at arbitrary moments while executions run, and checks
/// that each finishes with every state entered exactly once.
#[tokio::test]
async fn repeated_kills_lose_nothing() {
    let mut server = Server::start(&temp_dir("crash-loop"));
    let c = server.client();
    let def = r#"{"StartAt":"A","States":{
        "A":{"Type":"Pass","Next":"W"},
        "W":{"Type":"Wait","Seconds":1,"Next":"M"},
        "M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Wait","Seconds":1,"End":true}}},"Next":"Z"},
        "Z":{"Type":"Succeed"}}}"#;
    let m = create_machine(&c, "loop", def).await;
    let mut arns = Vec::new();
    for round in 0..3 {
        let c = server.client();
        for i in 0..10 {
            let s = c
                .start_execution()
                .state_machine_arn(&m)
                .name(format!("r{round}-{i}"))
                .input(r#"{"xs":[1,2,3]}"#)
                .send()
                .await
                .unwrap();
            arns.push(s.execution_arn);
        }
        server = Server::start(&server.kill9());
    }
    let c = server.client();
    for arn in &arns {
        let d = finished(&c, arn).await;
        assert_eq!(d.status, ExecutionStatus::Succeeded, "{arn}");
        let h = history(&c, arn).await;
        assert_contiguous(&h);
        for t in [
            HistoryEventType::PassStateEntered,
            HistoryEventType::MapStateEntered,
            HistoryEventType::SucceedStateEntered,
        ] {
            assert_eq!(count(&h, t), 1, "{arn}");
        }
        assert_eq!(count(&h, HistoryEventType::WaitStateEntered), 4, "{arn}");
    }
}

/// Retry backoff, task timeouts and the execution timeout are timers too:
/// they fire after a restart, on time.
#[tokio::test]
async fn backoffs_and_timeouts_fire_after_restart() {
    let server = Server::start(&temp_dir("crash-timeouts"));
    let c = server.client();
    let act = c.create_activity().name("never").send().await.unwrap().activity_arn;
    // A task no worker answers times out after 1 s, is retried after 1 s, times out again.
    let retried = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{act}","TimeoutSeconds":1,"Retry":[{{"ErrorEquals":["States.Timeout"],"IntervalSeconds":1,"MaxAttempts":1}}],"End":true}}}}}}"#
    );
    let m1 = create_machine(&c, "retried", &retried).await;
    let whole = r#"{"TimeoutSeconds":2,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#;
    let m2 = create_machine(&c, "whole", whole).await;
    let a = c.start_execution().state_machine_arn(&m1).send().await.unwrap().execution_arn;
    let b = c.start_execution().state_machine_arn(&m2).send().await.unwrap().execution_arn;
    let server = Server::start(&server.kill9());
    let c = server.client();
    let d = finished(&c, &a).await;
    assert_eq!(d.status, ExecutionStatus::Failed);
    assert_eq!(d.error.as_deref(), Some("States.Timeout"));
    let h = history(&c, &a).await;
    assert_contiguous(&h);
    assert_eq!(count(&h, HistoryEventType::ActivityScheduled), 2, "one retry");
    assert_eq!(count(&h, HistoryEventType::ActivityTimedOut), 2);
    let took = d.stop_date.unwrap().as_secs_f64() - d.start_date.as_secs_f64();
    assert!((3.0..6.0).contains(&took), "1 s + 1 s backoff + 1 s, took {took}");
    let d = finished(&c, &b).await;
    assert_eq!(d.status, ExecutionStatus::TimedOut);
    let took = d.stop_date.unwrap().as_secs_f64() - d.start_date.as_secs_f64();
    assert!((2.0..4.0).contains(&took), "the execution timeout keeps its deadline, took {took}");
}

/// SIGTERM shuts the server down gracefully (exit 0); a restart carries on.
#[tokio::test]
async fn sigterm_stops_gracefully() {
    let server = Server::start(&temp_dir("sigterm"));
    let c = server.client();
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let m = create_machine(&c, "graceful", def).await;
    let arn = c.start_execution().state_machine_arn(&m).send().await.unwrap().execution_arn;
    let dir = server.dir.clone();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let server = Server::start(&dir);
    let d = finished(&server.client(), &arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
}
