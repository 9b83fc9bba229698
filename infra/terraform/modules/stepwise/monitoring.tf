# Alarms: messages that failed 20 times, functions that fail, and a sweeper
# that keeps finding lost work (a sign that sends or timers go missing).

locals {
  # Any non-zero value of these is worth a look.
  zero_alarms = merge(
    { for k, q in aws_sqs_queue.dlq : "${k}-dlq-not-empty" => {
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", statistic = "Maximum"
      dimensions  = { QueueName = q.name }
      description = "Messages gave up after ${local.max_receives} deliveries; see the scheduler's logs."
    } },
    { for k, f in aws_lambda_function.fn : "${k}-errors" => {
      namespace   = "AWS/Lambda", metric = "Errors", statistic = "Sum"
      dimensions  = { FunctionName = f.function_name }
      description = "The ${k} function failed."
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "nonzero" {
  for_each            = local.zero_alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
}

# The sweeper logs JSON lines with `flushed` (outbox items whose send was lost)
# and `resent` (overdue timers) when it finds work.
resource "aws_cloudwatch_log_metric_filter" "sweeper_backlog" {
  for_each       = toset(["flushed", "resent"])
  name           = "${var.name_prefix}-sweeper-${each.key}"
  log_group_name = aws_cloudwatch_log_group.fn["sweeper"].name
  pattern        = "{ $.fields.${each.key} > 0 }"
  metric_transformation {
    name      = "Sweeper${title(each.key)}"
    namespace = "Stepwise/${var.name_prefix}"
    value     = "$.fields.${each.key}"
  }
}

resource "aws_cloudwatch_metric_alarm" "sweeper_backlog" {
  for_each            = aws_cloudwatch_log_metric_filter.sweeper_backlog
  alarm_name          = "${var.name_prefix}-sweeper-${each.key}"
  alarm_description   = "The sweeper keeps recovering lost work (${each.key}); check SQS and the scheduler."
  namespace           = "Stepwise/${var.name_prefix}"
  metric_name         = each.value.metric_transformation[0].name
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  threshold           = 100
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
}
