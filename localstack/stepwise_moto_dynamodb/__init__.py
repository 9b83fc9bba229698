"""A LocalStack provider that serves DynamoDB from LocalStack's bundled moto.

LocalStack's own DynamoDB runs DynamoDB Local, which downloads a JVM and jars
from hosts this machine kind cannot reach. Selected with
PROVIDER_OVERRIDE_DYNAMODB=stepwise_moto.

moto's DynamoDB backend is not thread-safe: concurrent TransactWriteItems
fail inside it with "dictionary changed size during iteration". Real
DynamoDB serializes conflicting writes itself, so this provider serializes
every call with one lock to give the same guarantees.
"""

import threading

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.plugins import Service, aws_provider

_LOCK = threading.Lock()


class MotoDynamoDBProvider(DynamodbApi):
    """Implements nothing itself: every operation falls through to moto."""

    service = "dynamodb"


def _serialized(handler):
    def call(context, request):
        with _LOCK:
            return handler(context, request)

    return call


def _dispatch_table(provider):
    from localstack.services.moto import MotoFallbackDispatcher

    table = MotoFallbackDispatcher(provider)
    return {op: _serialized(fn) for op, fn in table.items()}


@aws_provider(api="dynamodb", name="stepwise_moto")
def dynamodb_stepwise_moto():
    return Service.for_provider(MotoDynamoDBProvider(), dispatch_table_factory=_dispatch_table)
