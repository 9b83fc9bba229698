output "api_url" {
  description = "The Step Functions API: point an AWS SDK's endpoint here (every request is signed; see api_auth)."
  value       = aws_lambda_function_url.api.function_url
}

output "api_function_arn" {
  description = "The api function, for the lambda:InvokeFunctionUrl permission of callers."
  value       = aws_lambda_function.fn["api"].arn
}

output "table_name" {
  description = "The DynamoDB table."
  value       = aws_dynamodb_table.main.name
}

output "queue_urls" {
  description = "The scheduler and tasks queues."
  value       = { for k, q in aws_sqs_queue.main : k => q.url }
}

output "dlq_urls" {
  description = "Their dead-letter queues."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.url }
}

output "payload_bucket" {
  description = "The S3 bucket of claim-checked payloads."
  value       = aws_s3_bucket.payloads.bucket
}

output "task_queue_arns" {
  description = "For each of var.task_queues, the ARNs of its SQS queues: workflow (workflow and query tasks) and activity; a worker Lambda's event source mappings take both."
  value       = { for q in var.task_queues : q => { workflow = aws_sqs_queue.code["wf-${q}"].arn, activity = aws_sqs_queue.code["at-${q}"].arn } }
}
