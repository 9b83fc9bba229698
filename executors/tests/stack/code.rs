//! Code workflows through the Lambda binaries: workers of `stepwise-sdk`
//! poll the task queues (SQS queues here) through the `api` function URL,
//! signed when the api checks signatures; executions live in DynamoDB and
//! the scheduler Lambda advances them.

use std::time::Duration;

use serde_json::json;
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::Event;

use super::Stack;
#[path = "../../../control-plane/tests/code_workflows/workflows.rs"]
mod workflows;
use workflows::{Calls, Order, worker};

const RESULT_WAIT: Duration = Duration::from_secs(120);
/// A year: the stacks that scale time 900 times make a day pass in 96 real seconds.
const APPROVAL_TIMEOUT_MS: u64 = 365 * 86_400_000;

fn client(stack: &Stack) -> Client {
    let c = Client::new(&stack.api);
    match &stack.key {
        Some((id, secret)) => c.signed("us-east-1", id, secret),
        None => c,
    }
}

/// The order saga (confirmed, and compensated), and a workflow that answers
/// a query and takes an update while it waits for its approval signal.
pub async fn code_workflows(stack: &Stack) {
    let client = client(stack);
    let order = client.register_workflow_type("order", "shop").await.expect("register order");
    let approval = client.register_workflow_type("approval", "shop").await.expect("register approval");
    let calls = Calls::default();
    let w = worker(&stack.api, &calls).with_client(client.clone());
    let local = tokio::task::LocalSet::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = local.spawn_local(async move { w.run_until(async move { stopped.await.unwrap_or(()) }).await });
    local
        .run_until(async {
            let ok = client.start(&order, "code-ok", &Order::new("s1", true)).await.expect("start");
            let out = client.start(&order, "code-out", &Order::new("s2", false)).await.expect("start");
            let r = client.result(&ok, RESULT_WAIT).await.expect("result").expect("closed");
            assert_eq!(r, Ok(json!("order s1 confirmed")));
            let r = client.result(&out, RESULT_WAIT).await.expect("result").expect("closed");
            assert_eq!(r.expect_err("out of stock").error, "OutOfStock");
            let h = client.history(&out).await.expect("history");
            let done = h.iter().filter(|e| matches!(e, Event::ActivityCompleted { .. } | Event::ActivityFailed { .. }));
            assert_eq!(done.count(), 5, "create, charge, reserve, refund, cancel: each once");

            let a = client
                .start(&approval, "code-approval", &json!({"limit": 10, "timeout_ms": APPROVAL_TIMEOUT_MS}))
                .await
                .expect("start");
            let status = super::eventually("the query", || async {
                client.query::<String>(&a, "status").await.map_err(|e| e.to_string())
            })
            .await;
            assert_eq!(status, "waiting");
            let limit: u32 = client.update(&a, "raise", &20).await.expect("update");
            assert_eq!(limit, 20);
            client.signal(&a, "approve", &"grace").await.expect("signal");
            let r = client.result(&a, RESULT_WAIT).await.expect("result").expect("closed");
            assert_eq!(r, Ok(json!({"approved_by": "grace", "limit": 20})));
        })
        .await;
    let _ = stop.send(());
    local.run_until(async { serving.await.expect("the worker stops") }).await;
    // Every SQS message may come twice here; a task is handed out once all the same.
    assert_eq!(calls.get("charge"), 2, "each order charged once");
}

/// Code workflows with no long-lived worker: the example `code-worker` Lambda
/// gets the task queue's messages from its SQS event source mappings.
pub async fn lambda_worker(stack: &Stack) {
    let client = client(stack);
    let fulfil = client.register_workflow_type("fulfil", "lambda").await.expect("register fulfil");
    let ok = client.start(&fulfil, "lambda-ok", &"book").await.expect("start");
    let none = client.start(&fulfil, "lambda-none", &"").await.expect("start");
    let r = client.result(&ok, RESULT_WAIT).await.expect("result").expect("closed");
    assert_eq!(r, Ok(json!("r-book confirmed at 400")));
    let r = client.result(&none, RESULT_WAIT).await.expect("result").expect("closed");
    assert_eq!(r.expect_err("nothing to reserve").error, "NothingToReserve");
    let h = client.history(&ok).await.expect("history");
    let completed = h.iter().filter(|e| matches!(e, Event::ActivityCompleted { .. })).count();
    assert_eq!(completed, 2, "reserve and confirm, each once");
    assert!(h.iter().any(|e| matches!(e, Event::MarkerRecorded { name, .. } if name == "LocalActivity:price")));
}
