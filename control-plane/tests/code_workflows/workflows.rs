//! The workflows and activities the server tests run on their workers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use stepwise_sdk::workflow::history::RunInfo;

use futures::future::{Either, select};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stepwise_sdk::client::Client;
use stepwise_sdk::workflow::{
    ActivityContext, ActivityError, ActivityOptions, RetryPolicy, Saga, Worker, WorkflowContext, WorkflowError,
};

/// How often each activity ran, across executions.
#[derive(Clone, Default)]
pub struct Calls(Rc<RefCell<HashMap<String, u32>>>);

impl Calls {
    pub fn get(&self, name: &str) -> u32 {
        self.0.borrow().get(name).copied().unwrap_or(0)
    }
    pub fn add(&self, name: &str) -> u32 {
        let mut m = self.0.borrow_mut();
        let n = m.entry(name.to_string()).or_default();
        *n += 1;
        *n
    }
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Order {
    id: String,
    in_stock: bool,
}

impl Order {
    pub fn new(id: &str, in_stock: bool) -> Order {
        Order { id: id.into(), in_stock }
    }
}

fn no_retry() -> ActivityOptions {
    ActivityOptions { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }, ..Default::default() }
}

/// Create, charge, reserve, confirm; on a failure, undo what succeeded, newest first.
async fn order(ctx: WorkflowContext, order: Order) -> Result<String, WorkflowError> {
    let mut saga = Saga::new();
    let id: String = ctx.activity("create_order", &order).await?;
    let (c, undo) = (ctx.clone(), id.clone());
    saga.add(async move { c.activity::<_, ()>("cancel_order", &undo).await.map_err(Into::into) });
    let payment: String = ctx.activity("charge", &id).await?;
    let c = ctx.clone();
    saga.add(async move { c.activity::<_, ()>("refund", &payment).await.map_err(Into::into) });
    if let Err(e) = ctx.activity_with::<_, ()>("reserve", &order, no_retry()).await {
        saga.compensate().await;
        return Err(e.into());
    }
    let _: () = ctx.activity("confirm", &id).await?;
    Ok(format!("order {id} confirmed"))
}

stepwise_sdk::query!(
    /// What an approval waits for.
    pub Status, "status" => String
);
stepwise_sdk::update!(
    /// Raises an approval's limit (up to 500); answers the new limit.
    pub Raise, "raise", u64 => u64
);

/// Waits for an approval signal, answering a status query and taking
/// validated updates of its limit meanwhile; gives up after a timeout. Its
/// handlers read state the workflow owns (`ctx.state`), with typed queries
/// and updates.
async fn approval(ctx: WorkflowContext, p: Value) -> Result<Value, WorkflowError> {
    let limit = ctx.state(p["limit"].as_u64().unwrap_or(0));
    ctx.answer::<Status, _>(&limit, |_| "waiting".to_string());
    ctx.validate::<Raise, _>(&limit, |_, v| if *v > 500 { Err("over 500".into()) } else { Ok(()) });
    let timeout = Duration::from_millis(p["timeout_ms"].as_u64().unwrap_or(86_400_000));
    let mut timer = Box::pin(ctx.sleep(timeout));
    let mut cancelled = Box::pin(ctx.cancelled());
    loop {
        let update = Box::pin(ctx.next_update::<Raise>());
        let signal = Box::pin(ctx.signal::<String>("approve"));
        match select(select(update, signal), select(&mut timer, &mut cancelled)).await {
            Either::Left((Either::Left((u, _)), _)) => {
                let u = u?;
                limit.set(u.payload);
                ctx.reply::<Raise>(&u, &u.payload);
            }
            Either::Left((Either::Right((who, _)), _)) => {
                return Ok(json!({"approved_by": who?, "limit": limit.get()}));
            }
            Either::Right((Either::Left(_), _)) => {
                return Err(WorkflowError::new("NotApproved", "nobody approved in time"));
            }
            Either::Right((Either::Right(_), _)) => {
                return Err(WorkflowError::new("Cancelled", "the request was withdrawn"));
            }
        }
    }
}

/// A flaky step retried by the server, then one child order per id, in parallel.
async fn batch(ctx: WorkflowContext, ids: Vec<String>) -> Result<Vec<String>, WorkflowError> {
    let fast = RetryPolicy { initial_interval_ms: 10, max_attempts: 5, ..RetryPolicy::default() };
    let _: u32 = ctx.activity_with("flaky", &(), ActivityOptions { retry: fast, ..Default::default() }).await?;
    let children = ids.iter().map(|id| ctx.child_workflow::<_, String>("order", id, &Order::new(id, true)));
    futures::future::join_all(children).await.into_iter().collect()
}

/// Counts to 5, one run per step.
async fn counter(ctx: WorkflowContext, n: u32) -> Result<u32, WorkflowError> {
    ctx.sleep(Duration::from_millis(1)).await;
    if n < 5 {
        return Err(ctx.continue_as_new(&(n + 1)));
    }
    Ok(n)
}

fn beating(heartbeat_ms: u64, max_attempts: u32) -> ActivityOptions {
    ActivityOptions {
        retry: RetryPolicy { initial_interval_ms: 10, max_attempts, ..RetryPolicy::default() },
        heartbeat_ms: Some(heartbeat_ms),
        start_to_close_ms: Some(10_000),
        ..Default::default()
    }
}

/// A local activity, an activity that heartbeats through a long run, and
/// one whose first attempt falls silent and times out.
async fn beats(ctx: WorkflowContext, (): ()) -> Result<Value, WorkflowError> {
    let price: u64 = ctx.local_activity("price", &"book", ActivityOptions::default()).await?;
    let long: u32 = ctx.activity_with("long_beat", &(), beating(400, 1)).await?;
    let silent: u32 = ctx.activity_with("silent", &(), beating(300, 3)).await?;
    Ok(json!({"price": price, "long": long, "silent": silent}))
}

/// An upload raced against a deadline in a cancellation scope: the scope is
/// cancelled, and with it the upload's activity on the server.
async fn race(ctx: WorkflowContext, deadline_ms: u64) -> Result<String, WorkflowError> {
    let scope = ctx.root_scope().child();
    let upload = scope.run(ctx.activity_with::<_, String>("slow_upload", &(), beating(500, 1)));
    let deadline = ctx.sleep(Duration::from_millis(deadline_ms));
    match select(Box::pin(upload), deadline).await {
        Either::Left((done, _)) => Ok(done??),
        Either::Right(((), _)) => {
            scope.cancel();
            Err(WorkflowError::new("DeadlinePassed", "the upload took too long"))
        }
    }
}

stepwise_sdk::activity!(
    /// What trace context the activity was handed (a typed stub: checked at compile time).
    TraceContext, "trace_context", () => Option<String>
);

/// Gives back the trace context its activity was handed.
async fn traced(ctx: WorkflowContext, _: u32) -> Result<Option<String>, WorkflowError> {
    Ok(ctx.call::<TraceContext>(&()).await?)
}

/// Sleeps ten minutes, with no cancellation handling.
async fn sleeper(ctx: WorkflowContext, (): ()) -> Result<String, WorkflowError> {
    ctx.sleep(Duration::from_secs(600)).await;
    Ok("woke".into())
}

/// Uploads (heartbeating); when cancelled, prices the cleanup detached and
/// lets the cancellation through.
async fn patient(ctx: WorkflowContext, (): ()) -> Result<String, WorkflowError> {
    match ctx.activity_with::<_, String>("slow_upload", &(), beating(500, 1)).await {
        Err(e) if e.error_type == stepwise_sdk::workflow::CANCELLED => {
            let _: u64 = ctx.detached(|| ctx.activity("price", &"cleanup".to_string())).await?;
            Err(e.into())
        }
        other => Ok(other?),
    }
}

pub fn worker(endpoint: &str, calls: &Calls) -> Worker {
    let mut w = Worker::new(Client::new(endpoint), "shop");
    w.register_workflow("order", order);
    w.register_workflow("approval", approval);
    w.register_workflow("batch", batch);
    w.register_workflow("counter", counter);
    w.register_workflow("beats", beats);
    w.register_workflow("race", race);
    w.register_workflow("curious", curious);
    w.register_workflow("introspect", introspect);
    w.register_workflow("traced", traced);
    w.register_workflow("sleeper", sleeper);
    w.register_workflow("patient", patient);
    w.register_activity_with_context(
        "trace_context",
        |ctx: ActivityContext, (): ()| async move { Ok(ctx.traceparent) },
    );
    let c = calls.clone();
    w.register_activity("price", move |item: String| {
        c.add("price");
        async move { Ok(item.len() as u64 * 10) }
    });
    let c = calls.clone();
    w.register_activity_with_context("long_beat", move |ctx: ActivityContext, (): ()| {
        c.add("long_beat");
        async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                ctx.heartbeat().await;
            }
            Ok(ctx.attempt)
        }
    });
    let c = calls.clone();
    w.register_activity_with_context("silent", move |ctx: ActivityContext, (): ()| {
        c.add("silent");
        async move {
            if ctx.attempt == 1 {
                tokio::time::sleep(Duration::from_millis(1_200)).await;
                if !ctx.heartbeat().await {
                    return Err(ActivityError::new("Abandoned", "the attempt timed out meanwhile"));
                }
            }
            Ok(ctx.attempt)
        }
    });
    let c = calls.clone();
    w.register_activity_with_context("slow_upload", move |ctx: ActivityContext, (): ()| {
        c.add("slow_upload");
        let c = c.clone();
        async move {
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if !ctx.heartbeat().await {
                    c.add("slow_upload_stopped");
                    return Err(ActivityError::new("Stopped", "no longer wanted"));
                }
            }
            Ok("uploaded".to_string())
        }
    });
    let c = calls.clone();
    w.register_activity("create_order", move |o: Order| {
        c.add("create_order");
        async move { Ok(o.id) }
    });
    let c = calls.clone();
    w.register_activity("charge", move |id: String| {
        c.add("charge");
        async move { Ok(format!("pay-{id}")) }
    });
    let c = calls.clone();
    w.register_activity("reserve", move |o: Order| {
        c.add("reserve");
        async move { if o.in_stock { Ok(()) } else { Err(ActivityError::non_retryable("OutOfStock", "nothing left")) } }
    });
    for name in ["confirm", "refund", "cancel_order"] {
        let c = calls.clone();
        w.register_activity(name, move |_: String| {
            c.add(name);
            async move { Ok(()) }
        });
    }
    let c = calls.clone();
    w.register_activity("flaky", move |(): ()| {
        let n = c.add("flaky");
        async move { if n < 3 { Err(ActivityError::new("Flaky", format!("attempt {n} failed"))) } else { Ok(n) } }
    });
    w
}

/// Continues as new once, then answers with its own info and its child's.
async fn curious(ctx: WorkflowContext, round: u32) -> Result<serde_json::Value, WorkflowError> {
    if round == 0 {
        return Err(ctx.continue_as_new(&1));
    }
    let child: RunInfo = ctx.child_workflow("introspect", "curious-kid", &0u32).await?;
    Ok(serde_json::json!({"me": ctx.info(), "child": child}))
}

async fn introspect(ctx: WorkflowContext, _: u32) -> Result<RunInfo, WorkflowError> {
    Ok(ctx.info())
}
