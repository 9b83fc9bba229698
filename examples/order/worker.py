"""A worker for the order example, with boto3: it polls the three activities
and answers them. The first reservation of each order fails once with a
transient error, which the machine's Retry takes; an order for more than 100
units is declined at the charge, which the machine's Catch turns into a release.

    python3 examples/order/worker.py            # runs until interrupted
"""
import json
import os
import threading

import boto3
from botocore.config import Config

ENDPOINT = os.environ.get("STEPWISE_ENDPOINT", "http://127.0.0.1:8083")
ACCOUNT = "arn:aws:states:us-east-1:123456789012:activity"


def client():
    return boto3.client("stepfunctions", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(read_timeout=70, retries={"max_attempts": 2}))


def reserve(order, tries):
    tries[order["id"]] = tries.get(order["id"], 0) + 1
    if tries[order["id"]] == 1:
        raise Failure("OutOfStock.Transient", "the warehouse was busy")
    return {"reserved": order["units"]}


def charge(order, _tries):
    if order["units"] > 100:
        raise Failure("Card.Declined", "over the card's limit")
    return {"charged": order["units"] * 5}


def release(order, _tries):
    return {"released": order["units"]}


class Failure(Exception):
    def __init__(self, error, cause):
        super().__init__(cause)
        self.error, self.cause = error, cause


def serve(name, handler, stop, sfn=None):
    """Polls one activity until `stop` is set, answering each task."""
    sfn = sfn or client()
    tries = {}
    while not stop.is_set():
        task = sfn.get_activity_task(activityArn=f"{ACCOUNT}:{name}", workerName=f"python-{name}")
        token = task.get("taskToken")
        if not token:
            continue
        order = json.loads(task["input"])
        try:
            result = handler(order, tries)
            sfn.send_task_success(taskToken=token, output=json.dumps(result))
        except Failure as f:
            sfn.send_task_failure(taskToken=token, error=f.error, cause=f.cause)


def start(stop):
    """One thread per activity; gives the threads."""
    threads = [threading.Thread(target=serve, args=(n, h, stop), daemon=True)
               for n, h in [("reserve", reserve), ("charge", charge), ("release", release)]]
    for t in threads:
        t.start()
    return threads


if __name__ == "__main__":
    stop = threading.Event()
    start(stop)
    print(f"serving reserve, charge and release on {ENDPOINT}; Ctrl-C stops")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stop.set()
