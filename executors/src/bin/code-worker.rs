//! `code-worker`: an example of a code-workflow worker running as a Lambda
//! function, with no long-lived process. Its SQS event source mappings are
//! the task queue's two SQS queues (`<prefix>wf-<queue>` and
//! `<prefix>at-<queue>`); each message names a task, which the function takes
//! from the Stepwise API (`TakeTask`) and does: replays a workflow task,
//! answers a query, or runs an activity.
//!
//! Environment: `STEPWISE_API_URL`, `STEPWISE_TASK_QUEUE` (default
//! `lambda`), and `STEPWISE_ACCESS_KEY_ID`/`STEPWISE_SECRET_ACCESS_KEY` when
//! the API checks signatures (`AWS_REGION` names the region signed for).

use std::time::Duration;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{ActivityError, ActivityOptions, RetryPolicy, Worker, WorkflowContext, WorkflowError};

/// Quote, reserve with retries, pause, confirm.
async fn fulfil(ctx: WorkflowContext, item: String) -> Result<String, WorkflowError> {
    let price: u64 = ctx.local_activity("price", &item, ActivityOptions::default()).await?;
    let retry = RetryPolicy { initial_interval_ms: 200, max_attempts: 5, ..RetryPolicy::default() };
    let reservation: String =
        ctx.activity_with("reserve", &item, ActivityOptions { retry, ..Default::default() }).await?;
    ctx.sleep(Duration::from_secs(1)).await;
    let _: () = ctx.activity("confirm", &reservation).await?;
    Ok(format!("{reservation} confirmed at {price}"))
}

fn worker(client: Client, queue: &str) -> Worker {
    let mut w = Worker::new(client, queue);
    w.register_workflow("fulfil", fulfil);
    w.register_activity("price", |item: String| async move { Ok(item.len() as u64 * 100) });
    w.register_activity("reserve", |item: String| async move {
        if item.is_empty() {
            return Err(ActivityError::non_retryable("NothingToReserve", "no item"));
        }
        Ok(format!("r-{item}"))
    });
    w.register_activity("confirm", |_: String| async move { Ok(()) });
    w
}

fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt().json().without_time().init();
    let url = std::env::var("STEPWISE_API_URL").map_err(|_| "STEPWISE_API_URL is not set")?;
    let queue = std::env::var("STEPWISE_TASK_QUEUE").unwrap_or_else(|_| "lambda".into());
    let mut client = Client::new(&url);
    if let (Ok(id), Ok(secret)) = (std::env::var("STEPWISE_ACCESS_KEY_ID"), std::env::var("STEPWISE_SECRET_ACCESS_KEY"))
    {
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        client = client.signed(&region, &id, &secret);
    }
    let worker = std::rc::Rc::new(worker(client, &queue));
    // Workflow code is single-threaded: one thread, one task at a time, as Lambda invokes.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
            let worker = worker.clone();
            async move { Ok::<Value, lambda_runtime::Error>(worker.handle_sqs_event(&e.payload).await) }
        }))
        .await
    })
}
