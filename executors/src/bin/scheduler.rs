//! The `scheduler` Lambda: see `stepwise_control_plane::handlers::scheduler`.
// The engine's nested async calls make deep future types.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stepwise_executors::run(stepwise_control_plane::handlers::scheduler).await
}
