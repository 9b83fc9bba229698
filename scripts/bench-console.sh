#!/usr/bin/env bash
# The console's speed against a release `stepwise server` with 500 executions
# (one of them 1,000 events): first paint, time to content, largest response.
# Usage: ./scripts/bench-console.sh   (RUNS=7; needs chromium and the console tests' npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "needs Debian's chromium: apt-get install chromium" >&2; exit 1; }
(cd control-plane/tests/console && npm ci --silent --no-audit --no-fund)
cargo build --release --locked -p stepwise-control-plane --bin stepwise >/dev/null
dir="$(mktemp -d)"
port=8791
./target/release/stepwise server --listen "127.0.0.1:$port" --data-dir "$dir" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
endpoint="http://127.0.0.1:$port"
until curl -sf "$endpoint/readyz" >/dev/null; do sleep 0.2; done
python3 - "$endpoint" <<'PY'
import json, sys, urllib.request
endpoint = sys.argv[1]
def call(op, body):
    r = urllib.request.Request(endpoint + "/", data=json.dumps(body).encode(),
        headers={"x-amz-target": "AWSStepFunctions." + op, "content-type": "application/x-amz-json-1.0"})
    return json.load(urllib.request.urlopen(r))
role = "arn:aws:iam::123456789012:role/bench"
loop = {"StartAt": "Count", "States": {
    "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "More"},
    "More": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 250, "Next": "Count"}], "Default": "End"},
    "End": {"Type": "Succeed"}}}
m = call("CreateStateMachine", {"name": "bench", "definition": json.dumps(loop), "roleArn": role})["stateMachineArn"]
for i in range(500):
    call("StartExecution", {"stateMachineArn": m, "name": f"e{i}", "input": json.dumps({"n": 0})})
PY
machine="arn:aws:states:us-east-1:123456789012:stateMachine:bench"
execution="arn:aws:states:us-east-1:123456789012:execution:bench:e0"
(cd control-plane/tests/console && ENDPOINT="$endpoint" MACHINE="$machine" EXECUTION="$execution" RUNS="${RUNS:-7}" node bench.mjs)
