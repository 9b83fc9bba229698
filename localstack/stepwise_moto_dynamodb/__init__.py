"""A LocalStack provider that serves DynamoDB from LocalStack's bundled moto.

LocalStack's own DynamoDB runs DynamoDB Local, which downloads a JVM and jars
from hosts this machine kind cannot reach. Selected with
PROVIDER_OVERRIDE_DYNAMODB=stepwise_moto.
"""

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.plugins import Service, aws_provider


class MotoDynamoDBProvider(DynamodbApi):
    """Implements nothing itself: every operation falls through to moto."""

    service = "dynamodb"


@aws_provider(api="dynamodb", name="stepwise_moto")
def dynamodb_stepwise_moto():
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(MotoDynamoDBProvider(), dispatch_table_factory=MotoFallbackDispatcher)
