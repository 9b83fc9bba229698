#!/usr/bin/env python3
"""Cost per million state transitions of serverless Stepwise, measured; and
the cost of a schedule's fire.

Runs each workload on a fresh `localstack/stack up` (the real api, scheduler
and sweeper Lambda binaries against LocalStack's DynamoDB, SQS and S3), then
adds up what the Lambdas logged they spent (control-plane/src/store/meter.rs:
DynamoDB units by AWS's size rules, SQS requests, S3 requests) and what the
local Lambda host logged (invocations with their milliseconds, and its event
source mappings' SQS requests). Prices are AWS's us-east-1 list prices.

The `schedule` workload runs a `rate(1 minute)` schedule on a stack whose
clock runs 60 times faster (a fire a second), starting a one-Pass-state
machine, and gives the cost per fire: the fire's handling and its
execution's start and close, everything the schedule makes the Lambdas do.

The `map` workload is one execution whose distributed Map runs `--children` items as
STANDARD child executions (a Pass state each): the fan-out across scheduler
invocations. It gives the children per second, the most messages one scheduler
invocation carried, and the cost per million children.

Usage: scripts/bench-serverless.py [--executions N] [--fires N] [--children N] [--only WORKLOAD] [--bin-dir DIR]
"""
import argparse, concurrent.futures as cf, json, os, pathlib, subprocess, tempfile, time

import boto3
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parent.parent
# us-east-1 list prices (USD), as of 2026: DynamoDB on-demand, SQS standard,
# Lambda arm64 at 512 MB, S3 standard; Step Functions Standard for comparison.
PRICE = {
    "dynamodb_write_unit": 0.625e-6,
    "dynamodb_read_unit": 0.125e-6,
    "sqs_request": 0.40e-6,
    "lambda_request": 0.20e-6,
    "lambda_gb_second": 0.0000133334,
    "s3_put": 0.005e-3,
    "s3_get": 0.0004e-3,
}
LAMBDA_GB = 0.5
SFN_STANDARD_PER_MILLION = 25.0
# Calls the benchmark makes to watch its executions: not part of what the workflows cost.
OBSERVING = ("DescribeExecution", "ListExecutions", "GetExecutionHistory", "CreateStateMachine", "CreateActivity")


def internal_machine(states=25):
    """Pass and Choice states only: `states` transitions per execution."""
    s = {}
    for i in range(states - 1):
        nxt = f"S{i + 1}" if i + 1 < states - 1 else "Done"
        if i % 6 == 5:
            s[f"S{i}"] = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1000, "Next": "Done"}], "Default": nxt}
        else:
            s[f"S{i}"] = {"Type": "Pass", "Parameters": {"n.$": "$.n", "step": i}, "Next": nxt}
    s["Done"] = {"Type": "Succeed"}
    return {"StartAt": "S0", "States": s}, states


def task_machine(activity_arn, tasks=4):
    """Activity tasks answered by a worker: tasks + 1 transitions per execution."""
    s = {f"T{i}": {"Type": "Task", "Resource": activity_arn, "ResultPath": f"$.r{i}", "Next": f"T{i + 1}" if i + 1 < tasks else "Done"} for i in range(tasks)}
    s["Done"] = {"Type": "Succeed"}
    return {"StartAt": "T0", "States": s}, tasks + 1


def map_machine():
    """A distributed Map whose items each run as a STANDARD child execution of one Pass state."""
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
                 "States": {"P": {"Type": "Pass", "Parameters": {"i.$": "$"}, "End": True}}}
    return {"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "ItemsPath": "$.items", "Label": "fan",
                                                 "ItemProcessor": processor, "End": True}}}


def run_map(children, bin_dir):
    p, d, endpoint = stack_up("map", bin_dir)
    try:
        sfn = client(endpoint)
        m = sfn.create_state_machine(name="fan", definition=json.dumps(map_machine()), roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        start = time.monotonic()
        e = sfn.start_execution(stateMachineArn=m, input=json.dumps({"items": list(range(children))}))["executionArn"]
        for _ in range(7200):  # at most an hour
            status = sfn.describe_execution(executionArn=e)["status"]
            if status != "RUNNING":
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - start
        assert status == "SUCCEEDED", f"the parent ended {status}"
        run_arn = sfn.list_map_runs(executionArn=e)["mapRuns"][0]["mapRunArn"]
        counts = sfn.describe_map_run(mapRunArn=run_arn)["executionCounts"]
        assert counts["succeeded"] == children, counts
        time.sleep(1)  # the last invocations' log lines
        return tally(d, children, elapsed)
    finally:
        stack_down(p, d)


def stack_up(tag, bin_dir, extra_env=None):
    d = pathlib.Path(tempfile.mkdtemp(prefix=f"stepwise-bench-{tag}-"))
    env = dict(os.environ, STEPWISE_STACK_DIR=str(d), LOCALSTACK_PORT=str(free_port()), **(extra_env or {}))
    if bin_dir:
        env["STEPWISE_BIN_DIR"] = bin_dir
    p = subprocess.Popen(["bash", str(ROOT / "localstack/stack"), "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("API_ENDPOINT="):
            return p, d, line.strip().split("=", 1)[1]
    raise SystemExit(f"stack up failed; logs in {d}/logs")


def stack_down(p, d):
    subprocess.run(["bash", str(ROOT / "localstack/stack"), "down"], env=dict(os.environ, STEPWISE_STACK_DIR=str(d)))
    p.wait(timeout=60)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def client(endpoint):
    cfg = Config(inject_host_prefix=False, retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=32)
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", config=cfg)


def run(workload, n, bin_dir):
    p, d, endpoint = stack_up(workload, bin_dir)
    try:
        sfn = client(endpoint)
        worker = None
        if workload == "internal":
            definition, per = internal_machine()
        else:
            act = sfn.create_activity(name="work")["activityArn"]
            definition, per = task_machine(act)
            worker = cf.ThreadPoolExecutor(4)
            stop = []
            def work():
                w = client(endpoint)
                while not stop:
                    t = w.get_activity_task(activityArn=act, workerName="bench")
                    if t.get("taskToken"):
                        w.send_task_success(taskToken=t["taskToken"], output='{"ok":true}')
            for _ in range(4):
                worker.submit(work)
        m = sfn.create_state_machine(name=workload, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        start = time.monotonic()
        # Two clients at a time: LocalStack is one Python process, and more
        # concurrency would measure its queueing as Lambda milliseconds.
        with cf.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: sfn.start_execution(stateMachineArn=m, name=f"e{i}", input=json.dumps({"n": i})), range(n)))
        pages = sfn.get_paginator("list_executions")
        count = lambda status: sum(len(p["executions"]) for p in pages.paginate(stateMachineArn=m, statusFilter=status))
        for _ in range(3600):  # at most an hour
            if count("RUNNING") == 0:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - start
        ok = count("SUCCEEDED")
        if worker:
            stop.append(True)
            worker.shutdown(wait=False, cancel_futures=True)
        assert ok == n, f"{ok} of {n} executions succeeded"
        time.sleep(1)  # the last invocations' log lines
        return tally(d, n * per, elapsed)
    finally:
        stack_down(p, d)


# EventBridge Scheduler's list price (after its free tier), for comparison.
EVENTBRIDGE_SCHEDULER_PER_MILLION = 1.0
# The schedule workload's clock: 60 times faster, so rate(1 minute) fires every second.
SCHEDULE_TIME_SCALE = "60"


def run_schedule(fires, bin_dir):
    p, d, endpoint = stack_up("schedule", bin_dir, {"STEPWISE_TIME_SCALE": SCHEDULE_TIME_SCALE})
    try:
        sfn = client(endpoint)
        sch = boto3.client("scheduler", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        m = sfn.create_state_machine(name="scheduled", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        start = time.monotonic()
        sch.create_schedule(Name="bench", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
                            Target={"Arn": m, "RoleArn": "arn:aws:iam::123456789012:role/r"})
        pages = sfn.get_paginator("list_executions")
        count = lambda: sum(len(p["executions"]) for p in pages.paginate(stateMachineArn=m))
        for _ in range(7200):  # at most an hour
            if count() >= fires:
                break
            time.sleep(0.5)
        sch.delete_schedule(Name="bench")
        elapsed = time.monotonic() - start
        done = count()
        assert done >= fires, f"{done} of {fires} fires started"
        time.sleep(1)  # the last invocations' log lines
        return tally(d, done, elapsed)
    finally:
        stack_down(p, d)


def tally(d, transitions, elapsed):
    t = {"transitions": transitions, "seconds": round(elapsed, 1), "dynamodb_read_unit": 0, "dynamodb_write_unit": 0, "sqs_request": 0, "s3_put": 0, "s3_get": 0, "lambda_request": 0, "lambda_ms": 0.0, "activity_poll_ms": 0, "sweeper_invocations": 0, "scheduler_records_max": 0}
    for f in ("api", "scheduler", "sweeper"):
        for line in (d / "logs" / f"{f}.log").read_text().splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            fields = e.get("fields", {})
            if e.get("target") != "stepwise::usage" or fields.get("function") == "sweeper":
                continue
            if fields.get("operation", "").endswith(OBSERVING):
                continue
            u = json.loads(fields["usage"])
            if fields.get("operation", "").endswith("GetActivityTask"):
                t["activity_poll_ms"] += fields.get("ms", 0)
            t["dynamodb_read_unit"] += u["dynamodb_read_units"]
            t["dynamodb_write_unit"] += u["dynamodb_write_units"]
            t["sqs_request"] += u["sqs_requests"]
            t["s3_put"] += u["s3_puts"]
            t["s3_get"] += u["s3_gets"]
    for line in (d / "logs" / "local-host.log").read_text().splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("invocation") == "sweeper":
            t["sweeper_invocations"] += 1  # a fixed cost per minute, not per transition
        elif "invocation" in e:
            if e["invocation"] == "scheduler":
                t["scheduler_records_max"] = max(t["scheduler_records_max"], e.get("records", 0))
            t["lambda_request"] += 1
            t["lambda_ms"] += e["ms"]
        t["sqs_request"] += e.get("esm_sqs_requests", 0)
    return t


def cost_per_million(t):
    per = 1e6 / t["transitions"]
    parts = {k: t[k] * per * PRICE[k] for k in ("dynamodb_read_unit", "dynamodb_write_unit", "sqs_request", "s3_put", "s3_get", "lambda_request")}
    gb_second = LAMBDA_GB * per * PRICE["lambda_gb_second"] / 1000
    # GetActivityTask long-polls inside the api Lambda: idle workers' waiting is billed too.
    parts["lambda_duration_polling"] = min(t["activity_poll_ms"], t["lambda_ms"]) * gb_second
    parts["lambda_duration"] = t["lambda_ms"] * gb_second - parts["lambda_duration_polling"]
    return parts


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--executions", type=int, default=200)
    a.add_argument("--fires", type=int, default=50)
    a.add_argument("--children", type=int, default=500)
    a.add_argument("--only", choices=("internal", "tasks", "schedule", "map"))
    a.add_argument("--bin-dir", default=os.environ.get("STEPWISE_BIN_DIR"))
    args = a.parse_args()
    if args.only in (None, "schedule"):
        t = run_schedule(args.fires, args.bin_dir)
        parts = cost_per_million(t)
        print(json.dumps({"workload": "schedule", "fires": t["transitions"], **t}))
        total = sum(parts.values())
        print(f"schedule: ${total:.3f} per million fires, the started execution included ({', '.join(f'{k} ${v:.3f}' for k, v in parts.items())}); "
              f"EventBridge Scheduler alone: ${EVENTBRIDGE_SCHEDULER_PER_MILLION:.2f}, plus Step Functions Standard's two transitions: ${2 * SFN_STANDARD_PER_MILLION:.2f}")
    if args.only in (None, "map"):
        t = run_map(args.children, args.bin_dir)
        parts = cost_per_million(t)
        print(json.dumps({"workload": "map", "children": args.children, **t, "children_per_s": round(args.children / t["seconds"], 1)}))
        total = sum(parts.values())
        print(f"map: ${total:.3f} per million STANDARD children ({', '.join(f'{k} ${v:.3f}' for k, v in parts.items())}); "
              f"at most {t['scheduler_records_max']} messages in one scheduler invocation")
    for workload, n in (("internal", args.executions), ("tasks", max(args.executions // 4, 1))):
        if args.only not in (None, workload):
            continue
        t = run(workload, n, args.bin_dir)
        parts = cost_per_million(t)
        per = {k: round(v / t["transitions"], 3) for k, v in t.items() if k not in ("transitions", "seconds", "scheduler_records_max")}
        print(json.dumps({"workload": workload, "executions": n, **t, "per_transition": per}))
        total = sum(parts.values())
        print(f"{workload}: ${total:.3f} per million transitions ({', '.join(f'{k} ${v:.3f}' for k, v in parts.items())}); Step Functions Standard: ${SFN_STANDARD_PER_MILLION:.2f}")


if __name__ == "__main__":
    main()
