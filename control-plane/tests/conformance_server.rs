//! The conformance corpus through the API: every engine-only case (JSONPath and JSONata)
//! that the engine passes and that finishes within a few seconds of virtual
//! time is created and run on a real server with aws-sdk-sfn, and its
//! outcome compared with AWS's recorded one. This proves that the API path
//! (storage, scheduler, timers) and the engine agree.

mod common;

use common::{Server, corpus, temp_dir};

/// The share of eligible cases that must run here; the rest would be waits too long for CI.
const RAN_MIN: usize = 850;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_through_the_server() {
    let server = Server::start_with(&temp_dir("conformance"), &["--account-id", "111111111111"]);
    let (ran, failed) = corpus::run_all(&server.client(), corpus::cases(1), corpus::CONCURRENCY).await;
    println!("corpus through the server: {} of {ran} cases match AWS", ran - failed.len());
    for f in &failed {
        println!("  {f}");
    }
    assert!(ran >= RAN_MIN, "only {ran} eligible cases ran");
    assert!(failed.is_empty(), "{} cases differ through the server", failed.len());
}
