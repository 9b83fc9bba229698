"""boto3's `scheduler` client against `stepwise server`: only the endpoint changes.

A one-time schedule starts its execution within 2 s of its time; groups,
tags, paging and EventBridge's errors for bad input.
Usage: python3 scheduler_boto3.py http://127.0.0.1:PORT
"""
import datetime
import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
kw = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=os.environ.get("STEPWISE_TEST_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("STEPWISE_TEST_SECRET_ACCESS_KEY", "test"),
    config=Config(retries={"max_attempts": 1}),
)
sfn = boto3.client("stepfunctions", **kw)
sch = boto3.client("scheduler", **kw)
ROLE = "arn:aws:iam::123456789012:role/scheduler"
OFF = {"Mode": "OFF"}

machine = sfn.create_state_machine(
    name="scheduled",
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    roleArn=ROLE,
)["stateMachineArn"]


def refused(code, status, call, **args):
    try:
        call(**args)
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), f"{args}: {got}"
        return
    raise AssertionError(f"{args} was accepted")


# A one-time schedule, three seconds ahead: started within 2 s of its time, once.
at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).replace(microsecond=0)
expression = "at(%s)" % at.strftime("%Y-%m-%dT%H:%M:%S")
arn = sch.create_schedule(
    Name="soon", ScheduleExpression=expression, FlexibleTimeWindow=OFF,
    Target={"Arn": machine, "RoleArn": ROLE, "Input": json.dumps({"report": "daily"})},
)["ScheduleArn"]
assert arn == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/soon", arn
got = sch.get_schedule(Name="soon")
assert got["ScheduleExpression"] == expression and got["State"] == "ENABLED" and got["GroupName"] == "default", got
deadline = time.monotonic() + 30
executions = []
while time.monotonic() < deadline and not executions:
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    time.sleep(0.05)
assert len(executions) == 1, executions
late = (executions[0]["startDate"] - at).total_seconds()
# The embedded server's bound; the serverless home states its own (SQS delays are whole seconds).
late_max = float(os.environ.get("SCHEDULE_LATE_S_MAX", "2"))
print(f"a one-time schedule started its execution {late:.3f} s after its time")
assert 0 <= late < late_max, f"started {late} s after its time"
assert executions[0]["name"] == "soon-" + at.strftime("%Y%m%dT%H%M%SZ"), executions[0]["name"]
described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
assert json.loads(described["input"]) == {"report": "daily"}, described

# A retried create with the same ClientToken is the same schedule; another is a conflict.
daily = dict(Name="daily", ScheduleExpression="cron(0 6 * * ? *)", ScheduleExpressionTimezone="Europe/Paris",
             FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
             Target={"Arn": machine, "RoleArn": ROLE}, ClientToken="token-1")
assert sch.create_schedule(**daily)["ScheduleArn"].endswith("/default/daily")
assert sch.create_schedule(**daily)["ScheduleArn"].endswith("/default/daily")
refused("ConflictException", 409, sch.create_schedule, **{**daily, "ClientToken": "token-2"})

# Groups: tags, listing, paging, and deleting a group deletes its schedules.
group = sch.create_schedule_group(Name="reports", Tags=[{"Key": "team", "Value": "data"}])["ScheduleGroupArn"]
assert group == "arn:aws:scheduler:us-east-1:123456789012:schedule-group/reports", group
sch.tag_resource(ResourceArn=group, Tags=[{"Key": "tier", "Value": "1"}])
sch.untag_resource(ResourceArn=group, TagKeys=["team"])
assert sch.list_tags_for_resource(ResourceArn=group)["Tags"] == [{"Key": "tier", "Value": "1"}]
for n in range(3):
    sch.create_schedule(Name=f"weekly-{n}", GroupName="reports", ScheduleExpression="cron(0 9 ? * MON *)",
                        FlexibleTimeWindow=OFF, Target={"Arn": machine, "RoleArn": ROLE}, State="DISABLED")
names, token = [], None
while True:
    page = sch.list_schedules(GroupName="reports", MaxResults=2, **({"NextToken": token} if token else {}))
    names += [s["Name"] for s in page["Schedules"]]
    token = page.get("NextToken")
    if not token:
        break
assert names == ["weekly-0", "weekly-1", "weekly-2"], names
assert [s["Name"] for s in sch.list_schedules(NamePrefix="dai")["Schedules"]] == ["daily"]
assert {s["Name"] for s in sch.list_schedules(State="DISABLED")["Schedules"]} == {"weekly-0", "weekly-1", "weekly-2"}
assert [g["Name"] for g in sch.list_schedule_groups()["ScheduleGroups"]] == ["default", "reports"]
sch.delete_schedule_group(Name="reports")
refused("ResourceNotFoundException", 404, sch.get_schedule, Name="weekly-0", GroupName="reports")
refused("ResourceNotFoundException", 404, sch.get_schedule_group, Name="reports")

# Updates replace the schedule; deletes remove it.
sch.update_schedule(Name="daily", ScheduleExpression="rate(2 hours)", FlexibleTimeWindow=OFF,
                    Target={"Arn": machine, "RoleArn": ROLE}, State="DISABLED")
assert sch.get_schedule(Name="daily")["ScheduleExpression"] == "rate(2 hours)"
sch.delete_schedule(Name="daily")
refused("ResourceNotFoundException", 404, sch.delete_schedule, Name="daily")

# Bad input gets EventBridge's errors.
target = {"Arn": machine, "RoleArn": ROLE}
for expression, zone in [("rate(0 minutes)", None), ("cron(0 10 * * * *)", None), ("every day", None),
                         ("cron(0 10 * * ? *)", "Mars/Olympus_Mons")]:
    extra = {"ScheduleExpressionTimezone": zone} if zone else {}
    refused("ValidationException", 400, sch.create_schedule, Name="bad", ScheduleExpression=expression,
            FlexibleTimeWindow=OFF, Target=target, **extra)
refused("ValidationException", 400, sch.create_schedule, Name="bad", ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF, Target={"Arn": machine + "-missing", "RoleArn": ROLE})
refused("ValidationException", 400, sch.create_schedule, Name="bad name!", ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF, Target=target)
refused("ValidationException", 400, sch.create_schedule, Name="bad", ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE"}, Target=target)
refused("ValidationException", 400, sch.delete_schedule_group, Name="default")
print("scheduler boto3 ok")
