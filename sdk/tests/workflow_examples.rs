//! The examples of workflows as code, run in the test environment on
//! virtual time: an order saga, a monthly subscription, a data pipeline and
//! a human approval. Each checks its result, what its history recorded and
//! that every activity ran as often as the workflow asked, no more.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use stepwise_sdk::workflow::{
    ActivityError, ActivityOptions, Event, RetryPolicy, Saga, TestEnv, WorkflowContext, WorkflowError,
};

const DAY: Duration = Duration::from_secs(86_400);

#[derive(Serialize, Deserialize, Clone)]
struct Order {
    id: String,
    amount: u32,
    in_stock: bool,
}

/// Create, charge, reserve, confirm; on a failure, undo what succeeded, newest first.
async fn order_saga(ctx: WorkflowContext, order: Order) -> Result<String, WorkflowError> {
    let mut saga = Saga::new();
    let no_retry =
        ActivityOptions { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }, ..Default::default() };
    let id: String = ctx.activity("create_order", &order).await?;
    let c = ctx.clone();
    let cancel_id = id.clone();
    saga.add(async move { c.activity::<_, ()>("cancel_order", &cancel_id).await.map_err(Into::into) });
    let payment: String = ctx.activity("charge", &order.amount).await?;
    let c = ctx.clone();
    saga.add(async move { c.activity::<_, ()>("refund", &payment).await.map_err(Into::into) });
    let reserved: Result<(), ActivityError> = ctx.activity_with("reserve", &order, no_retry).await;
    if let Err(e) = reserved {
        saga.compensate().await;
        return Err(e.into());
    }
    let _: () = ctx.activity("confirm", &id).await?;
    Ok(format!("order {id} confirmed"))
}

fn scheduled(history: &[Event]) -> Vec<String> {
    history
        .iter()
        .filter_map(|e| match e {
            Event::ActivityScheduled { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn shop() -> TestEnv {
    let mut env = TestEnv::new();
    env.register_workflow("order", order_saga);
    env.register_activity("create_order", |o: Order| async move { Ok(o.id) });
    env.register_activity("charge", |amount: u32| async move { Ok(format!("pay-{amount}")) });
    env.register_activity("reserve", |o: Order| async move {
        if o.in_stock { Ok(()) } else { Err(ActivityError::non_retryable("OutOfStock", "nothing left")) }
    });
    env.register_activity("confirm", |_: String| async move { Ok(()) });
    env.register_activity("refund", |_: String| async move { Ok(()) });
    env.register_activity("cancel_order", |_: String| async move { Ok(()) });
    env
}

#[test]
fn the_order_saga_confirms_or_compensates_in_reverse() {
    let mut env = shop();
    env.start("ok", "order", &Order { id: "o1".into(), amount: 30, in_stock: true }).unwrap();
    env.run("ok").unwrap();
    assert_eq!(env.result("ok"), Some(Ok(json!("order o1 confirmed"))));
    assert_eq!(scheduled(env.history("ok").unwrap()), ["create_order", "charge", "reserve", "confirm"]);

    env.start("out", "order", &Order { id: "o2".into(), amount: 5, in_stock: false }).unwrap();
    env.run("out").unwrap();
    let err = env.result("out").unwrap().unwrap_err();
    assert_eq!(err.error, "OutOfStock");
    assert_eq!(scheduled(env.history("out").unwrap()), ["create_order", "charge", "reserve", "refund", "cancel_order"]);
    for (name, n) in
        [("create_order", 2), ("charge", 2), ("reserve", 2), ("confirm", 1), ("refund", 1), ("cancel_order", 1)]
    {
        assert_eq!(env.calls(name), n, "{name}");
    }
}

/// Bills a subscriber every 30 days, `months` times: months of sleep, tested in milliseconds.
async fn subscription(ctx: WorkflowContext, months: u32) -> Result<Vec<String>, WorkflowError> {
    let mut sent = Vec::new();
    for month in 1..=months {
        ctx.sleep(30 * DAY).await;
        let at = ctx.now_ms();
        sent.push(ctx.activity("email", &json!({"month": month, "at": at})).await?);
    }
    Ok(sent)
}

#[test]
fn a_subscription_sleeps_for_months_in_virtual_time() {
    let mut env = TestEnv::new();
    env.register_workflow("subscription", subscription);
    env.register_activity("email", |m: serde_json::Value| async move { Ok(format!("bill {}", m["month"])) });
    let start = env.now_ms();
    env.start("s", "subscription", &3).unwrap();
    env.run("s").unwrap();
    assert_eq!(env.result("s"), Some(Ok(json!(["bill 1", "bill 2", "bill 3"]))));
    assert_eq!(env.now_ms() - start, 90 * 86_400_000, "three 30-day timers");
    assert_eq!(env.calls("email"), 3);
}

/// Extract, transform every record at once (a join over activities), load.
async fn pipeline(ctx: WorkflowContext, source: String) -> Result<u32, WorkflowError> {
    let rows: Vec<u32> = ctx.activity("extract", &source).await?;
    let transforms = rows.iter().map(|r| ctx.activity::<_, u32>("transform", r));
    let results = futures::future::join_all(transforms).await;
    let done: Vec<u32> = results.into_iter().collect::<Result<_, _>>()?;
    Ok(ctx.activity("load", &done).await?)
}

#[test]
fn a_pipeline_joins_its_transforms_and_retries_a_flaky_one() {
    let mut env = TestEnv::new();
    env.register_workflow("etl", pipeline);
    env.register_activity("extract", |_: String| async move { Ok(vec![1u32, 2, 3]) });
    let flaked = std::rc::Rc::new(std::cell::Cell::new(false));
    let f = flaked.clone();
    env.register_activity("transform", move |r: u32| {
        let first = !f.replace(true);
        async move { if first { Err(ActivityError::new("Flaky", "once")) } else { Ok(r * 10) } }
    });
    env.register_activity("load", |rows: Vec<u32>| async move { Ok(rows.iter().sum::<u32>()) });
    env.start("p", "etl", &"s3://in").unwrap();
    env.run("p").unwrap();
    assert_eq!(env.result("p"), Some(Ok(json!(60))));
    assert_eq!(env.calls("transform"), 4, "three rows, one retried");
    let retried = env.history("p").unwrap().iter().any(|e| matches!(e, Event::ActivityCompleted { attempts: 2, .. }));
    assert!(retried, "the retry is recorded with the final outcome");
}

/// Waits up to two days for a decision.
async fn approval(ctx: WorkflowContext, request: String) -> Result<String, WorkflowError> {
    let _: () = ctx.activity("notify", &request).await?;
    match ctx.signal_or_timeout::<bool>("decision", 2 * DAY).await? {
        Some(true) => Ok("approved".into()),
        Some(false) => Ok("rejected".into()),
        None => Ok("expired".into()),
    }
}

pub fn approvals() -> TestEnv {
    let mut env = TestEnv::new();
    env.register_workflow("approval", approval);
    env.register_activity("notify", |_: String| async move { Ok(()) });
    env
}

#[test]
fn an_approval_waits_for_a_signal_or_expires() {
    let mut env = approvals();
    env.start("yes", "approval", &"buy a boat").unwrap();
    let a_day_later = env.now_ms() + 86_400_000;
    env.run_until("yes", a_day_later).unwrap();
    assert_eq!(env.result("yes"), None, "waiting for the decision");
    env.signal("yes", "decision", &true).unwrap();
    env.run("yes").unwrap();
    assert_eq!(env.result("yes"), Some(Ok(json!("approved"))));
    let cancelled = env.history("yes").unwrap().iter().any(|e| matches!(e, Event::TimerCancelled { .. }));
    assert!(cancelled, "the expiry timer is cancelled once the signal came");

    env.start("no", "approval", &"buy a plane").unwrap();
    env.run("no").unwrap();
    assert_eq!(env.result("no"), Some(Ok(json!("expired"))));
}
