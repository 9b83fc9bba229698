#!/usr/bin/env bash
# Starts a fresh LocalStack in host mode (no Docker) and waits until SQS,
# DynamoDB (served by moto, see stepwise_moto_dynamodb/) and S3 are ready.
#
# Usage: localstack/start.sh [PORT]    (default 4566)
# Prints the endpoint on stdout. State, logs and the pid live in
# $STEPWISE_LOCALSTACK_DIR (default: a new temp dir); stop.sh stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-4566}"
command -v curl >/dev/null || { echo "start.sh needs curl: apt-get install curl" >&2; exit 1; }
"$here/setup.sh" >&2
dir="${STEPWISE_LOCALSTACK_DIR:-$(mktemp -d /tmp/stepwise-localstack.XXXXXX)}"
mkdir -p "$dir"
# LocalStack under Python 3.13.0 leaks a memory mapping per finished thread:
# every run gets a fresh process and a fresh state dir.
env -i PATH="$PATH" HOME="$HOME" \
  GATEWAY_LISTEN="127.0.0.1:$port" \
  SERVICES="sqs,dynamodb,s3,sts,iam" \
  PROVIDER_OVERRIDE_DYNAMODB=stepwise_moto \
  EAGER_SERVICE_LOADING=1 \
  SKIP_SSL_CERT_DOWNLOAD=1 \
  DISABLE_EVENTS=1 \
  SQS_ENDPOINT_STRATEGY=path \
  LOCALSTACK_CLI=0 \
  FILESYSTEM_ROOT="$dir/fs" \
  LOCALSTACK_VOLUME_DIR="$dir/volume" \
  TMPDIR="$dir/tmp" \
  "$here/.venv/bin/python" -m localstack.runtime.main >"$dir/localstack.log" 2>&1 &
echo $! >"$dir/pid"
mkdir -p "$dir/tmp"
endpoint="http://127.0.0.1:$port"
# Wait for health, up to 120 s; fail with the log's tail if it dies.
for _ in $(seq 1 600); do
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "LocalStack exited; its log:" >&2; tail -40 "$dir/localstack.log" >&2; exit 1
  fi
  if curl -fsS "$endpoint/_localstack/health" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["services"]
sys.exit(0 if all(s.get(k) in ("available", "running") for k in ("sqs", "dynamodb", "s3")) else 1)' 2>/dev/null; then
    echo "$dir" >"$here/.last-dir"
    echo "$endpoint"
    exit 0
  fi
  sleep 0.2
done
echo "LocalStack did not become healthy; its log:" >&2; tail -40 "$dir/localstack.log" >&2
exit 1
