//! A greeter: waits (up to a day) for someone to say who to greet, answers
//! "what is it waiting for?" meanwhile, then greets through an activity.

use std::time::Duration;

use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{ActivityOptions, Worker, WorkflowContext, WorkflowError};

/// The task queue the worker serves and the workflow type is registered on.
pub const TASK_QUEUE: &str = "greetings";
/// The workflow type's name (a state machine on the server).
pub const WORKFLOW: &str = "greeter";

stepwise_sdk::query!(
    /// What the greeter is doing.
    pub Status, "status" => String
);
stepwise_sdk::activity!(
    /// Puts a greeting and a name together.
    pub Compose, "compose", (String, String) => String
);

async fn greeter(ctx: WorkflowContext, greeting: String) -> Result<String, WorkflowError> {
    let status = ctx.state("waiting for a name".to_string());
    ctx.answer::<Status, _>(&status, |s| s.clone());
    let name: Option<String> = ctx.signal_or_timeout("name", Duration::from_secs(86_400)).await?;
    let name = name.ok_or_else(|| WorkflowError::new("NoName", "nobody said who to greet within a day"))?;
    status.set(format!("greeting {name}"));
    let options = ActivityOptions { start_to_close_ms: Some(10_000), ..ActivityOptions::default() };
    let greeting = ctx.call_with::<Compose>(&(greeting, name), options).await?;
    Ok(greeting)
}

/// A worker for the greeter and its activity.
pub fn worker(client: Client) -> Worker {
    let mut w = Worker::new(client, TASK_QUEUE);
    w.register_workflow(WORKFLOW, greeter);
    w.register::<Compose, _, _>(|(greeting, name)| async move { Ok(format!("{greeting}, {name}!")) });
    w
}
