"""A rate schedule's fires, each starting one execution named after its time.

Against a server whose clock may run faster (STEPWISE_TIME_SCALE): waits for
FIRES executions, then checks their names are consecutive fire times, with
none twice and none missing, whatever the queue's duplicate deliveries.
Usage: python3 scheduler_fires.py http://127.0.0.1:PORT NAME
"""
import datetime
import json
import os
import sys
import time

import boto3
from botocore.config import Config

endpoint, name = sys.argv[1], sys.argv[2]
FIRES = 3
kw = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=os.environ.get("STEPWISE_TEST_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("STEPWISE_TEST_SECRET_ACCESS_KEY", "test"),
    config=Config(retries={"max_attempts": 3}),
)
sfn = boto3.client("stepfunctions", **kw)
sch = boto3.client("scheduler", **kw)
ROLE = "arn:aws:iam::123456789012:role/scheduler"
machine = sfn.create_state_machine(
    name=name, roleArn=ROLE,
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
)["stateMachineArn"]
sch.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                    Target={"Arn": machine, "RoleArn": ROLE})
deadline = time.monotonic() + 120
executions = []
while time.monotonic() < deadline and len(executions) < FIRES:
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    time.sleep(0.2)
sch.delete_schedule(Name=name)
names = sorted(e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"])
assert len(names) >= FIRES, names
times = [datetime.datetime.strptime(n[len(name) + 1:], "%Y%m%dT%H%M%SZ") for n in names]
gaps = {(b - a).total_seconds() for a, b in zip(times, times[1:])}
assert gaps == {3600.0}, f"fires not an hour apart: {names}"
print(f"{len(names)} fires, an hour apart, one execution each")
