# An example root: serverless Stepwise in one region, from the zips of
# ./scripts/package-lambdas.sh arm64.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "The AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "api_auth" {
  description = "AWS_IAM (callers sign for the service \"lambda\") or SIGV4 (the api checks signatures for \"states\" made with api_credentials)."
  type        = string
  default     = "AWS_IAM"
}

variable "api_credentials" {
  description = "With api_auth = SIGV4: AKID:SECRET[,AKID:SECRET...] (40-character secrets)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "task_policy_json" {
  description = "What workflows may call (Lambda, SQS, DynamoDB, S3), as an IAM policy document; see the module's variable."
  type        = string
  default     = null
}

module "stepwise" {
  source           = "../../modules/stepwise"
  name_prefix      = "stepwise"
  architecture     = "arm64"
  lambda_zip_dir   = "${path.root}/../../../../target/lambda-zips/arm64"
  retention_days   = 90
  api_auth         = var.api_auth
  api_credentials  = var.api_credentials
  task_policy_json = var.task_policy_json
}

output "api_url" {
  value = module.stepwise.api_url
}

output "table_name" {
  value = module.stepwise.table_name
}

output "queue_urls" {
  value = module.stepwise.queue_urls
}
