//! `caller`: an example of your own Lambda starting a Stepwise execution and
//! waiting for its result, with the unmodified aws-sdk-sfn. Only the endpoint
//! differs from calling AWS Step Functions; requests are signed with SigV4.
//!
//! Event: `{"stateMachineArn": "...", "input": {...}, "name": "optional"}`.
//! Answer: `{"executionArn", "status", "output", "error", "cause"}`, the
//! output parsed as JSON; `status` stays `RUNNING` if the execution outlives
//! this invocation (the ARN lets a later call pick it up).
//!
//! Environment:
//! - `STEPWISE_API_URL`: the Stepwise API (the `api_url` output of the
//!   Terraform module, or `API_ENDPOINT` of `localstack/stack up`);
//! - `STEPWISE_ACCESS_KEY_ID` and `STEPWISE_SECRET_ACCESS_KEY`: a key pair of
//!   the api's `STEPWISE_CREDENTIALS` when it checks signatures itself
//!   (`api_auth = "SIGV4"`); without them the SDK's usual credentials sign.

use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::Credentials;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Longest pause between two looks at a running execution.
const POLL_MS_MAX: u64 = 1_000;
/// Time kept back from the invocation's deadline to answer in.
const ANSWER_MS: u64 = 500;
/// Longest wait when the invocation has no deadline (never on Lambda).
const WAIT_MS_MAX: u64 = 900_000;

async fn client() -> anyhow::Result<Client> {
    let url = std::env::var("STEPWISE_API_URL").context("STEPWISE_API_URL is not set")?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https())
        .endpoint_url(url);
    if let (Ok(id), Ok(secret)) = (std::env::var("STEPWISE_ACCESS_KEY_ID"), std::env::var("STEPWISE_SECRET_ACCESS_KEY"))
    {
        loader = loader.credentials_provider(Credentials::new(id, secret, None, None, "stepwise"));
    }
    Ok(Client::new(&loader.load().await))
}

async fn start_and_wait(c: &Client, event: Value, deadline: Instant) -> anyhow::Result<Value> {
    let machine = event["stateMachineArn"].as_str().context("the event has no stateMachineArn")?;
    let input = event.get("input").cloned().unwrap_or(json!({}));
    let started = c
        .start_execution()
        .state_machine_arn(machine)
        .input(input.to_string())
        .set_name(event["name"].as_str().map(str::to_string))
        .send()
        .await
        .context("StartExecution")?;
    let arn = started.execution_arn;
    let mut pause = Duration::from_millis(50);
    loop {
        let d = c.describe_execution().execution_arn(&arn).send().await.context("DescribeExecution")?;
        if d.status != ExecutionStatus::Running || Instant::now() + pause >= deadline {
            let output = d.output.as_deref().map(serde_json::from_str::<Value>).transpose()?;
            return Ok(json!({
                "executionArn": arn,
                "status": d.status.as_str(),
                "output": output,
                "error": d.error,
                "cause": d.cause,
            }));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(POLL_MS_MAX));
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().json().without_time().init();
    let c = client().await?;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
        let c = c.clone();
        async move {
            let wait_ms = time_left_ms(e.context.deadline, epoch_ms()).saturating_sub(ANSWER_MS).min(WAIT_MS_MAX);
            tracing::info!(wait_ms, "starting an execution and waiting for it");
            let deadline = Instant::now() + Duration::from_millis(wait_ms);
            start_and_wait(&c, e.payload, deadline).await.map_err(|e| Error::from(format!("{e:#}")))
        }
    }))
    .await
}

/// Lambda gives the deadline as epoch milliseconds; cargo-lambda's emulator
/// gives the function's timeout itself, which no epoch time can be.
fn time_left_ms(deadline: u64, now_ms: u64) -> u64 {
    const EPOCH_MS_MIN: u64 = 1_000_000_000_000; // 2001: older "deadlines" are durations
    if deadline < EPOCH_MS_MIN { deadline } else { deadline.saturating_sub(now_ms) }
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
