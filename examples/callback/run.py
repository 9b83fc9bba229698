"""Runs the callback example: the approval machine waits on a task token
(`.waitForTaskToken`); the token travels in the input of a request execution;
whoever approves reads it there and answers with SendTaskSuccess.
Exits 0 when the approval machine resumes with the answer.

    STEPWISE_ENDPOINT=http://127.0.0.1:8083 python3 examples/callback/run.py
"""
import json
import os
import pathlib
import sys
import time

import boto3

ENDPOINT = os.environ.get("STEPWISE_ENDPOINT", "http://127.0.0.1:8083")
HERE = pathlib.Path(__file__).parent
ROLE = "arn:aws:iam::123456789012:role/stepwise"


def wait(sfn, arn, until):
    for _ in range(300):
        d = sfn.describe_execution(executionArn=arn)
        if until(d):
            return d
        time.sleep(0.1)
    raise SystemExit(f"{arn} did not get there")


def main():
    sfn = boto3.client("stepfunctions", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    request = sfn.create_state_machine(name="request", roleArn=ROLE,
                                       definition=(HERE / "request.asl.json").read_text())["stateMachineArn"]
    approval = sfn.create_state_machine(name="approval-callback", roleArn=ROLE,
                                        definition=(HERE / "approval.asl.json").read_text())["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=approval, input=json.dumps({"order": 42}))["executionArn"]
    # The approver finds the pending request and its token.
    requests = []
    for _ in range(300):
        requests = sfn.list_executions(stateMachineArn=request)["executions"]
        if requests:
            break
        time.sleep(0.1)
    token = json.loads(sfn.describe_execution(executionArn=requests[0]["executionArn"])["input"])["taskToken"]
    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "by": "ada"}))
    d = wait(sfn, run, lambda d: d["status"] != "RUNNING")
    print(d["status"], d.get("output"))
    sys.exit(0 if d["status"] == "SUCCEEDED" and json.loads(d["output"])["approval"]["by"] == "ada" else 1)


if __name__ == "__main__":
    main()
