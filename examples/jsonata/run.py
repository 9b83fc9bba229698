"""Runs the JSONata example: creates the machine and prices two invoices.
Exits 0 when both totals are right.

    STEPWISE_ENDPOINT=http://127.0.0.1:8083 python3 examples/jsonata/run.py
"""
import json
import os
import pathlib
import sys
import time

import boto3

ENDPOINT = os.environ.get("STEPWISE_ENDPOINT", "http://127.0.0.1:8083")
HERE = pathlib.Path(__file__).parent


def run(sfn, machine, name, invoice):
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(invoice))["executionArn"]
    for _ in range(300):
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.1)
    raise SystemExit(f"{name} did not finish")


def main():
    sfn = boto3.client("stepfunctions", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    machine = sfn.create_state_machine(name="invoice", roleArn="arn:aws:iam::123456789012:role/stepwise",
                                       definition=(HERE / "invoice.asl.json").read_text())["stateMachineArn"]
    small = run(sfn, machine, "small", {"customer": "gold", "items": [{"sku": "a", "qty": 2, "price": 10}]})
    big = run(sfn, machine, "big", {"customer": "new", "items": [{"sku": "b", "qty": 3, "price": 50}]})
    for d in (small, big):
        print(d["name"], d["status"], d.get("output"))
    ok = json.loads(small["output"])["total"] == 18 and json.loads(big["output"])["approval"] == "required"
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
