//! Durability and determinism: a run resumed from its saved history by a
//! fresh environment (a restarted worker and server) finishes with every
//! activity run once; a changed workflow replayed against an old history
//! is a typed non-determinism error; patches and recorded side effects
//! keep old histories replayable.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{Value, json};
use stepwise_sdk::Error;
use stepwise_sdk::workflow::{
    ActivityError, ActivityOptions, Event, RetryPolicy, TestEnv, WorkflowContext, WorkflowError, replay,
};

const DAY: Duration = Duration::from_secs(86_400);

async fn monthly(ctx: WorkflowContext, months: u32) -> Result<u32, WorkflowError> {
    for m in 1..=months {
        ctx.sleep(30 * DAY).await;
        let _: () = ctx.activity("email", &m).await?;
    }
    Ok(months)
}

fn env_with_email() -> TestEnv {
    let mut env = TestEnv::new();
    env.register_workflow("monthly", monthly);
    env.register_activity("email", |_: u32| async move { Ok(()) });
    env
}

fn saved(env: &TestEnv, id: &str) -> Vec<Event> {
    let text = serde_json::to_string(env.history(id).expect("a run")).expect("a history writes");
    serde_json::from_str(&text).expect("a history reads back")
}

#[test]
fn a_run_resumed_from_its_saved_history_runs_each_activity_once() {
    let mut before = env_with_email();
    before.start("m", "monthly", &3).unwrap();
    let mid = before.now_ms() + 45 * 86_400_000;
    before.run_until("m", mid).unwrap();
    assert_eq!(before.calls("email"), 1);
    let history = saved(&before, "m");
    drop(before); // the worker and the server are gone

    let mut after = env_with_email();
    after.resume("m", history).unwrap();
    after.run("m").unwrap();
    assert_eq!(after.result("m"), Some(Ok(json!(3))));
    assert_eq!(after.calls("email"), 2, "the first email is not sent again");
    let completed = after.history("m").unwrap().iter().filter(|e| matches!(e, Event::ActivityCompleted { .. })).count();
    assert_eq!(completed, 3);
    replay(monthly, after.history("m").unwrap()).expect("the finished history replays");
}

async fn v1(ctx: WorkflowContext, _: Value) -> Result<(), WorkflowError> {
    let _: () = ctx.activity("a", &1).await?;
    let _: () = ctx.activity("b", &2).await?;
    Ok(())
}

async fn v2_renamed(ctx: WorkflowContext, _: Value) -> Result<(), WorkflowError> {
    let _: () = ctx.activity("a", &1).await?;
    let _: () = ctx.activity("c", &2).await?;
    Ok(())
}

async fn v3_shorter(ctx: WorkflowContext, _: Value) -> Result<(), WorkflowError> {
    let _: () = ctx.activity("a", &1).await?;
    Ok(())
}

async fn v4_patched(ctx: WorkflowContext, _: Value) -> Result<(), WorkflowError> {
    if ctx.patched("fraud-check") {
        let _: () = ctx.activity("fraud", &0).await?;
    }
    let _: () = ctx.activity("a", &1).await?;
    let _: () = ctx.activity("b", &2).await?;
    Ok(())
}

fn old_history() -> Vec<Event> {
    let mut env = TestEnv::new();
    env.register_workflow("w", v1);
    for name in ["a", "b"] {
        env.register_activity(name, |_: u32| async move { Ok(()) });
    }
    env.start("x", "w", &json!({})).expect("start");
    env.run("x").expect("run");
    env.history("x").expect("a run").to_vec()
}

#[test]
fn a_changed_workflow_is_caught_when_replayed_against_an_old_history() {
    let history = old_history();
    replay(v1, &history).expect("the same code replays");
    let Err(Error::NonDeterminism { event_id, event, command }) = replay(v2_renamed, &history) else {
        panic!("a renamed activity is a divergence");
    };
    assert_eq!(history[event_id as usize - 1].describe(), event);
    assert_eq!((event.as_str(), command.as_str()), ("ActivityScheduled #2 \"b\"", "ActivityScheduled #2 \"c\""));
    let Err(Error::NonDeterminism { event, command, .. }) = replay(v3_shorter, &history) else {
        panic!("a removed activity is a divergence");
    };
    assert_eq!((event.as_str(), command.as_str()), ("ActivityScheduled #2 \"b\"", "WorkflowCompleted"));
    // A patch keeps the old history replayable, and new runs take the new path.
    replay(v4_patched, &history).expect("patched() is false for histories from before the patch");
    let mut env = TestEnv::new();
    env.register_workflow("w", v4_patched);
    for name in ["a", "b", "fraud"] {
        env.register_activity(name, |_: u32| async move { Ok(()) });
    }
    env.start("y", "w", &json!({})).unwrap();
    env.run("y").unwrap();
    assert_eq!(env.calls("fraud"), 1);
    replay(v4_patched, env.history("y").unwrap()).expect("a patched run replays");
}

#[test]
fn time_randomness_and_side_effects_are_the_same_on_every_replay() {
    let runs = Rc::new(Cell::new(0u32));
    let r = runs.clone();
    let code = move |ctx: WorkflowContext, _: Value| {
        let r = r.clone();
        async move {
            let id = ctx.uuid();
            let n = ctx.random_u64();
            let token: u32 = ctx.side_effect(|| {
                r.set(r.get() + 1);
                41 + r.get()
            })?;
            let t0 = ctx.now_ms();
            ctx.sleep(DAY).await;
            Ok(json!({"id": id, "n": n, "token": token, "waited": ctx.now_ms() - t0}))
        }
    };
    let mut env = TestEnv::new();
    env.register_workflow("d", code.clone());
    env.start("d", "d", &json!({})).unwrap();
    env.run("d").unwrap();
    let out = env.result("d").unwrap().unwrap();
    assert_eq!(out["token"], 42);
    assert_eq!(out["waited"], 86_400_000);
    assert_eq!(runs.get(), 1, "the side effect ran once over two workflow tasks");
    replay(code, env.history("d").unwrap()).expect("replays to the same commands");
    assert_eq!(runs.get(), 1, "nor on replay");
}

async fn charge(ctx: WorkflowContext, options: ActivityOptions) -> Result<(), WorkflowError> {
    let _: () = ctx.activity_with("charge", &0, options).await?;
    Ok(())
}

#[test]
fn retry_policies_bound_attempts_and_respect_non_retryable_errors() {
    let policy = |max, non_retryable: &[&str]| ActivityOptions {
        retry: RetryPolicy {
            max_attempts: max,
            non_retryable: non_retryable.iter().map(|s| s.to_string()).collect(),
            ..RetryPolicy::default()
        },
        ..Default::default()
    };
    for (id, options, attempts) in [("three", policy(3, &[]), 3), ("fatal", policy(5, &["Declined"]), 1)] {
        let mut env = TestEnv::new();
        env.register_workflow("c", charge);
        env.register_activity("charge", |_: u32| async move { Err::<(), _>(ActivityError::new("Declined", "no")) });
        let start = env.now_ms();
        env.start(id, "c", &options).unwrap();
        env.run(id).unwrap();
        let err = env.result(id).unwrap().unwrap_err();
        assert_eq!(err.error, "Declined");
        assert_eq!(env.calls("charge"), attempts, "{id}");
        let failed = env.history(id).unwrap().iter().find_map(|e| match e {
            Event::ActivityFailed { attempts, .. } => Some(*attempts),
            _ => None,
        });
        assert_eq!(failed, Some(attempts));
        // Backoff of 1 s then 2 s passes in virtual time.
        let waited = if attempts == 3 { 3_000 } else { 0 };
        assert_eq!(env.now_ms() - start, waited, "{id}");
    }
}

/// The code learns of an unbounded activity where it runs (and in TestEnv), not only from the host.
#[test]
fn an_activity_without_a_timeout_is_refused_where_the_code_runs() {
    async fn unbounded(ctx: WorkflowContext, _: serde_json::Value) -> Result<(), WorkflowError> {
        let options = ActivityOptions { start_to_close_ms: None, ..ActivityOptions::default() };
        let _: () = ctx.activity_with("charge", &0, options).await?;
        Ok(())
    }
    let mut env = TestEnv::new();
    env.register_workflow("unbounded", unbounded);
    env.register_activity("charge", |_: u32| async move { Ok(()) });
    let e = env.start("x", "unbounded", &json!({})).and_then(|()| env.run("x")).expect_err("refused");
    assert!(matches!(&e, stepwise_sdk::Error::InvalidCommand(why) if why.contains("\"charge\"")), "{e}");
}
