//! ARNs that name another partition, region or account are not this
//! deployment's: they are answered as AWS answers for a resource that does
//! not exist (never served as the local resource of the same name).

use crate::AwsError;
use serde_json::{Map, Value};

use crate::Error;
use crate::arn::Scope;

/// The partition every ARN this deployment issues names.
const PARTITION: &str = "aws";

/// Checks every `…Arn` field of a request (the role, an IAM ARN, aside),
/// and the version ARNs of an alias's routing configuration.
pub(super) fn check(scope: &Scope, operation: &str, request: &Map<String, Value>) -> Result<(), Error> {
    for (field, value) in request {
        if field.ends_with("Arn")
            && field != "roleArn"
            && let Some(arn) = value.as_str()
        {
            check_one(scope, operation, arn)?;
        }
    }
    for route in request.get("routingConfiguration").and_then(Value::as_array).into_iter().flatten() {
        if let Some(arn) = route.get("stateMachineVersionArn").and_then(Value::as_str) {
            check_one(scope, operation, arn)?;
        }
    }
    Ok(())
}

fn check_one(scope: &Scope, operation: &str, arn: &str) -> Result<(), Error> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    // Only Step Functions ARNs: anything else is left to the operation's own parsing.
    let [_arn, partition, "states", region, account, resource, _rest] = parts[..] else { return Ok(()) };
    if partition == PARTITION && region == scope.region && account == scope.account {
        return Ok(());
    }
    Err(not_found(operation, resource, arn))
}

/// AWS's answer for a resource of this kind that does not exist.
fn not_found(operation: &str, resource: &str, arn: &str) -> Error {
    let tags = matches!(operation, "TagResource" | "UntagResource" | "ListTagsForResource");
    let qualified = arn.split(':').count() > 7;
    match resource {
        _ if tags => Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'")),
        "stateMachine" if qualified && operation.contains("Alias") => {
            Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'"))
        }
        "stateMachine" => {
            Error::api(AwsError::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
        }
        "execution" | "express" => {
            Error::api(AwsError::ExecutionDoesNotExist, format!("Execution Does Not Exist: '{arn}'"))
        }
        "activity" => Error::api(AwsError::ActivityDoesNotExist, format!("Activity Does Not Exist: '{arn}'")),
        "mapRun" => Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'")),
        _ => Error::api(AwsError::InvalidArn, format!("Invalid Arn: '{arn}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_arns_are_not_found() {
        let scope = Scope::default();
        let local = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        assert!(check_one(&scope, "DescribeStateMachine", local).is_ok());
        let cases = [
            (
                "DescribeStateMachine",
                "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
                "StateMachineDoesNotExist",
            ),
            ("StartExecution", "arn:aws:states:us-east-1:999999999999:stateMachine:m", "StateMachineDoesNotExist"),
            ("DescribeExecution", "arn:aws-cn:states:us-east-1:123456789012:execution:m:e", "ExecutionDoesNotExist"),
            ("GetActivityTask", "arn:aws:states:us-west-2:123456789012:activity:a", "ActivityDoesNotExist"),
            ("ListTagsForResource", "arn:aws:states:us-west-2:123456789012:activity:a", "ResourceNotFound"),
            ("DescribeStateMachineAlias", "arn:aws:states:us-west-2:123456789012:stateMachine:m:p", "ResourceNotFound"),
        ];
        for (op, arn, want) in cases {
            match check_one(&scope, op, arn) {
                Err(Error::Api { kind, .. }) => assert_eq!(kind.name(), want, "{op} {arn}"),
                other => panic!("{op} {arn}: {other:?}"),
            }
        }
    }
}
