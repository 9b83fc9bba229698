//! Cancellation as Temporal has it, in the test environment: a request
//! cancels whatever the run awaits with no opt-in; a run that lets it
//! through ends cancelled (ABORTED on a server); cleanup runs detached.

use std::time::Duration;

use stepwise_sdk::workflow::{CANCELLED, Event, TestEnv, WorkflowContext, WorkflowError, replay};

/// Sleeps a month, with no cancellation handling at all.
async fn sleeper(ctx: WorkflowContext, (): ()) -> Result<String, WorkflowError> {
    ctx.sleep(Duration::from_secs(30 * 86_400)).await;
    Ok("woke".into())
}

/// Waits on a child; when cancelled, cleans up detached (a timer and an
/// activity that run to their end), then lets the cancellation through.
async fn parent(ctx: WorkflowContext, (): ()) -> Result<String, WorkflowError> {
    match ctx.child_workflow::<_, String>("sleeper", "kid", &()).await {
        Err(e) if e.error == CANCELLED => {
            let c = ctx.clone();
            let cleaned: String = ctx
                .detached(|| async move {
                    c.sleep(Duration::from_secs(60)).await;
                    c.activity("undo", &"kid").await
                })
                .await?;
            Err(WorkflowError::new(CANCELLED, cleaned))
        }
        other => other,
    }
}

fn env() -> TestEnv {
    let mut env = TestEnv::new();
    env.register_workflow("sleeper", sleeper);
    env.register_workflow("parent", parent);
    env.register_activity("undo", |what: String| async move { Ok(format!("undid {what}")) });
    env
}

#[test]
fn a_plain_sleep_is_cancelled_and_the_run_ends_cancelled() {
    let mut env = env();
    env.start("s", "sleeper", &()).unwrap();
    env.run_until("s", env.now_ms() + 3_600_000).unwrap();
    assert_eq!(env.result("s"), None, "still sleeping");
    env.cancel("s").unwrap();
    env.run("s").unwrap();
    let err = env.result("s").expect("closed").unwrap_err();
    assert_eq!(err.error, CANCELLED);
    let h = env.history("s").unwrap();
    assert!(h.iter().any(|e| matches!(e, Event::TimerCancelled { .. })), "the timer is cancelled, not waited out");
    assert!(matches!(h.last(), Some(Event::WorkflowCancelled { .. })), "closed as cancelled: {:?}", h.last());
    replay(sleeper, h).unwrap();
}

#[test]
fn an_awaited_child_gives_the_cancellation_and_cleanup_runs_detached() {
    let mut env = env();
    env.start("p", "parent", &()).unwrap();
    env.run_until("p", env.now_ms() + 3_600_000).unwrap();
    assert_eq!(env.result("p"), None, "waiting on its child");
    env.cancel("p").unwrap();
    env.run("p").unwrap();
    let err = env.result("p").expect("closed").unwrap_err();
    assert_eq!((err.error.as_str(), err.cause.as_str()), (CANCELLED, "undid kid"));
    assert_eq!(env.calls("undo"), 1, "the cleanup activity ran, though the run was cancelled");
    let h = env.history("p").unwrap();
    assert!(h.iter().any(|e| matches!(e, Event::TimerFired { .. })), "the detached timer ran to its end");
    assert!(matches!(h.last(), Some(Event::WorkflowCancelled { .. })));
    replay(parent, h).unwrap();
}
