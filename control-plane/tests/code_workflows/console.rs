//! A code workflow in the console, in a real Chromium: its events, a Query
//! answered by the worker, a Signal that ends the run.

use serde_json::json;
use stepwise_sdk::client::Client;

use crate::common::console::drive;
use crate::common::{Server, temp_dir};
use crate::with_worker;
use crate::workflows::Calls;

#[tokio::test]
async fn the_console_queries_and_signals_a_code_workflow() {
    let server = Server::start(&temp_dir("code-console"));
    let client = Client::new(&server.endpoint);
    let calls = Calls::default();
    let machine = client.register_workflow_type("approval", "shop").await.unwrap();
    with_worker(&server.endpoint, &calls, async {
        let arn = client.start(&machine, "console-1", &json!({"limit": 100})).await.unwrap();
        drive("code_workflow", &server.endpoint, json!({"execution": arn})).await;
    })
    .await;
}
