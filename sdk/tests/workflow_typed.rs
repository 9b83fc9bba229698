//! Typed activity stubs: declared once with `activity!`, called with
//! `ctx.call::<A>` and served with `register::<A>`; the wire name and types
//! come from the declaration, and the string-named form still reaches them.

use stepwise_sdk::activity;
use stepwise_sdk::workflow::{
    ActivityOptions, ActivityType, QueryType, RetryPolicy, TestEnv, UpdateType, WorkflowContext, WorkflowError,
};

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

stepwise_sdk::query!(Total, "total" => u64);
stepwise_sdk::update!(Add, "add", u64 => u64);

/// A counter whose handlers read state the workflow owns: no Rc<RefCell<_>>.
async fn counter(ctx: WorkflowContext, (): ()) -> Result<u64, WorkflowError> {
    let total = ctx.state(0u64);
    ctx.answer::<Total, _>(&total, |t| *t);
    ctx.validate::<Add, _>(&total, |t, n| if t + n > 10 { Err(format!("{t} + {n} is over 10")) } else { Ok(()) });
    loop {
        let add = ctx.next_update::<Add>().await?;
        let now = total.write(|t| {
            *t += add.payload;
            *t
        });
        ctx.reply::<Add>(&add, &now);
        if now == 10 {
            return Ok(now);
        }
    }
}

#[test]
fn typed_queries_and_updates_read_and_change_workflow_state() {
    let mut env = TestEnv::new();
    env.register_workflow("counter", counter);
    env.start("c", "counter", &()).expect("start");
    env.run("c").expect("run");
    assert_eq!(env.update("c", Add::NAME, &4u64).expect("accepted"), serde_json::json!(4));
    assert_eq!(env.query("c", Total::NAME).expect("answered"), serde_json::json!(4));
    let refused = env.update("c", Add::NAME, &7u64).expect_err("the validator refuses");
    assert!(refused.to_string().contains("4 + 7 is over 10"), "{refused}");
    assert_eq!(env.update("c", Add::NAME, &6u64).expect("accepted"), serde_json::json!(10));
    env.run("c").expect("run");
    assert_eq!(env.result("c"), Some(Ok(serde_json::json!(10))));
}
