//! `client NAME [ENDPOINT]`: starts a greeter, asks what it waits for,
//! tells it who to greet, and prints the greeting.

use std::time::Duration;

use stepwise_example_greeter::{Status, TASK_QUEUE, WORKFLOW};
use stepwise_sdk::client::Client;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "Ada".into());
    let endpoint = std::env::args().nth(2).unwrap_or_else(|| "http://127.0.0.1:8083".into());
    let client = Client::new(&endpoint);
    let machine = client.register_workflow_type(WORKFLOW, TASK_QUEUE).await?;
    let run = client.start(&machine, &format!("greet-{name}"), &"Hello").await?;
    println!("started {run}");
    // The query is answered by the worker from the run's replayed state.
    let status = loop {
        match client.query_as::<Status>(&run).await {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await, // the first workflow task is not done yet
        }
    };
    println!("status: {status}");
    client.signal(&run, "name", &name).await?;
    let result = client.result(&run, Duration::from_secs(60)).await?;
    match result {
        Some(Ok(v)) => println!("result: {v}"),
        Some(Err(e)) => anyhow::bail!("the workflow failed: {}: {}", e.error, e.cause),
        None => anyhow::bail!("the workflow did not finish within a minute"),
    }
    Ok(())
}
