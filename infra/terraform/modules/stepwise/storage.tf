# The table, queues and bucket: the same names and keys as localstack/bootstrap.sh
# and the code reads.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  table_name     = var.name_prefix
  queue_prefix   = "${var.name_prefix}-"
  bucket_name    = "${var.name_prefix}-payloads-${data.aws_caller_identity.current.account_id}"
  queues         = ["scheduler", "tasks"]
  max_receives   = 20
  lifetime_days  = 367 # the longest a Standard execution may run, and a day
  visibility_s   = 10
  sqs_kms_key_id = var.kms_key_arn == null ? "alias/aws/sqs" : var.kms_key_arn
}

resource "aws_dynamodb_table" "main" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

resource "aws_sqs_queue" "dlq" {
  for_each                  = toset(local.queues)
  name                      = "${local.queue_prefix}${each.key}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = local.sqs_kms_key_id
}

resource "aws_sqs_queue" "main" {
  for_each                   = toset(local.queues)
  name                       = "${local.queue_prefix}${each.key}"
  visibility_timeout_seconds = local.visibility_s
  message_retention_seconds  = 1209600
  kms_master_key_id          = local.sqs_kms_key_id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = local.max_receives
  })
}

# A code workflow task queue's two SQS queues, for a worker Lambda's event
# source mappings; visibility outlasts a worker's invocation.
locals {
  code_queues = toset(flatten([for q in var.task_queues : ["wf-${q}", "at-${q}"]]))
}

resource "aws_sqs_queue" "code_dlq" {
  for_each                  = local.code_queues
  name                      = "${local.queue_prefix}${each.key}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = local.sqs_kms_key_id
}

resource "aws_sqs_queue" "code" {
  for_each                   = local.code_queues
  name                       = "${local.queue_prefix}${each.key}"
  visibility_timeout_seconds = 60
  message_retention_seconds  = 1209600
  kms_master_key_id          = local.sqs_kms_key_id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.code_dlq[each.key].arn
    maxReceiveCount     = local.max_receives
  })
}

resource "aws_s3_bucket" "payloads" {
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket; only the functions read and write it.
  #checkov:skip=CKV_AWS_18:Access logs need a second bucket the deployer owns; CloudTrail data events are the alternative.
  #checkov:skip=CKV_AWS_144:Payloads are working copies of one region's executions; the table's point-in-time recovery and versioning cover loss.
  bucket = local.bucket_name
}

resource "aws_s3_bucket_public_access_block" "payloads" {
  bucket                  = aws_s3_bucket.payloads.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_versioning" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Claim-checked bodies are named by their hash and never rewritten; an object
# whose commit failed is referenced by nothing. Expiring after an execution's
# longest life plus the retention period removes those and never a live one.
resource "aws_s3_bucket_lifecycle_configuration" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  rule {
    id     = "expire-payloads"
    status = "Enabled"
    filter {
      prefix = "payloads/"
    }
    expiration {
      days = local.lifetime_days + var.retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "abort-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
