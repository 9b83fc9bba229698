#!/usr/bin/env bash
# `aws scheduler …` against `stepwise server`: a schedule starts executions.
# Usage: scheduler_cli.sh http://127.0.0.1:PORT
set -euo pipefail
export AWS_ACCESS_KEY_ID="${STEPWISE_TEST_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${STEPWISE_TEST_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
role=arn:aws:iam::123456789012:role/cli
machine=$(aws --endpoint-url "$1" stepfunctions create-state-machine --name cli-scheduled --role-arn "$role" \
  --definition '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}' --query stateMachineArn --output text)
# A rate fires at once when it has no start date, then every period.
arn=$(aws --endpoint-url "$1" scheduler create-schedule --name cli-every-minute --schedule-expression 'rate(1 minute)' \
  --flexible-time-window Mode=OFF --target "{\"Arn\":\"$machine\",\"RoleArn\":\"$role\"}" --query ScheduleArn --output text)
[ "$arn" = arn:aws:scheduler:us-east-1:123456789012:schedule/default/cli-every-minute ] || { echo "arn $arn"; exit 1; }
aws --endpoint-url "$1" scheduler get-schedule --name cli-every-minute --query ScheduleExpression --output text | grep -qx 'rate(1 minute)'
aws --endpoint-url "$1" scheduler list-schedules --query 'Schedules[].Name' --output text | grep -qx cli-every-minute
count=0
for _ in $(seq 1 300); do
  count=$(aws --endpoint-url "$1" stepfunctions list-executions --state-machine-arn "$machine" --query 'length(executions)' --output text)
  [ "$count" -ge 1 ] && break
  sleep 0.1
done
[ "$count" = 1 ] || { echo "executions: $count"; exit 1; }
aws --endpoint-url "$1" scheduler delete-schedule --name cli-every-minute
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
if aws --endpoint-url "$1" scheduler get-schedule --name cli-every-minute 2>"$err"; then exit 1; fi
grep -q ResourceNotFoundException "$err" || { cat "$err"; exit 1; }
echo "scheduler cli ok"
