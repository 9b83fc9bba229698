//! A run's replayed state kept between workflow tasks (the sticky cache's
//! entry) gives, task by task, exactly the commands a replay of the whole
//! history gives: each workflow below runs to its end in the test
//! environment, then every one of its workflow tasks is run again both ways.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use stepwise_sdk::workflow::{
    ActivityError, Event, Replayed, TaskOutcome, TestEnv, WorkflowContext, WorkflowError, WorkflowFn, workflow_fn,
    workflow_task_kept, workflow_task_local,
};

const DAY: Duration = Duration::from_secs(86_400);

async fn monthly(ctx: WorkflowContext, months: u32) -> Result<u32, WorkflowError> {
    for m in 1..=months {
        ctx.sleep(30 * DAY).await;
        let _: u32 = ctx.activity("echo", &m).await?;
    }
    Ok(months)
}

/// Two activities at once, one failing and caught, then a random choice.
async fn fan(ctx: WorkflowContext, n: u32) -> Result<u32, WorkflowError> {
    let a = ctx.activity::<_, u32>("echo", &n);
    let b = ctx.activity::<_, u32>("fail", &n);
    let (a, b) = futures::future::join(a, b).await;
    let extra = if b.is_err() { 10 } else { 0 };
    let pick = ctx.random_u64() % 2;
    Ok(a? + extra + pick as u32)
}

/// Waits for signals and updates until checkout.
async fn cart(ctx: WorkflowContext, _: ()) -> Result<u32, WorkflowError> {
    let quantity = Rc::new(RefCell::new(1u32));
    ctx.on_update("set_quantity", |_| Ok(()));
    loop {
        let change = std::pin::pin!(ctx.update::<u32>("set_quantity"));
        let checkout = std::pin::pin!(ctx.signal::<()>("checkout"));
        match futures::future::select(change, checkout).await {
            futures::future::Either::Left((u, _)) => {
                let u = u?;
                *quantity.borrow_mut() = u.payload;
                let _: u32 = ctx.activity("echo", &u.payload).await?;
                ctx.respond(&u, &format!("quantity {}", u.payload));
            }
            futures::future::Either::Right((done, _)) => {
                done?;
                return Ok(*quantity.borrow());
            }
        }
    }
}

/// Works until cancelled, then cleans up.
async fn cancellable(ctx: WorkflowContext, _: ()) -> Result<String, WorkflowError> {
    let _: u32 = ctx.activity("echo", &1).await?;
    let work = std::pin::pin!(ctx.sleep(7 * DAY));
    let stop = std::pin::pin!(ctx.cancelled());
    match futures::future::select(work, stop).await {
        futures::future::Either::Left(_) => Ok("done".into()),
        futures::future::Either::Right(_) => {
            let _: u32 = ctx.detached(|| ctx.activity("echo", &2)).await?;
            Err(WorkflowError::new("Cancelled", "stopped on request"))
        }
    }
}

fn env() -> TestEnv {
    let mut env = TestEnv::new();
    env.register_workflow("monthly", monthly);
    env.register_workflow("fan", fan);
    env.register_workflow("cart", cart);
    env.register_workflow("cancellable", cancellable);
    env.register_activity("echo", |n: u32| async move { Ok(n) });
    env.register_activity("fail", |_: u32| async move { Err::<u32, _>(ActivityError::non_retryable("Nope", "never")) });
    env
}

/// Every workflow task of `history` run from the whole history and from the
/// kept state; gives how many ran from the kept state.
fn both_ways(code: &WorkflowFn, history: &[Event]) -> usize {
    let mut kept: Option<Replayed> = None;
    let mut from_kept = 0;
    for (p, e) in history.iter().enumerate() {
        let Event::WorkflowTaskStarted { time_ms } = e else { continue };
        let whole = workflow_task_local(code, &history[..p], *time_ms, &Default::default()).expect("a whole replay");
        let (outcome, next) = match kept.take() {
            Some(r) => {
                from_kept += 1;
                let seen = r.seen();
                r.advance(&history[seen..p], *time_ms).expect("the kept state runs on")
            }
            None => workflow_task_kept(code, &history[..p], *time_ms).expect("a kept replay"),
        };
        assert_eq!(outcome, whole, "the task at event {} differs", p + 1);
        assert!(matches!(outcome, TaskOutcome::Commands(_)));
        kept = next;
    }
    from_kept
}

/// A workflow's name, its code, its input, and what drives it to its end.
type Case = (&'static str, fn() -> WorkflowFn, serde_json::Value, fn(&mut TestEnv, &str));

#[test]
fn a_kept_state_gives_the_commands_a_whole_replay_gives() {
    let cases: [Case; 4] = [
        ("monthly", || workflow_fn(monthly), json!(3), |env, id| env.run(id).expect("runs")),
        ("fan", || workflow_fn(fan), json!(5), |env, id| env.run(id).expect("runs")),
        (
            "cart",
            || workflow_fn(cart),
            json!(null),
            |env, id| {
                env.run(id).expect("runs");
                env.update(id, "set_quantity", &3).expect("an update");
                env.update(id, "set_quantity", &4).expect("an update");
                env.signal(id, "checkout", &()).expect("a signal");
                env.run(id).expect("runs");
            },
        ),
        (
            "cancellable",
            || workflow_fn(cancellable),
            json!(null),
            |env, id| {
                let day = env.now_ms() + 86_400_000;
                env.run_until(id, day).expect("runs");
                env.cancel(id).expect("a cancel");
                env.run(id).expect("runs");
            },
        ),
    ];
    for (name, code, input, drive) in cases {
        let mut env = env();
        env.start(name, name, &input).expect("a start");
        drive(&mut env, name);
        assert!(env.result(name).is_some(), "{name} ran to its end");
        let history = env.history(name).expect("a history").to_vec();
        let tasks = history.iter().filter(|e| matches!(e, Event::WorkflowTaskStarted { .. })).count();
        let from_kept = both_ways(&code(), &history);
        assert!(tasks >= 2, "{name}: {tasks} tasks");
        assert_eq!(from_kept, tasks - 1, "{name}: every task after the first ran from the kept state");
    }
}

#[test]
fn a_history_that_does_not_follow_the_kept_state_is_refused() {
    let mut env = env();
    env.start("m", "monthly", &json!(2)).expect("a start");
    env.run("m").expect("runs");
    let history = env.history("m").expect("a history").to_vec();
    let code = workflow_fn(monthly);
    let starts: Vec<usize> = history
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Event::WorkflowTaskStarted { .. }))
        .map(|(p, _)| p)
        .collect();
    let (_, kept) = workflow_task_kept(&code, &history[..starts[0]], 0).expect("a first task");
    let kept = kept.expect("a running run is kept");
    // The events of two tasks on, as if a task ran elsewhere: its commands are not the kept ones.
    let skipped = &history[starts[1]..starts[2]];
    assert!(kept.advance(skipped, 0).is_err(), "a gap is an error, for the caller to replay the whole history");
}
