use serde_json::json;

use super::requests as rq;
use super::responses::{ActivityTask, Created};
use super::{Ts, parse, reply};
use crate::{AwsError, Error};

fn kind_and_message<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> (AwsError, String) {
    match parse::<T>(body) {
        Err(Error::Api { kind, message }) => (kind, message),
        Err(other) => panic!("not an API error: {other}"),
        Ok(_) => panic!("parsed"),
    }
}

#[test]
fn bad_requests_get_aws_error_types_naming_the_member() {
    let null = |f: &str| {
        format!(
            "1 validation error detected: Value null at '{f}' failed to satisfy constraint: Member must not be null"
        )
    };
    let cases: [(serde_json::Value, AwsError, String); 6] = [
        (json!({"definition": "{}", "roleArn": "r"}), AwsError::ValidationException, null("name")),
        (json!({"name": null, "definition": "{}", "roleArn": "r"}), AwsError::ValidationException, null("name")),
        (json!({"name": 7, "definition": "{}", "roleArn": "r"}), AwsError::SerializationException, "'name'".into()),
        (
            json!({"name": "n", "definition": "{}", "roleArn": "r", "publish": "yes"}),
            AwsError::SerializationException,
            "'publish'".into(),
        ),
        (
            json!({"name": "n", "definition": "{}", "roleArn": "r", "tags": [{"key": 1, "value": "v"}]}),
            AwsError::SerializationException,
            "'tags[0].key'".into(),
        ),
        (
            json!({"name": "n", "definition": "{}", "roleArn": "r", "tags": [{"key": "k"}]}),
            AwsError::ValidationException,
            null("tags[0].value"),
        ),
    ];
    for (body, kind, message) in cases {
        let (k, m) = kind_and_message::<rq::CreateStateMachine>(body.clone());
        assert_eq!(k, kind, "{body}");
        assert!(m.contains(&message), "{body}: {m}");
    }
}

#[test]
fn unknown_members_are_ignored_and_do_not_bind_a_token() {
    let r: rq::ListExecutions = parse(json!({"stateMachineArn": "a", "somethingNew": 1, "maxResults": 5}))
        .expect("an unknown member is ignored, as AWS ignores it");
    let v = serde_json::to_value(&r).expect("serializes");
    assert_eq!(v["stateMachineArn"], "a");
    assert!(v.get("somethingNew").is_none());
}

#[test]
fn a_body_that_is_not_an_object_is_a_serialization_error() {
    let (k, _) = kind_and_message::<rq::ExecutionArn>(json!(["executionArn"]));
    assert_eq!(k, AwsError::SerializationException);
}

#[test]
fn responses_render_seconds_and_leave_out_absent_members() {
    let created =
        Created { state_machine_arn: "arn".into(), creation_date: Ts(1_500), state_machine_version_arn: None };
    assert_eq!(reply(created), json!({"stateMachineArn": "arn", "creationDate": 1.5}));
    let nothing = ActivityTask { task_token: None, input: None, traceparent: None };
    assert_eq!(reply(nothing), json!({}));
}
