//! A Map Run's STANDARD children in-process, on the test's clock: the
//! orders of events a real server leaves to chance, made exact.

use serde_json::{Value, json};
use stepwise_control_plane::model::keys;
use stepwise_control_plane::sim::run_now;
use stepwise_control_plane::store::{Condition, Query, Store, Write};

use crate::harness::{Host, host};

/// A distributed Map of STANDARD children, each one activity task; any failure fails the Map Run.
fn fan(h: &Host) -> String {
    let child = json!({"Type": "Task", "Resource": h.activity(), "End": true});
    let def = json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "Label": "fan", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Work", "States": {"Work": child}}}}});
    h.machine("fan", def)
}

/// The Map Run's execution counts: (succeeded, failed, aborted).
fn counts(h: &Host, map_run: &str) -> (i64, i64, i64) {
    let run = h.ok("DescribeMapRun", json!({"mapRunArn": map_run}));
    let c = &run["executionCounts"];
    let n = |k: &str| c[k].as_i64().expect("a count");
    (n("succeeded"), n("failed"), n("aborted"))
}

/// A child that succeeded as its Map Run failed (its step read its inbox
/// before the parent's abort landed there, and committed its success after)
/// is not run again by the parent's redrive: its start task finds it
/// succeeded and answers at once.
#[test]
fn a_redrive_takes_the_output_of_a_child_that_succeeded_as_its_map_run_failed() {
    let h = host();
    let m = fan(&h);
    let parent = h.ok("StartExecution", json!({"stateMachineArn": m, "input": "[1, 2]"}))["executionArn"]
        .as_str()
        .expect("an ARN")
        .to_string();
    h.settle(0);
    let mut tasks: Vec<(String, Value)> = std::iter::from_fn(|| h.take_task()).collect();
    tasks.sort_by_key(|(_, input)| input.as_i64());
    assert_eq!(tasks.len(), 2, "both children wait on their tasks");
    let map_run = h.ok("ListMapRuns", json!({"executionArn": parent}))["mapRuns"][0]["mapRunArn"]
        .as_str()
        .expect("a Map Run")
        .to_string();
    let (failing, succeeding) = (child_of(&h, &map_run, 1), child_of(&h, &map_run, 2));

    h.ok("SendTaskFailure", json!({"taskToken": tasks[0].0, "error": "Boom"}));
    run_now(h.engine.advance(&parent, None, &[])).expect("the parent steps");
    assert_eq!(h.status(&parent), "FAILED", "one failure crosses the threshold");
    // The race: the abort lands in the child's inbox only after its step read it.
    let abort = take_inbox(&h, &succeeding);
    h.ok("SendTaskSuccess", json!({"taskToken": tasks[1].0, "output": "{\"two\":2}"}));
    run_now(h.store.inner.transact(abort, Vec::new())).expect("the abort lands");
    h.settle(0);
    assert_eq!(h.status(&succeeding), "SUCCEEDED");
    assert_eq!(counts(&h, &map_run), (0, 1, 1), "the parent counts the child aborted: it had stopped waiting");

    h.ok("RedriveExecution", json!({"executionArn": parent}));
    h.settle(0);
    let again: Vec<(String, Value)> = std::iter::from_fn(|| h.take_task()).collect();
    assert_eq!(again.len(), 1, "only the failed child runs again: {again:?}");
    assert_eq!(again[0].1, json!(1));
    h.ok("SendTaskSuccess", json!({"taskToken": again[0].0, "output": "{\"one\":1}"}));
    h.settle(0);
    let d = h.ok("DescribeExecution", json!({"executionArn": parent}));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["output"], json!(json!([{"one": 1}, {"two": 2}]).to_string()), "in item order");
    assert_eq!(counts(&h, &map_run), (2, 0, 0));
    let redrives = |arn: &str| h.ok("DescribeExecution", json!({"executionArn": arn}))["redriveCount"].clone();
    assert_eq!((redrives(&failing), redrives(&succeeding)), (json!(1), json!(0)));
    let history = h.ok("GetExecutionHistory", json!({"executionArn": succeeding}));
    let types: Vec<&str> =
        history["events"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.iter().filter(|t| **t == "ActivityScheduled").count(), 1, "run once: {types:?}");
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
}

/// The child of the Map Run that took `item`.
fn child_of(h: &Host, map_run: &str, item: i64) -> String {
    let children = h.ok("ListExecutions", json!({"mapRunArn": map_run}));
    let arns = children["executions"].as_array().expect("children").iter().map(|e| e["executionArn"].clone());
    let mut of_item =
        arns.filter(|arn| h.ok("DescribeExecution", json!({"executionArn": arn}))["input"] == json!(item.to_string()));
    of_item.next().and_then(|a| a.as_str().map(str::to_string)).expect("a child of that item")
}

/// Removes an execution's inbox entries; gives the writes that put them back.
fn take_inbox(h: &Host, arn: &str) -> Vec<Write> {
    let (pk, _) = keys::inbox(arn, 0, "");
    let q = Query { pk: pk.clone(), sk_prefix: "I#".into(), after: None, limit: 100, descending: false };
    let page = run_now(h.store.inner.query(q)).expect("a query");
    assert_eq!(page.items.len(), 1, "the parent's abort waits in the child's inbox");
    let deletes = page.items.iter().map(|i| Write::delete((i.pk.clone(), i.sk.clone()))).collect();
    run_now(h.store.inner.transact(deletes, Vec::new())).expect("taken");
    page.items.into_iter().map(|i| Write::put((i.pk, i.sk), i.body, Condition::None)).collect()
}
