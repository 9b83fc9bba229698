//! Local activities and cancellation scopes, in the test environment: a
//! local activity runs once and replays from its marker; a cancelled scope
//! cancels the timers and activities inside it, and its children; a
//! cancellation request cancels the root scope.

use std::time::Duration;

use futures::future::{Either, select};
use serde_json::json;
use stepwise_sdk::workflow::{
    ActivityError, ActivityOptions, CANCELLED, CancellationScope, Event, LOCAL_ACTIVITY_MARKER, RetryPolicy, TestEnv,
    WorkflowContext, WorkflowError, replay,
};

async fn quote(ctx: WorkflowContext, item: String) -> Result<u64, WorkflowError> {
    let price: u64 = ctx.local_activity("price", &item, ActivityOptions::default()).await?;
    let taxed: u64 = ctx.local_activity("tax", &price, ActivityOptions::default()).await?;
    ctx.sleep(Duration::from_secs(60)).await;
    Ok(taxed)
}

#[test]
fn local_activities_run_once_in_the_task_and_replay_from_their_markers() {
    let mut env = TestEnv::new();
    env.register_workflow("quote", quote);
    env.register_activity("price", |item: String| async move { Ok(item.len() as u64 * 10) });
    env.register_activity("tax", |p: u64| async move { Ok(p + p / 5) });
    env.start("q", "quote", &"book").unwrap();
    env.run("q").unwrap();
    assert_eq!(env.result("q"), Some(Ok(json!(48))));
    assert_eq!((env.calls("price"), env.calls("tax")), (1, 1), "the replays after the timer did not run them again");
    let h = env.history("q").unwrap().to_vec();
    let markers: Vec<&str> = h
        .iter()
        .filter_map(|e| match e {
            Event::MarkerRecorded { name, .. } => name.strip_prefix(LOCAL_ACTIVITY_MARKER),
            _ => None,
        })
        .collect();
    assert_eq!(markers, ["price", "tax"]);
    assert!(!h.iter().any(|e| matches!(e, Event::ActivityScheduled { .. })), "no task queue round trip");
    replay(quote, &h).unwrap();
}

#[test]
fn a_failing_local_activity_is_retried_then_fails_the_workflow_by_name() {
    let mut env = TestEnv::new();
    env.register_workflow("quote", quote);
    env.register_activity(
        "price",
        |_: String| async move { Err::<u64, _>(ActivityError::new("NoPrice", "unknown item")) },
    );
    env.register_activity("tax", |p: u64| async move { Ok(p) });
    env.start("q", "quote", &"?").unwrap();
    env.run("q").unwrap();
    assert_eq!(env.result("q").unwrap().unwrap_err().error, "NoPrice");
    assert_eq!(env.calls("price"), 10, "at most 10 attempts of a local activity");
}

/// Races an upload against a deadline; cancels the upload's scope when the deadline wins.
async fn upload(ctx: WorkflowContext, deadline_s: u64) -> Result<String, WorkflowError> {
    let scope = ctx.root_scope().child();
    let inner = scope.child();
    let work = {
        let ctx = ctx.clone();
        let inner = inner.clone();
        async move {
            let no_retry = ActivityOptions {
                retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
                ..Default::default()
            };
            let started: String = ctx.activity_with("start_upload", &(), no_retry).await?;
            // Waits on a timer inside a nested scope.
            inner.run(ctx.sleep(Duration::from_secs(3600))).await?;
            Ok::<_, WorkflowError>(started)
        }
    };
    let deadline = ctx.sleep(Duration::from_secs(deadline_s));
    match select(Box::pin(scope.run(work)), deadline).await {
        Either::Left((done, _)) => done?,
        Either::Right(((), pending)) => {
            scope.cancel();
            assert!(inner.is_cancelled(), "a child scope is cancelled with its parent");
            let e = pending.await.and_then(|r| r).expect_err("the upload was cancelled");
            Err(WorkflowError::new("DeadlinePassed", e.error))
        }
    }
}

#[test]
fn a_cancelled_scope_cancels_the_timers_inside_it_and_its_children() {
    let mut env = TestEnv::new();
    env.register_workflow("upload", upload);
    env.register_activity("start_upload", |(): ()| async move { Ok("u1".to_string()) });
    env.start("u", "upload", &60u64).unwrap();
    env.run("u").unwrap();
    let err = env.result("u").unwrap().unwrap_err();
    assert_eq!((err.error.as_str(), err.cause.as_str()), ("DeadlinePassed", CANCELLED));
    let h = env.history("u").unwrap();
    assert_eq!(h.iter().filter(|e| matches!(e, Event::TimerCancelled { .. })).count(), 1, "the inner timer");
    replay(upload, h).unwrap();
}

/// Sleeps inside the root scope: a cancellation request stops the wait.
async fn watched(ctx: WorkflowContext, (): ()) -> Result<String, WorkflowError> {
    match ctx.root_scope().run(ctx.sleep(Duration::from_secs(86_400))).await {
        Ok(()) => Ok("woke".into()),
        Err(e) => Err(WorkflowError::new("Stopped", e.error)),
    }
}

#[test]
fn a_cancellation_request_cancels_the_root_scope_and_what_runs_in_it() {
    let mut env = TestEnv::new();
    env.register_workflow("watched", watched);
    env.start("w", "watched", &()).unwrap();
    env.run_until("w", env.now_ms() + 3_600_000).unwrap();
    assert_eq!(env.result("w"), None, "still sleeping");
    env.cancel("w").unwrap();
    env.run("w").unwrap();
    let err = env.result("w").unwrap().unwrap_err();
    assert_eq!((err.error.as_str(), err.cause.as_str()), ("Stopped", CANCELLED));
    let h = env.history("w").unwrap();
    assert!(h.iter().any(|e| matches!(e, Event::TimerCancelled { .. })));
    assert!(!h.iter().any(|e| matches!(e, Event::TimerFired { .. })));
    assert!(!CancellationScope::new().is_cancelled(), "a scope of its own is not the workflow's");
}
