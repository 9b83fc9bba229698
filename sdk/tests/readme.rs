//! The README's Rust snippets, verbatim, so that they compile and run
//! (`tests/tests/readme_snippets.rs` checks that every README snippet is here
//! or in an example project, line for line).

use std::time::Duration;

use serde_json::json;
use stepwise_sdk::asl::{Catch, Choice, Common, Cond, Fail, Machine, Results, Retry, Succeed, Task, WithErrors};
use stepwise_sdk::workflow::{TestEnv, WorkflowContext, WorkflowError};

#[test]
fn the_asl_builder_snippet() -> Result<(), stepwise_sdk::Error> {
    let order = Machine::new("Check")
        .state("Check", Choice::new().when(Cond::numeric_greater_than("$.total", 0), "Charge").otherwise("Rejected"))
        .state(
            "Charge",
            Task::new("arn:aws:states:::lambda:invoke")
                .parameters(json!({"FunctionName": "charge", "Payload.$": "$"}))
                .retry(Retry::on(["Flaky"]).interval_seconds(2).max_attempts(3).backoff_rate(2.0))
                .catch(Catch::on(["States.ALL"], "Rejected").result_path("$.error"))
                .next("Done"),
        )
        .state("Rejected", Fail::new().error("OrderRejected"))
        .state("Done", Succeed::new())
        .build()?; // stepwise_sdk::Error::Invalid(diagnostics) if AWS would refuse it
    let text = order.to_text(); // what CreateStateMachine takes
    assert!(text.contains("OrderRejected"));
    Ok(())
}

#[test]
fn the_test_env_snippet() -> Result<(), stepwise_sdk::Error> {
    async fn subscription(ctx: WorkflowContext, months: u32) -> Result<u32, WorkflowError> {
        for month in 1..=months {
            ctx.sleep(Duration::from_secs(30 * 86_400)).await; // a durable timer
            let _: () = ctx.activity("email", &month).await?; // retried, recorded once
        }
        Ok(months)
    }

    let mut env = TestEnv::new(); // in process, virtual time
    env.register_workflow("subscription", subscription);
    env.register_activity("email", |_month: u32| async move { Ok(()) });
    env.start("s1", "subscription", &12)?;
    env.run("s1")?; // a year, in milliseconds
    Ok(())
}
