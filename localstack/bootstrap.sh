#!/usr/bin/env bash
# Creates the resources serverless Stepwise uses, in LocalStack (or any
# endpoint): the DynamoDB table, the SQS queues with their dead-letter queues,
# and the payload bucket. Idempotent.
#
# Usage: localstack/bootstrap.sh ENDPOINT [TABLE] [QUEUE_PREFIX] [BUCKET]
#        (defaults: stepwise, stepwise-, stepwise-payloads)
set -euo pipefail
endpoint="$1"
table="${2:-stepwise}"
prefix="${3:-stepwise-}"
bucket="${4:-stepwise-payloads}"
# Deliveries before a message goes to its dead-letter queue (the engine drops
# a message that keeps failing after 20 deliveries as well).
max_receives=20
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" AWS_PAGER=""
aws_() { aws --endpoint-url "$endpoint" "$@"; }

if ! aws_ dynamodb describe-table --table-name "$table" >/dev/null 2>&1; then
  aws_ dynamodb create-table --table-name "$table" \
    --attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
    --billing-mode PAY_PER_REQUEST >/dev/null
  # Retention: closed executions carry `expires_at` (epoch seconds); TTL deletes them.
  aws_ dynamodb update-time-to-live --table-name "$table" \
    --time-to-live-specification Enabled=true,AttributeName=expires_at >/dev/null
fi

for q in scheduler tasks; do
  dlq_url=$(aws_ sqs create-queue --queue-name "${prefix}${q}-dlq" --query QueueUrl --output text)
  dlq_arn=$(aws_ sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn --query Attributes.QueueArn --output text)
  policy="{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":\"$max_receives\"}"
  aws_ sqs create-queue --queue-name "${prefix}${q}" \
    --attributes "{\"VisibilityTimeout\":\"10\",\"RedrivePolicy\":$(printf '%s' "$policy" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >/dev/null
done

aws_ s3api head-bucket --bucket "$bucket" >/dev/null 2>&1 || aws_ s3api create-bucket --bucket "$bucket" >/dev/null
echo "table=$table queues=${prefix}scheduler,${prefix}tasks bucket=$bucket"
