//! Code workflows in process: a 3-activity workflow from start to end in
//! the test environment (4 workflow tasks, each replaying the history so
//! far, as a worker without a cache does), and one workflow task replaying
//! a history of 100 activities.

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use stepwise_sdk::workflow::{TestEnv, WorkflowContext, WorkflowError, workflow_fn, workflow_task};

async fn three_steps(ctx: WorkflowContext, order: u32) -> Result<u32, WorkflowError> {
    let a: u32 = ctx.activity("reserve", &order).await?;
    let b: u32 = ctx.activity("charge", &a).await?;
    Ok(ctx.activity("ship", &b).await?)
}

async fn hundred(ctx: WorkflowContext, n: u32) -> Result<u32, WorkflowError> {
    let mut total = 0u32;
    for i in 0..n {
        total += ctx.activity::<_, u32>("step", &i).await?;
    }
    Ok(total)
}

fn env() -> TestEnv {
    let mut env = TestEnv::new();
    env.register_workflow("three", three_steps);
    env.register_workflow("hundred", hundred);
    for name in ["reserve", "charge", "ship", "step"] {
        env.register_activity(name, |x: u32| async move { Ok(x + 1) });
    }
    env
}

fn bench(c: &mut Criterion) {
    c.bench_function("workflow/3_activities_start_to_end", |b| {
        b.iter_batched(
            env,
            |mut env| {
                env.start("w", "three", &1).expect("start");
                env.run("w").expect("run");
                assert_eq!(env.result("w"), Some(Ok(json!(4))));
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let mut e = env();
    e.start("h", "hundred", &100).expect("start");
    e.run("h").expect("run");
    let history = e.history("h").expect("a history").to_vec();
    let code = workflow_fn(hundred);
    c.bench_function("workflow/replay_100_activities", |b| {
        b.iter(|| workflow_task(&code, &history, 0).expect("replays"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
