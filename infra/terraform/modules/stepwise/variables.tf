variable "name_prefix" {
  description = "Prefix of every resource name: the table is named after it, queues and the bucket start with it."
  type        = string
  default     = "stepwise"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name_prefix))
    error_message = "name_prefix: 2-41 characters, lowercase letters, digits and '-'."
  }
}

variable "architecture" {
  description = "Lambda architecture: arm64 or x86_64 (the zips of scripts/package-lambdas.sh)."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture: arm64 or x86_64."
  }
}

variable "lambda_zip_dir" {
  description = "Directory holding <function>/bootstrap.zip for the chosen architecture (target/lambda-zips/<arch>)."
  type        = string
}

variable "memory_mb" {
  description = "Memory of each function, in MB."
  type        = number
  default     = 512
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the scheduler function (-1: unreserved)."
  type        = number
  default     = -1
}

variable "retention_days" {
  description = "Days closed executions are kept before DynamoDB TTL deletes them (AWS: 90)."
  type        = number
  default     = 90
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500
    error_message = "retention_days: 1 to 36500; a closed execution must outlive its close."
  }
}

variable "map_children_running_max" {
  description = "At most this many of a distributed Map's children run at once, STANDARD or EXPRESS (each is held in the parent's record, which every step of the parent writes)."
  type        = number
  default     = 1000
  validation {
    condition     = var.map_children_running_max >= 1 && var.map_children_running_max <= 10000
    error_message = "map_children_running_max: 1 to 10000 (AWS runs at most 10,000 children of a Map Run at once)."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Optional customer-managed KMS key for the table, queues, bucket and logs; AWS-owned keys when null."
  type        = string
  default     = null
}

variable "alarm_actions" {
  description = "ARNs (SNS topics) notified by the alarms."
  type        = list(string)
  default     = []
}

variable "api_auth" {
  description = <<-EOT
    How the API authenticates callers. AWS_IAM: the function URL checks IAM
    signatures, which AWS makes for the service name "lambda" (AWS SDKs for
    Step Functions sign for "states" and are refused; see the README).
    SIGV4: the function URL is open and the api checks every request's SigV4
    signature for "states" itself, made with one of api_credentials.
  EOT
  type        = string
  default     = "AWS_IAM"
  validation {
    condition     = contains(["AWS_IAM", "SIGV4"], var.api_auth)
    error_message = "api_auth must be AWS_IAM or SIGV4."
  }
}

variable "api_credentials" {
  description = "With api_auth = SIGV4: AKID:SECRET[,AKID:SECRET...], at most 16 pairs, 40-character secrets. Kept in the api function's environment (encrypted with kms_key_arn when given) and in the Terraform state."
  type        = string
  default     = ""
  sensitive   = true
}

variable "task_policy_json" {
  description = "An IAM policy document (JSON) for what workflows' Task states, distributed Map readers and writers, and schedules' Lambda and SQS targets call: Lambda functions, SQS queues, DynamoDB tables, S3 buckets. The scheduler performs those calls, so it is attached to the scheduler's role; without it the scheduler may reach only Stepwise's own resources."
  type        = string
  default     = null
}

variable "task_queues" {
  description = "Task queues of code workflows (stepwise-sdk) to create ahead: for each name Q, the SQS queues <prefix>-wf-Q (workflow and query tasks) and <prefix>-at-Q (activity tasks), with dead-letter queues, for a worker Lambda's event source mappings (see task_queue_arns). Queues of other task queues are created on first use."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for q in var.task_queues : can(regex("^[A-Za-z0-9_-]{1,60}$", q))])
    error_message = "Task queue names are 1 to 60 of [A-Za-z0-9_-]."
  }
}
