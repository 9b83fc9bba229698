# The three Lambda functions, each with its own least-privilege role.

locals {
  functions = {
    api       = { timeout = 90, description = "The Step Functions API (function URL)" }
    scheduler = { timeout = 60, description = "Advances executions from SQS wake-ups" }
    sweeper   = { timeout = 120, description = "Sends lost outbox messages and overdue timers" }
  }
  environment = {
    STEPWISE_TABLE          = aws_dynamodb_table.main.name
    STEPWISE_QUEUE_PREFIX   = local.queue_prefix
    STEPWISE_PAYLOAD_BUCKET = aws_s3_bucket.payloads.bucket
    STEPWISE_RETENTION_DAYS = tostring(var.retention_days)
    STEPWISE_ACCOUNT_ID     = data.aws_caller_identity.current.account_id
    # The scheduler runs Map Runs; every host gets it so none runs with another cap.
    STEPWISE_MAP_CHILDREN_RUNNING_MAX = tostring(var.map_children_running_max)
  }
  # Only the api answers callers, so only it holds the keys.
  api_only_environment = {
    STEPWISE_AUTH        = var.api_auth == "SIGV4" ? "sigv4" : "none"
    STEPWISE_CREDENTIALS = var.api_auth == "SIGV4" ? var.api_credentials : ""
  }
  queue_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${local.queue_prefix}"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "fn" {
  for_each           = local.functions
  name               = "${var.name_prefix}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Every function reads and writes the table and the bucket, and sends to the
# queues (wake-ups, activity tasks; activity queues are created on first use).
data "aws_iam_policy_document" "fn" {
  for_each = local.functions
  statement {
    sid       = "Table"
    actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
    resources = [aws_dynamodb_table.main.arn]
  }
  statement {
    sid       = "Payloads"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.payloads.arn}/payloads/*"]
  }
  statement {
    sid       = "Queues"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:CreateQueue"]
    resources = ["${local.queue_arn_prefix}*"]
  }
  dynamic "statement" {
    # GetActivityTask, PollWorkflowTask and PollActivityTask receive from and
    # delete on the activity queues and code workflows' task queues (api only).
    for_each = each.key == "api" ? [1] : []
    content {
      sid       = "ActivityQueues"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage"]
      resources = ["${local.queue_arn_prefix}act-*", "${local.queue_arn_prefix}wf-*", "${local.queue_arn_prefix}at-*"]
    }
  }
  dynamic "statement" {
    for_each = each.key == "scheduler" ? [1] : []
    content {
      sid       = "EventSource"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [for q in aws_sqs_queue.main : q.arn]
    }
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]
    content {
      sid       = "Key"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]
    }
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn[each.key].arn}:*"]
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.functions
  name     = "${var.name_prefix}-${each.key}"
  role     = aws_iam_role.fn[each.key].id
  policy   = data.aws_iam_policy_document.fn[each.key].json
}

resource "aws_cloudwatch_log_group" "fn" {
  for_each          = local.functions
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_lambda_function" "fn" {
  #checkov:skip=CKV_AWS_116:No Lambda DLQ: the SQS queues carry their own DLQs, and the api and sweeper are invoked synchronously.
  #checkov:skip=CKV_AWS_117:No VPC: the functions reach only DynamoDB, SQS and S3 over AWS's endpoints.
  #checkov:skip=CKV_AWS_272:Code signing is left to the deployer; the zips are built by scripts/package-lambdas.sh.
  for_each                       = local.functions
  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = each.value.description
  role                           = aws_iam_role.fn[each.key].arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = "${var.lambda_zip_dir}/${each.key}/bootstrap.zip"
  source_code_hash               = filebase64sha256("${var.lambda_zip_dir}/${each.key}/bootstrap.zip")
  memory_size                    = var.memory_mb
  timeout                        = each.value.timeout
  reserved_concurrent_executions = each.key == "scheduler" ? var.reserved_concurrency : -1
  kms_key_arn                    = var.kms_key_arn
  tracing_config {
    mode = "Active"
  }
  environment {
    variables = each.key == "api" ? merge(local.environment, local.api_only_environment) : local.environment
  }
  depends_on = [aws_cloudwatch_log_group.fn, aws_iam_role_policy.fn]
}

resource "aws_lambda_event_source_mapping" "scheduler" {
  for_each                           = aws_sqs_queue.main
  event_source_arn                   = each.value.arn
  function_name                      = aws_lambda_function.fn["scheduler"].arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 0
  function_response_types            = ["ReportBatchItemFailures"]
}

resource "aws_lambda_function_url" "api" {
  #checkov:skip=CKV_AWS_258:Auth is NONE only with api_auth = SIGV4, where the api itself refuses every request not signed with api_credentials.
  function_name      = aws_lambda_function.fn["api"].function_name
  authorization_type = var.api_auth == "SIGV4" ? "NONE" : "AWS_IAM"
  lifecycle {
    precondition {
      condition     = var.api_auth != "SIGV4" || length(var.api_credentials) > 0
      error_message = "api_auth = SIGV4 needs api_credentials (AKID:SECRET[,...]); the api would refuse every caller."
    }
  }
}

# With api_auth = SIGV4 the URL is open to the internet, as an AWS endpoint
# is; the signature check in the api is the lock.
resource "aws_lambda_permission" "api_url_public" {
  #checkov:skip=CKV_AWS_364:Public on purpose with api_auth = SIGV4: the api refuses requests not signed with api_credentials.
  count                  = var.api_auth == "SIGV4" ? 1 : 0
  statement_id           = "FunctionUrlSigV4CheckedByStepwise"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.fn["api"].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_scheduler_schedule" "sweeper" {
  #checkov:skip=CKV_AWS_297:Uses var.kms_key_arn when one is given; the schedule holds no data, only a constant input.
  name                = "${var.name_prefix}-sweeper"
  kms_key_arn         = var.kms_key_arn
  schedule_expression = "rate(1 minute)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.fn["sweeper"].arn
    role_arn = aws_iam_role.schedule.arn
    input    = jsonencode({ source = "aws.scheduler" })
  }
}

data "aws_iam_policy_document" "schedule_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "schedule" {
  name               = "${var.name_prefix}-sweeper-schedule"
  assume_role_policy = data.aws_iam_policy_document.schedule_assume.json
}

resource "aws_iam_role_policy" "schedule" {
  name = "${var.name_prefix}-sweeper-schedule"
  role = aws_iam_role.schedule.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "lambda:InvokeFunction", Resource = aws_lambda_function.fn["sweeper"].arn }]
  })
}

# The services workflows call are the user's to grant: least privilege means
# no blanket access, so the module attaches exactly the policy it is given.
resource "aws_iam_role_policy" "tasks" {
  count  = var.task_policy_json == null ? 0 : 1
  name   = "${var.name_prefix}-scheduler-tasks"
  role   = aws_iam_role.fn["scheduler"].id
  policy = var.task_policy_json
}
