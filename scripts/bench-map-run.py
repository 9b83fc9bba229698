#!/usr/bin/env python3
"""A distributed Map over many JSON Lines items from S3, on the embedded server.

Starts a fresh LocalStack (S3) and a fresh `stepwise server` (release build),
uploads an object of N JSON Lines items, and runs a machine whose distributed
Map reads it (`ItemReader`, JSONL), runs each item through a small processor
(Pass, Choice, Pass), and writes the results to S3 (`ResultWriter`). It reports
the items per second (the execution's start to stop, as the server records
them), the server's peak resident memory (VmHWM) and its resident memory when
the run ends, and checks the Map Run's counts and the result manifest.

With `--execution-type STANDARD` (the default) each item runs as a child execution
of its own, with its own history, as on AWS; `EXPRESS` runs them inside the parent.

With `--processor activity` each item's processor is one activity Task instead, done
by `--workers` threads that long-poll GetActivityTask and answer SendTaskSuccess with
boto3: children that wait on real work.

Usage: scripts/bench-map-run.py [--items N] [--runs R] [--bin PATH] [--execution-type T]
                                [--children-max N] [--processor pass|activity] [--workers W]
Prints one JSON line per run, then the medians.
"""
import argparse, json, os, pathlib, socket, statistics, subprocess, tempfile, threading, time

import boto3
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUN_SECONDS_MAX = 1800  # one run's deadline: a stuck run fails the bench, it does not hang it
POLL_SECONDS = 0.5

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Shape",
                "States": {
                    "Shape": {"Type": "Pass", "Parameters": {"id.$": "$.id", "big.$": "$.n"}, "Next": "Big?"},
                    "Big?": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.big", "NumericGreaterThan": 500, "Next": "Big"}],
                        "Default": "Small",
                    },
                    "Big": {"Type": "Pass", "Result": "big", "End": True},
                    "Small": {"Type": "Pass", "Result": "small", "End": True},
                },
            },
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket.$": "$.bucket", "Prefix": "results"},
            },
            "End": True,
        }
    },
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def wait_for(what, check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"timed out waiting for {what}")


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 3}),
    )


def activity_workers(endpoint, activity_arn, count, stop):
    """Threads that do the activity's tasks until `stop` is set; each has its own client."""

    def work():
        sfn = client("stepfunctions", endpoint)
        while not stop.is_set():
            try:
                t = sfn.get_activity_task(activityArn=activity_arn, workerName=threading.current_thread().name)
            except Exception:
                if stop.is_set():
                    return
                raise
            if t.get("taskToken"):
                item = json.loads(t["input"])
                sfn.send_task_success(taskToken=t["taskToken"], output=json.dumps({"id": item["id"], "done": True}))

    threads = [threading.Thread(target=work, name=f"w{i}", daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    return threads


def one_run(args, s3_endpoint, s3):
    data = tempfile.mkdtemp(prefix="sw-maprun-")
    stop = threading.Event()  # ends the activity workers
    port = free_port()
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen(
        [args.bin, "server", "--listen", str(port), "--data-dir", data, "--aws-endpoint", s3_endpoint]
        + (["--map-children-running-max", str(args.children_max)] if args.children_max else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"},
    )
    try:
        sfn = client("stepfunctions", f"http://127.0.0.1:{port}")
        wait_for("the server", lambda: _answers(sfn), 30)
        idle_mib = rss_kib(server.pid, "VmRSS") / 1024
        definition = json.loads(json.dumps(DEFINITION))
        processor = definition["States"]["Fan"]["ItemProcessor"]
        processor["ProcessorConfig"]["ExecutionType"] = args.execution_type
        if args.processor == "activity":
            act = sfn.create_activity(name="item")["activityArn"]
            processor["StartAt"] = "Work"
            processor["States"] = {"Work": {"Type": "Task", "Resource": act, "End": True}}
            activity_workers(f"http://127.0.0.1:{port}", act, args.workers, stop)
        arn = sfn.create_state_machine(
            name="fan", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        exe = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"bucket": args.bucket, "key": "items.jsonl"}))
        exe_arn = exe["executionArn"]
        samples = []  # (seconds since the start, resident MiB), for the memory's course over the run
        began = time.monotonic()

        def closed():
            samples.append((time.monotonic() - began, rss_kib(server.pid, "VmRSS") / 1024))
            d = sfn.describe_execution(executionArn=exe_arn)
            return d if d["status"] != "RUNNING" else None

        d = wait_for("the execution", closed, RUN_SECONDS_MAX)
        stop.set()
        if d["status"] != "SUCCEEDED":
            raise RuntimeError(f"the execution ended {d['status']}: {d.get('error')} {d.get('cause')}")
        seconds = (d["stopDate"] - d["startDate"]).total_seconds()
        run = sfn.list_map_runs(executionArn=exe_arn)["mapRuns"][0]
        counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])["itemCounts"]
        if counts["succeeded"] != args.items or counts["total"] != args.items:
            raise RuntimeError(f"item counts are wrong: {counts}")
        out = json.loads(d["output"])
        manifest = json.loads(
            s3.get_object(Bucket=args.bucket, Key=out["ResultWriterDetails"]["Key"])["Body"].read()
        )
        parts = manifest["ResultFiles"]["SUCCEEDED"]
        listed = sfn.list_executions(mapRunArn=run["mapRunArn"], maxResults=10)["executions"]
        if len(listed) != min(10, args.items):
            raise RuntimeError(f"the Map Run's children are not listed: {len(listed)}")
        return {
            "items": args.items,
            "execution_type": args.execution_type,
            "processor": args.processor,
            "workers": args.workers if args.processor == "activity" else 0,
            "children_max": args.children_max,
            "seconds": round(seconds, 2),
            "items_per_s": round(args.items / seconds, 1),
            "idle_rss_mib": round(idle_mib, 1),
            "peak_rss_mib": round(rss_kib(server.pid, "VmHWM") / 1024, 1),
            "end_rss_mib": round(rss_kib(server.pid, "VmRSS") / 1024, 1),
            # Resident memory at each fifth of the run: flat if nothing grows with the items.
            "rss_mib_by_fifth": [round(samples[min(len(samples) - 1, len(samples) * k // 5)][1]) for k in range(1, 6)],
            "result_parts": len(parts),
            "results_written": counts["resultsWritten"],
        }
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
        log.close()
        subprocess.run(["rm", "-rf", data], check=True)


def _answers(sfn):
    try:
        sfn.list_state_machines()
        return True
    except Exception:
        return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--bin", default=str(ROOT / "target/release/stepwise"))
    p.add_argument("--s3-endpoint", help="an S3 already running (else a fresh LocalStack is started)")
    p.add_argument("--bucket", default="bench-map-run")
    p.add_argument("--execution-type", choices=["STANDARD", "EXPRESS"], default="STANDARD")
    p.add_argument("--children-max", type=int, help="the server's --map-children-running-max (else its default)")
    p.add_argument("--processor", choices=["pass", "activity"], default="pass")
    p.add_argument("--workers", type=int, default=16, help="activity worker threads (with --processor activity)")
    args = p.parse_args()
    if not os.access(args.bin, os.X_OK):
        raise SystemExit(f"{args.bin} is missing: cargo build --release -p stepwise-control-plane")
    port = free_port()
    endpoint = args.s3_endpoint or f"http://127.0.0.1:{port}"
    ls_dir = tempfile.mkdtemp(prefix="sw-maprun-ls-")
    if not args.s3_endpoint:
        env = {**os.environ, "STEPWISE_LOCALSTACK_DIR": ls_dir}
        subprocess.run([str(ROOT / "localstack/start.sh"), str(port)], check=True, env=env, stdout=subprocess.DEVNULL)
    try:
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket=args.bucket)
        body = "".join(json.dumps({"id": f"item-{i:07d}", "n": i % 1000}) + "\n" for i in range(args.items))
        s3.put_object(Bucket=args.bucket, Key="items.jsonl", Body=body.encode())
        results = []
        for _ in range(args.runs):
            r = one_run(args, endpoint, s3)
            print(json.dumps(r), flush=True)
            results.append(r)
        median = {k: statistics.median(r[k] for r in results) for k in ("items_per_s", "idle_rss_mib", "peak_rss_mib", "end_rss_mib")}
        print(json.dumps({"median": median, "runs": len(results), "object_bytes": len(body)}))
    finally:
        if not args.s3_endpoint:
            subprocess.run([str(ROOT / "localstack/stop.sh"), ls_dir], check=False)
        subprocess.run(["rm", "-rf", ls_dir], check=False)


if __name__ == "__main__":
    main()
