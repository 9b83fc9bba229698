//! Child workflows, continue-as-new, cancellation and queries in the test environment.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use stepwise_sdk::Error;
use stepwise_sdk::workflow::{Event, TestEnv, WorkflowContext, WorkflowError};

async fn parent(ctx: WorkflowContext, n: u32) -> Result<u32, WorkflowError> {
    let a: u32 = ctx.child_workflow("square", "sq-a", &n).await?;
    let b: u32 = ctx.child_workflow("square", "sq-b", &(n + 1)).await?;
    Ok(a + b)
}

async fn square(ctx: WorkflowContext, n: u32) -> Result<u32, WorkflowError> {
    if n == 0 {
        return Err(WorkflowError::new("Zero", "nothing to square"));
    }
    ctx.sleep(Duration::from_secs(60)).await;
    Ok(n * n)
}

#[test]
fn children_run_to_their_end_and_fail_their_parent_by_name() {
    let mut env = TestEnv::new();
    env.register_workflow("parent", parent);
    env.register_workflow("square", square);
    env.start("p", "parent", &3).unwrap();
    env.run("p").unwrap();
    assert_eq!(env.result("p"), Some(Ok(json!(25))));
    assert_eq!(env.result("sq-b"), Some(Ok(json!(16))), "a child has a history of its own");
    let started = env.history("p").unwrap().iter().filter(|e| matches!(e, Event::ChildStarted { .. })).count();
    assert_eq!(started, 2);

    env.register_workflow("parent0", |ctx: WorkflowContext, _: u32| async move {
        let v: u32 = ctx.child_workflow("square", "sq-zero", &0).await?;
        Ok::<_, WorkflowError>(v)
    });
    env.start("p0", "parent0", &0).unwrap();
    env.run("p0").unwrap();
    assert_eq!(env.result("p0").unwrap().unwrap_err().error, "Zero");
}

/// Counts forever in runs of three, each run with a short history.
async fn counter(ctx: WorkflowContext, from: u32) -> Result<u32, WorkflowError> {
    let mut n = from;
    for _ in 0..3 {
        ctx.sleep(Duration::from_secs(86_400)).await;
        n += 1;
    }
    if n < 9 {
        return Err(ctx.continue_as_new(&n));
    }
    Ok(n)
}

#[test]
fn continue_as_new_keeps_each_history_short() {
    let mut env = TestEnv::new();
    env.register_workflow("counter", counter);
    env.start("c", "counter", &0).unwrap();
    env.run("c").unwrap();
    assert_eq!(env.result("c"), Some(Ok(json!(9))));
    assert_eq!(env.continued_runs("c"), 2);
    let timers = env.history("c").unwrap().iter().filter(|e| matches!(e, Event::TimerStarted { .. })).count();
    assert_eq!(timers, 3, "the last run's history holds only its own timers");
}

/// Works until told to stop, then undoes its work (detached: work started
/// after a cancellation request is otherwise cancelled with the run) and
/// fails with its own error.
async fn cancellable(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let progress = Rc::new(RefCell::new(0u32));
    let p = progress.clone();
    ctx.on_query("progress", move || json!(*p.borrow()));
    let _: () = ctx.activity("step", &1).await?;
    *progress.borrow_mut() += 1;
    let work = std::pin::pin!(ctx.sleep(Duration::from_secs(7 * 86_400)));
    let stop = std::pin::pin!(ctx.cancelled());
    match futures::future::select(work, stop).await {
        futures::future::Either::Left(_) => Ok("done".into()),
        futures::future::Either::Right(_) => {
            let _: () = ctx.detached(|| ctx.activity("undo", &1)).await?;
            Err(WorkflowError::new("Cancelled", "stopped on request"))
        }
    }
}

#[test]
fn a_cancelled_run_cleans_up_and_queries_read_its_state() {
    let mut env = TestEnv::new();
    env.register_workflow("w", cancellable);
    env.register_activity("step", |_: u32| async move { Ok(()) });
    env.register_activity("undo", |_: u32| async move { Ok(()) });
    env.start("w", "w", &()).unwrap();
    let day = env.now_ms() + 86_400_000;
    env.run_until("w", day).unwrap();
    let before = env.history("w").unwrap().len();
    assert_eq!(env.query("w", "progress").unwrap(), json!(1));
    assert_eq!(env.history("w").unwrap().len(), before, "a query writes nothing");
    assert!(matches!(env.query("w", "nope"), Err(Error::Unknown(_))));
    env.cancel("w").unwrap();
    env.run("w").unwrap();
    assert_eq!(env.result("w").unwrap().unwrap_err().error, "Cancelled");
    assert_eq!(env.calls("undo"), 1);
    let cancelled_timer = env.history("w").unwrap().iter().any(|e| matches!(e, Event::TimerCancelled { .. }));
    assert!(cancelled_timer, "the week-long timer is cancelled, not waited out");
}

/// A cart whose quantity callers change with validated updates until checkout.
async fn cart(ctx: WorkflowContext, _: ()) -> Result<u32, WorkflowError> {
    let quantity = Rc::new(RefCell::new(1u32));
    let q = quantity.clone();
    ctx.on_query("quantity", move || json!(*q.borrow()));
    ctx.on_update("set_quantity", |v| match v.as_u64() {
        Some(1..=10) => Ok(()),
        _ => Err(format!("a quantity is 1 to 10, not {v}")),
    });
    loop {
        let change = std::pin::pin!(ctx.update::<u32>("set_quantity"));
        let checkout = std::pin::pin!(ctx.signal::<()>("checkout"));
        match futures::future::select(change, checkout).await {
            futures::future::Either::Left((u, _)) => {
                let u = u?;
                *quantity.borrow_mut() = u.payload;
                ctx.respond(&u, &format!("quantity {}", u.payload));
            }
            futures::future::Either::Right((done, _)) => {
                done?;
                return Ok(*quantity.borrow());
            }
        }
    }
}

#[test]
fn updates_are_validated_then_answered_by_the_code() {
    let mut env = TestEnv::new();
    env.register_workflow("cart", cart);
    env.start("c", "cart", &()).unwrap();
    env.run("c").unwrap();
    let before = env.history("c").unwrap().len();
    let rejected = env.update("c", "set_quantity", &0);
    assert!(matches!(&rejected, Err(Error::UpdateRejected(why)) if why.contains("1 to 10")), "{rejected:?}");
    assert_eq!(env.history("c").unwrap().len(), before, "a rejected update leaves no trace");
    assert_eq!(env.update("c", "set_quantity", &3).unwrap(), json!("quantity 3"));
    assert_eq!(env.query("c", "quantity").unwrap(), json!(3));
    env.signal("c", "checkout", &()).unwrap();
    env.run("c").unwrap();
    assert_eq!(env.result("c"), Some(Ok(json!(3))));
}
