# Alarms: messages that failed 20 times, functions that fail, executions that
# fail (from the Lambdas' own EMF metrics, namespace Stepwise), a scheduler
# queue that falls behind, and a sweeper that keeps finding lost work (a sign
# that sends or timers go missing).

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
    # The scheduler writes these as EMF lines (control-plane/src/telemetry/emf.rs):
    # each with its state machine as a dimension, and once without, for alarms.
    { for m in ["failed", "timed_out"] : "executions-${replace(m, "_", "-")}" => {
      namespace   = "Stepwise", metric = "stepwise_executions_${m}_total", statistic = "Sum"
      dimensions  = {}
      description = "Executions ${replace(m, "_", " ")}; `stepwise executions list --status ${upper(m)}` shows which."
    } },
  )
}

# The scheduler queue's oldest message: timers and steps waiting longer than
# this mean the scheduler function cannot keep up (or is throttled).
resource "aws_cloudwatch_metric_alarm" "scheduler_lag" {
  alarm_name          = "${var.name_prefix}-scheduler-lag"
  alarm_description   = "The scheduler queue's oldest due message waited over 5 minutes; check the scheduler's concurrency and errors."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.main["scheduler"].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 300
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
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
