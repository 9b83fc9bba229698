//! End to end through the Lambda binaries: `localstack/stack up` runs
//! LocalStack (DynamoDB, SQS), the `api`, `scheduler` and `sweeper` binaries
//! under cargo-lambda's Runtime API and the local host's SQS event source
//! mappings; aws-sdk-sfn talks to the `api` function URL. After each
//! scenario the DynamoDB table itself is audited.

mod stack;

use stack::{STACK_KEY, Stack, TIME_SCALE, audit, callers, code, corpus, eventually, scenarios, schedules, telemetry};

/// One corpus case in this many runs through the Lambdas.
const CORPUS_SAMPLE_EVERY: usize = 8;
/// Corpus cases in flight at once.
const CORPUS_CONCURRENCY: usize = 8;

/// Every scenario, then the table's audit.
async fn scenarios(stack: &Stack) {
    let c = stack.sfn();
    scenarios::activity_flow(&c).await;
    scenarios::nested(&c).await;
    scenarios::callback(stack, &c).await;
    scenarios::order_saga(&c).await;
    scenarios::big_payload(&c).await;
    scenarios::sync_express(&c).await;
    scenarios::item_reader(stack, &c).await;
    scenarios::streamed_item_reader(stack, &c).await;
    code::code_workflows(stack).await;
    code::lambda_worker(stack).await;
    let (db, s3) = (stack.dynamodb(), stack.s3());
    let a = eventually("the table passes its audit", || audit::check(&db, &s3)).await;
    // flow 1, nested 2, callback 1, saga 3, big 1, express 1, code 5 (and any the test ran before)
    assert!(a.executions >= 14, "the table holds {} executions", a.executions);
    assert!(a.claimed > 0, "the big payload went to S3");
}

/// In real time, plus a sample of the conformance corpus: the same answers as
/// AWS (and `stepwise server`). The api checks every request's SigV4
/// signature here, and another Lambda (the example `caller`) runs workflows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_and_the_corpus_through_the_lambda_binaries() {
    let key = format!("{}:{}", STACK_KEY.0, STACK_KEY.1);
    // The Lambdas send their traces here before each invocation returns.
    let (otlp, received) = stepwise_tests::otlp::receiver();
    let mut env = vec![("STEPWISE_CREDENTIALS", key.as_str())];
    env.extend(stepwise_tests::otlp::env(&otlp));
    let stack = Stack::up("plain", &env);
    callers::refusals(&stack).await;
    callers::caller(&stack, &stack.sfn()).await;
    schedules::boto3(&stack);
    scenarios(&stack).await;
    telemetry::check(&stack);
    telemetry::traces(&received).await;
    let cases = corpus::cases(CORPUS_SAMPLE_EVERY);
    let (ran, failed) = corpus::run_all(&stack.sfn(), cases, CORPUS_CONCURRENCY).await;
    println!("corpus sample through the Lambda binaries: {} of {ran} cases match AWS", ran - failed.len());
    assert!(failed.is_empty(), "cases that differ from AWS: {failed:#?}");
    let (db, s3) = (stack.dynamodb(), stack.s3());
    eventually("the table passes its audit after the corpus", || audit::check(&db, &s3)).await;
}

/// Every SQS message delivered twice: no transition happens twice. Time runs
/// 900 times faster, so a two hours' Wait hops through SQS's 900 s delay limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_deliveries_are_harmless() {
    let stack = Stack::up("twice", &[("STEPWISE_DELIVER_TWICE", "1"), ("STEPWISE_TIME_SCALE", TIME_SCALE)]);
    let hops = scenarios::long_wait(&stack, &stack.sfn()).await;
    // Each hop covers 900 s and the time its delivery takes (1.6 s at most here for a third hop).
    assert!(hops >= 3, "a two hours' wait took {hops} hops of at most 900 s");
    schedules::fires(&stack, "hourly-twice");
    scenarios(&stack).await;
}

/// Every commit "crashes" between the DynamoDB commit and the SQS send: only
/// the sweeper's outbox flush moves executions on, and they all finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_recovers_crashes_after_commit() {
    let env = [
        ("STEPWISE_OUTBOX_GRACE_MS", "0"),
        ("STEPWISE_SWEEP_SECONDS", "1"),
        ("STEPWISE_TIME_SCALE", TIME_SCALE),
        ("STEPWISE_FAULT_INJECTION", "after-commit"),
    ];
    let stack = Stack::up("after-commit", &env);
    // Fewer hops: the sweeper sends the lost wake-ups, and once the timer is overdue, wakes it itself.
    let hops = scenarios::long_wait(&stack, &stack.sfn()).await;
    assert!(hops >= 1, "a two hours' wait took {hops} hops of at most 900 s");
    schedules::fires(&stack, "hourly-after-commit");
    scenarios(&stack).await;
}

/// Every commit "crashes" after sending but before forgetting its outbox: the
/// sweeper sends everything again, and nothing happens twice. And SQS "loses"
/// every delayed message: only the sweeper's timer index fires the timers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_resends_harmlessly_after_send_and_fires_lost_timers() {
    let env = [
        ("STEPWISE_OUTBOX_GRACE_MS", "0"),
        ("STEPWISE_SWEEP_SECONDS", "1"),
        ("STEPWISE_TIME_SCALE", TIME_SCALE),
        ("STEPWISE_FAULT_INJECTION", "after-send,lose-timers"),
    ];
    let stack = Stack::up("after-send", &env);
    let hops = scenarios::long_wait(&stack, &stack.sfn()).await;
    assert_eq!(hops, 0, "every hop's message was lost");
    assert!(stack.log("sweeper").contains("re-sent the wake-ups of overdue timers"), "the sweeper fired the timer");
    schedules::fires(&stack, "hourly-after-send");
    scenarios(&stack).await;
}
