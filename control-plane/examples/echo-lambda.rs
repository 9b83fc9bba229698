//! A Lambda function for the Lambda integration tests: it returns its event,
//! or fails with `{"fail": {"type": T, "message": M}}` as AWS Lambda does
//! for a handler error of that type.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, _) = event.into_parts();
    if let Some(f) = payload.get("fail") {
        return Err(Diagnostic {
            error_type: f["type"].as_str().unwrap_or("Error").to_string(),
            error_message: f["message"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(payload)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handler)).await
}
