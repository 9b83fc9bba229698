#!/usr/bin/env bash
# The AWS CLI against `stepwise server`: the README's tour, checked.
# Usage: cli_smoke.sh http://127.0.0.1:PORT
set -euo pipefail
# The server's keys when it checks signatures (`--auth sigv4`).
export AWS_ACCESS_KEY_ID="${STEPWISE_TEST_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${STEPWISE_TEST_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
sfn() { aws --endpoint-url "$1" stepfunctions "${@:2}"; }
here="$(cd "$(dirname "$0")" && pwd)"
def="$here/../../../examples/hello.asl.json"
arn=$(sfn "$1" create-state-machine --name cli-hello --definition "file://$def" \
  --role-arn arn:aws:iam::123456789012:role/cli --query stateMachineArn --output text)
exec_arn=$(sfn "$1" start-execution --state-machine-arn "$arn" --input '{"name":"Ada"}' --query executionArn --output text)
for _ in $(seq 1 1500); do
  status=$(sfn "$1" describe-execution --execution-arn "$exec_arn" --query status --output text)
  [ "$status" != RUNNING ] && break
  sleep 0.02
done
[ "$status" = SUCCEEDED ] || { echo "status $status"; exit 1; }
sfn "$1" get-execution-history --execution-arn "$exec_arn" --query 'events[-1].type' --output text | grep -qx ExecutionSucceeded
# A file of its own: the plain and the signed runs of this script go at once.
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
if sfn "$1" describe-execution --execution-arn "${exec_arn}x" 2>"$err"; then exit 1; fi
grep -q ExecutionDoesNotExist "$err" || { echo "expected ExecutionDoesNotExist:"; cat "$err"; exit 1; }
# StartSyncExecution: the CLI adds a "sync-" host prefix unless told not to.
fast=$(sfn "$1" create-state-machine --name cli-express --type EXPRESS --role-arn arn:aws:iam::123456789012:role/cli \
  --definition '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}' --query stateMachineArn --output text)
out=$(AWS_DISABLE_HOST_PREFIX_INJECTION=true sfn "$1" start-sync-execution --state-machine-arn "$fast" \
  --input '{"a":1}' --query output --output text)
[ "$out" = '{"a":1}' ] || { echo "sync output $out"; exit 1; }
echo "AWS CLI smoke: ok"
