//! Typed activity stubs: declared once with `activity!`, called with
//! `ctx.call::<A>` and served with `register::<A>`; the wire name and types
//! come from the declaration, and the string-named form still reaches them.

use stepwise_sdk::activity;
use stepwise_sdk::workflow::{ActivityOptions, ActivityType, RetryPolicy, TestEnv, WorkflowContext, WorkflowError};

activity!(
    /// Prices an item, in cents.
    Price, "price", String => u64
);
activity!(Reserve, "reserve", (String, u32) => bool);

async fn shop(ctx: WorkflowContext, item: String) -> Result<(u64, bool, u64), WorkflowError> {
    let cents = ctx.call::<Price>(&item).await?;
    let once =
        ActivityOptions { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }, ..Default::default() };
    let reserved = ctx.call_with::<Reserve>(&(item.clone(), 2), once).await?;
    // The string-named form reaches the same activity.
    let again: u64 = ctx.activity(Price::NAME, &item).await?;
    Ok((cents, reserved, again))
}

#[test]
fn typed_stubs_call_and_serve_activities() {
    let mut env = TestEnv::new();
    env.register_workflow("shop", shop);
    env.register::<Price, _, _>(|item: String| async move { Ok(item.len() as u64 * 100) });
    env.register::<Reserve, _, _>(|(_, n): (String, u32)| async move { Ok(n <= 5) });
    env.start("s1", "shop", &"lamp").expect("start");
    env.run("s1").expect("run");
    let out = env.result("s1").expect("closed").expect("succeeded");
    assert_eq!(out, serde_json::json!([400, true, 400]));
    assert_eq!(Price::NAME, "price");
}
