"""Runs the order example end to end: creates the activities and the machine,
starts the worker, places two orders (one fine, one declined), and prints
how each ended. Exits 0 when both end as they should.

    STEPWISE_ENDPOINT=http://127.0.0.1:8083 python3 examples/order/run.py
"""
import json
import pathlib
import sys
import threading
import time

import worker

HERE = pathlib.Path(__file__).parent
ROLE = "arn:aws:iam::123456789012:role/stepwise"


def main():
    sfn = worker.client()
    for name in ["reserve", "charge", "release"]:
        sfn.create_activity(name=name)
    machine = sfn.create_state_machine(name="order", roleArn=ROLE,
                                       definition=(HERE / "order.asl.json").read_text())["stateMachineArn"]
    stop = threading.Event()
    worker.start(stop)
    runs = {}
    for name, units in [("small", 3), ("huge", 500)]:
        runs[name] = sfn.start_execution(stateMachineArn=machine, name=name,
                                         input=json.dumps({"id": name, "units": units}))["executionArn"]
    results = {}
    deadline = time.time() + 60
    while len(results) < len(runs) and time.time() < deadline:
        for name, arn in runs.items():
            d = sfn.describe_execution(executionArn=arn)
            if d["status"] != "RUNNING":
                results[name] = d
        time.sleep(0.2)
    stop.set()
    for name, d in results.items():
        print(name, d["status"], d.get("output") or d.get("error"))
    ok = (results.get("small", {}).get("status") == "SUCCEEDED"
          and results.get("huge", {}).get("error") == "OrderRejected")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
