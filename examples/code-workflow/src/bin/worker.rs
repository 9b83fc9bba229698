//! `worker [ENDPOINT]`: serves the greeter until Ctrl-C.

use stepwise_sdk::client::Client;

fn main() -> anyhow::Result<()> {
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8083".into());
    let worker = stepwise_example_greeter::worker(Client::new(&endpoint));
    // Workflow code is single-threaded: a current-thread runtime runs the worker.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        println!("serving {} on {endpoint}", stepwise_example_greeter::TASK_QUEUE);
        worker.run_until(async { tokio::signal::ctrl_c().await.unwrap_or(()) }).await;
    });
    Ok(())
}
