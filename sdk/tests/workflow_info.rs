//! `ctx.info()`: what a run knows about itself, from its history, in the
//! test environment (the server's side is in control-plane's code workflow tests).

use serde_json::{Value, json};
use stepwise_sdk::workflow::history::RunInfo;
use stepwise_sdk::workflow::{TestEnv, WorkflowContext, WorkflowError};

/// Continues as new once, then answers with both runs' info and its child's.
async fn curious(ctx: WorkflowContext, round: u32) -> Result<Value, WorkflowError> {
    if round == 0 {
        return Err(ctx.continue_as_new(&1));
    }
    let child: RunInfo = ctx.child_workflow("introspect", "kid", &()).await?;
    Ok(json!({"me": ctx.info(), "child": child}))
}

async fn introspect(ctx: WorkflowContext, _: ()) -> Result<RunInfo, WorkflowError> {
    Ok(ctx.info())
}

#[test]
fn a_run_knows_its_execution_run_number_type_and_parent() {
    let mut env = TestEnv::new();
    env.register_workflow("curious", curious);
    env.register_workflow("introspect", introspect);
    env.start("c1", "curious", &0).expect("start");
    env.run("c1").expect("run");
    let out = env.result("c1").expect("closed").expect("succeeded");
    let me: RunInfo = serde_json::from_value(out["me"].clone()).expect("info");
    assert_eq!((me.execution_name.as_str(), me.workflow_type.as_str(), me.run), ("c1", "curious", 2));
    assert_eq!(me.run_id, RunInfo::run_id(&me.execution_arn, 2));
    assert_eq!(me.previous_run_id, Some(RunInfo::run_id(&me.execution_arn, 1)));
    assert_eq!((me.attempt, me.parent_execution_arn.as_deref()), (1, None));
    let child: RunInfo = serde_json::from_value(out["child"].clone()).expect("info");
    assert_eq!((child.execution_name.as_str(), child.run), ("kid", 1));
    assert_eq!(child.parent_execution_arn.as_deref(), Some(me.execution_arn.as_str()));
}
