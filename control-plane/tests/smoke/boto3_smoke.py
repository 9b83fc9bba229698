"""An unmodified boto3 client against `stepwise server`: only the endpoint changes.

Usage: python3 boto3_smoke.py http://127.0.0.1:PORT
"""
import json
import os
import sys
import time

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
# inject_host_prefix=False keeps StartSyncExecution on our host (no "sync-" prefix).
sfn = boto3.client(
    "stepfunctions",
    endpoint_url=endpoint,
    region_name="us-east-1",
    # The server's keys when it checks signatures (`--auth sigv4`).
    aws_access_key_id=os.environ.get("STEPWISE_TEST_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("STEPWISE_TEST_SECRET_ACCESS_KEY", "test"),
    config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
)
ROLE = "arn:aws:iam::123456789012:role/smoke"


def wait_done(arn, limit_s=30):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.02)
    raise AssertionError(f"{arn} did not finish")


act = sfn.create_activity(name="py-worker")["activityArn"]
definition = {
    "StartAt": "Ask",
    "States": {
        "Ask": {"Type": "Task", "Resource": act, "Next": "Say"},
        "Say": {"Type": "Pass", "Parameters": {"said.$": "States.Format('{} from Python', $.word)"}, "End": True},
    },
}
sm = sfn.create_state_machine(name="py-smoke", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
ex = sfn.start_execution(stateMachineArn=sm, name="first", input="{}")["executionArn"]
task = sfn.get_activity_task(activityArn=act, workerName="python")
assert task["taskToken"], task
sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"word": "hello"}))
d = wait_done(ex)
assert d["status"] == "SUCCEEDED", d
assert json.loads(d["output"]) == {"said": "hello from Python"}, d["output"]

events = []
for page in sfn.get_paginator("get_execution_history").paginate(executionArn=ex, PaginationConfig={"PageSize": 2}):
    events.extend(page["events"])
types = [e["type"] for e in events]
assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", types
assert "ActivitySucceeded" in types, types

try:
    sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    raise AssertionError("a second answer was accepted")
except sfn.exceptions.TaskTimedOut:
    pass
try:
    sfn.describe_state_machine(stateMachineArn=sm + "-missing")
    raise AssertionError("a missing machine was described")
except sfn.exceptions.StateMachineDoesNotExist:
    pass

fast = sfn.create_state_machine(
    name="py-express",
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    roleArn=ROLE,
    type="EXPRESS",
)["stateMachineArn"]
r = sfn.start_sync_execution(stateMachineArn=fast, input='{"x": 1}')
assert r["status"] == "SUCCEEDED" and json.loads(r["output"]) == {"x": 1}, r

names = [m["name"] for page in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 1}) for m in page["stateMachines"]]
assert names == ["py-express", "py-smoke"], names
print("boto3 smoke: ok")
