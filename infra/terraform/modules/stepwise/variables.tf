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
