"""Map Runs, their child executions and redrive of only what failed, with an unmodified boto3 client.

A distributed Map over an activity whose worker fails two items once:
ListMapRuns, DescribeMapRun's counts, UpdateMapRun on the running Map Run,
then RedriveExecution runs exactly those two items again. An inline Map's
redrive runs only its failed iteration. An EXPRESS Map Run's children are
listed and described.

Usage: python3 map_runs_boto3.py http://127.0.0.1:PORT
"""
import json
import os
import sys
import time

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
sfn = boto3.client(
    "stepfunctions",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=os.environ.get("STEPWISE_TEST_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("STEPWISE_TEST_SECRET_ACCESS_KEY", "test"),
    config=Config(retries={"max_attempts": 1}),
)
ROLE = "arn:aws:iam::123456789012:role/smoke"


def eventually(what, check, limit_s=30):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"{what} did not happen within {limit_s} s")


def finished(arn):
    return eventually(f"{arn} to finish", lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=arn)))


def work(act, fail):
    """Takes one task and answers it: a failure if `fail(item)`. Gives the item."""
    task = sfn.get_activity_task(activityArn=act, workerName="py")
    item = json.loads(task["input"])
    if fail(item):
        sfn.send_task_failure(taskToken=task["taskToken"], error="Flaky", cause="once")
    else:
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"done": item}))
    return item


def machine(name, state):
    definition = {"StartAt": "S", "States": {"S": state}}
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


act = sfn.create_activity(name="py-items")["activityArn"]
task = {"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": act, "End": True}}}

# A distributed Map: counts, UpdateMapRun, redrive of the two failed items.
dist = dict(task, ProcessorConfig={"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"})
sm = machine("py-fan", {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ToleratedFailureCount": 1,
                        "ItemProcessor": dist, "End": True})
ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"items": list(range(6))}))["executionArn"]
runs = eventually("the Map Run", lambda: sfn.list_map_runs(executionArn=ex)["mapRuns"])
run = runs[0]["mapRunArn"]
assert run.startswith("arn:aws:states:us-east-1:123456789012:mapRun:py-fan/S:"), run
d = sfn.describe_map_run(mapRunArn=run)
assert (d["status"], d["maxConcurrency"], d["toleratedFailureCount"]) == ("RUNNING", 1, 1), d
assert d["executionCounts"]["running"] == 1 and d["executionCounts"]["total"] == 6, d
sfn.update_map_run(mapRunArn=run, maxConcurrency=2)
d = sfn.describe_map_run(mapRunArn=run)
assert d["maxConcurrency"] == 2 and d["executionCounts"]["running"] == 2, d
for _ in range(6):
    work(act, lambda item: item in (4, 5))
d = finished(ex)
assert d["status"] == "FAILED" and d["error"] == "States.ExceedToleratedFailureThreshold", d
assert d["redriveStatus"] == "REDRIVABLE", d
counts = sfn.describe_map_run(mapRunArn=run)["itemCounts"]
assert (counts["succeeded"], counts["failed"], counts["total"]) == (4, 2, 6), counts

sfn.redrive_execution(executionArn=ex)
again = sorted(work(act, lambda item: False) for _ in range(2))
assert again == [4, 5], again
d = finished(ex)
assert d["status"] == "SUCCEEDED", d
assert json.loads(d["output"]) == [{"done": i} for i in range(6)], d["output"]
assert d["redriveCount"] == 1, d
m = sfn.describe_map_run(mapRunArn=run)
assert (m["status"], m["redriveCount"]) == ("SUCCEEDED", 1), m
assert m["executionCounts"]["succeeded"] == 6, m
events = sfn.get_execution_history(executionArn=ex, maxResults=1000)["events"]
redriven = [e for e in events if e["type"] == "MapRunRedriven"]
assert redriven[0]["mapRunRedrivenEventDetails"] == {"mapRunArn": run, "redriveCount": 1}, redriven
listed = sfn.list_executions(stateMachineArn=sm, redriveFilter="REDRIVEN")["executions"]
assert [e["executionArn"] for e in listed] == [ex], listed
# Each item ran as a child execution: listed under the Map Run; the two failed
# ones were redriven in place, with histories of their own.
children = sfn.list_executions(mapRunArn=run)["executions"]
assert len(children) == 6 and all(c["status"] == "SUCCEEDED" for c in children), children
assert all(c["mapRunArn"] == run and c["itemCount"] == 1 for c in children), children
again = sfn.list_executions(mapRunArn=run, redriveFilter="REDRIVEN")["executions"]
assert len(again) == 2, again
for c in again:
    child = sfn.describe_execution(executionArn=c["executionArn"])
    assert (child["redriveCount"], child["mapRunArn"], json.loads(child["input"])) in ((1, run, 4), (1, run, 5)), child
    types = [e["type"] for e in sfn.get_execution_history(executionArn=c["executionArn"])["events"]]
    assert types.count("ExecutionFailed") == 1 and types.count("ExecutionRedriven") == 1, types
    assert types[-1] == "ExecutionSucceeded", types

# An inline Map: only the failed iteration runs again.
sm = machine("py-inline", {"Type": "Map", "ItemProcessor": task, "End": True})
ex = sfn.start_execution(stateMachineArn=sm, input="[0, 1, 2]")["executionArn"]
done = [work(act, lambda item: item == 2) for _ in range(3)]
assert finished(ex)["status"] == "FAILED"
sfn.redrive_execution(executionArn=ex)
assert work(act, lambda item: False) == 2
d = finished(ex)
assert json.loads(d["output"]) == [{"done": i} for i in range(3)], d
# An EXPRESS Map Run: its children run inside the parent, yet each is listed
# and described (AWS's rule for Map Run children), with no history.
express = {"StartAt": "C", "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "States": {
    "C": {"Type": "Choice", "Default": "P", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Boom"}]},
    "Boom": {"Type": "Fail", "Error": "Boom", "Cause": "item 0"}, "P": {"Type": "Pass", "End": True}}}
sm = machine("py-express", {"Type": "Map", "ToleratedFailureCount": 1, "ItemProcessor": express, "End": True})
ex = sfn.start_execution(stateMachineArn=sm, input="[0, 1]")["executionArn"]
assert finished(ex)["status"] == "SUCCEEDED"
run = sfn.list_map_runs(executionArn=ex)["mapRuns"][0]["mapRunArn"]
children = sfn.list_executions(mapRunArn=run)["executions"]
described = [sfn.describe_execution(executionArn=c["executionArn"]) for c in children]
assert sorted((d["status"], d.get("error"), d.get("cause")) for d in described) == [
    ("FAILED", "Boom", "item 0"), ("SUCCEEDED", None, None)], described
assert all(d["mapRunArn"] == run and d["inputDetails"] == {"included": False} for d in described), described
try:
    sfn.get_execution_history(executionArn=children[0]["executionArn"])
    raise AssertionError("an EXPRESS child has no history")
except sfn.exceptions.ExecutionDoesNotExist:
    pass
print("map runs: ok")
