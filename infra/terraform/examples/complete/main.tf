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

module "stepwise" {
  source         = "../../modules/stepwise"
  name_prefix    = "stepwise"
  architecture   = "arm64"
  lambda_zip_dir = "${path.root}/../../../../target/lambda-zips/arm64"
  retention_days = 90
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
