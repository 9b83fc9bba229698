//! Shared start-up of the Lambda binaries: logging and the engine.
#![recursion_limit = "256"]

use std::future::Future;
use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use stepwise_control_plane::engine::Engine;

/// Runs a handler over JSON events with an engine built from the environment.
pub async fn run<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Arc<Engine>, Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Value> + Send,
{
    // Lambda stamps every log line itself; JSON lines are searchable in CloudWatch.
    tracing_subscriber::fmt()
        .json()
        .without_time()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let engine = stepwise_control_plane::handlers::engine_from_env().await?;
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
        let (engine, handler) = (engine.clone(), handler.clone());
        async move { Ok::<Value, Error>(handler(engine, e.payload).await) }
    }))
    .await
}
