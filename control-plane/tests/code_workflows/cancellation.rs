//! Cancellation on the server, as Temporal has it: RequestCancelExecution
//! interrupts a plain sleep with no opt-in, cancels an awaited activity on
//! its worker (seen at its next heartbeat), lets detached cleanup run, and
//! the execution ends ABORTED with a `WorkflowCancelled` close event.

use serde_json::json;
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{CANCELLED, Event};

use crate::common::{Server, eventually, temp_dir};
use crate::workflows::Calls;
use crate::{RESULT_WAIT, with_worker};

async fn closed_aborted(client: &Client, arn: &str) -> Vec<Event> {
    let r = client.result(arn, RESULT_WAIT).await.expect("the API answers").expect("closed");
    assert_eq!(r.expect_err("a cancelled run").error, CANCELLED);
    assert_eq!(client.describe(arn).await.expect("described")["status"], "ABORTED");
    let h = client.history(arn).await.expect("the history");
    assert!(matches!(h.last(), Some(Event::WorkflowCancelled { .. })), "closed as cancelled: {:?}", h.last());
    h
}

#[tokio::test]
async fn a_cancellation_request_ends_a_plain_sleep_aborted() {
    let server = Server::start(&temp_dir("code-cancel-sleep"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("sleeper", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&machine, "s1", &json!(null)).await.unwrap();
        eventually("the timer", || async {
            let h = client.history(&arn).await.ok()?;
            h.iter().any(|e| matches!(e, Event::TimerStarted { .. })).then_some(())
        })
        .await;
        client.cancel(&arn).await.unwrap();
        let h = closed_aborted(&client, &arn).await;
        assert!(h.iter().any(|e| matches!(e, Event::TimerCancelled { .. })), "the timer was cancelled");
    })
    .await;
}

#[tokio::test]
async fn an_awaited_activity_is_cancelled_on_its_worker_and_cleanup_runs_detached() {
    let server = Server::start(&temp_dir("code-cancel-activity"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("patient", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&machine, "p1", &json!(null)).await.unwrap();
        eventually("the upload running on the worker", || async { (calls.get("slow_upload") == 1).then_some(()) })
            .await;
        client.cancel(&arn).await.unwrap();
        let h = closed_aborted(&client, &arn).await;
        assert!(h.iter().any(|e| matches!(e, Event::ActivityCancelRequested { .. })));
        assert_eq!(calls.get("price"), 1, "the detached cleanup ran");
        eventually("the worker's heartbeat told it to stop", || async {
            (calls.get("slow_upload_stopped") == 1).then_some(())
        })
        .await;
    })
    .await;
}
