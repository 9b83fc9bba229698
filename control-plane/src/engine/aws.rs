//! AWS service integrations through the AWS SDK: SQS `sendMessage` and the
//! DynamoDB `getItem`/`putItem`/`updateItem`/`deleteItem` tasks, in both
//! the optimized (`arn:aws:states:::sqs:sendMessage`) and the AWS SDK
//! (`arn:aws:states:::aws-sdk:sqs:sendMessage`) forms. The endpoint comes
//! from `--aws-endpoint` or the SDK's usual settings (`AWS_ENDPOINT_URL`, …).

// Service integrations are I/O: their request ids and timings do not enter the engine's state.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;

use super::dynamodb_json::{b64, map_of, map_to_json, required};
use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use serde_json::{Map, Value, json};

/// A task's failure: AWS's error name and cause.
pub type Failure = (String, String);

pub struct AwsClients {
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) lambda: aws_sdk_lambda::Client,
    /// `arn:aws:lambda:<region>:<account>:function:` of our own scope: such
    /// functions are invoked by name, which AWS treats the same and local
    /// Lambda emulators understand.
    pub(super) local_function_prefix: String,
}

pub(crate) async fn sdk_config(endpoint: Option<String>, region: &str) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .region(aws_config::Region::new(region.to_string()));
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

impl AwsClients {
    pub async fn new(
        endpoint: Option<String>,
        lambda_endpoint: Option<String>,
        scope: &crate::arn::Scope,
    ) -> AwsClients {
        let conf = sdk_config(endpoint.clone(), &scope.region).await;
        let lambda_conf = sdk_config(lambda_endpoint.or(endpoint), &scope.region).await;
        AwsClients {
            sqs: aws_sdk_sqs::Client::new(&conf),
            dynamodb: aws_sdk_dynamodb::Client::new(&conf),
            // Path-style addressing works with every endpoint, LocalStack's included.
            s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build()),
            lambda: aws_sdk_lambda::Client::new(&lambda_conf),
            local_function_prefix: format!("arn:aws:lambda:{}:{}:function:", scope.region, scope.account),
        }
    }

    /// Performs `service:action` if it is one of ours; `None` if not.
    pub async fn call(
        &self,
        service: &str,
        action: &str,
        p: &Value,
        optimized: bool,
    ) -> Option<Result<Value, Failure>> {
        let out = match (service, action) {
            ("sqs", "sendMessage") => self.send_message(p).await,
            ("dynamodb", "getItem" | "putItem" | "updateItem" | "deleteItem") => self.dynamodb(action, p).await,
            // A Map Run's reader and writer return what the interpreter parses, without metadata.
            ("s3", _) => return self.s3(action, p, !optimized).await,
            _ => return None,
        };
        Some(out.map(|v| if optimized { with_sdk_metadata(v, "") } else { v }))
    }

    async fn send_message(&self, p: &Value) -> Result<Value, Failure> {
        let body = match p.get("MessageBody") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => Some(state_language::json::to_string(v)),
        };
        let mut attrs = HashMap::new();
        if let Some(Value::Object(m)) = p.get("MessageAttributes") {
            for (k, v) in m {
                let b = MessageAttributeValue::builder()
                    .set_data_type(str_of(v, "DataType"))
                    .set_string_value(str_of(v, "StringValue"))
                    .set_binary_value(str_of(v, "BinaryValue").and_then(|b| b64(&b).ok()).map(Into::into));
                attrs.insert(k.clone(), b.build().map_err(|e| sqs_failure("AmazonSQSException", &e.to_string(), ""))?);
            }
        }
        let r = self
            .sqs
            .send_message()
            .set_queue_url(str_of(p, "QueueUrl"))
            .set_message_body(body)
            .set_delay_seconds(p.get("DelaySeconds").and_then(Value::as_i64).map(|d| d as i32))
            .set_message_attributes((!attrs.is_empty()).then_some(attrs))
            .set_message_group_id(str_of(p, "MessageGroupId"))
            .set_message_deduplication_id(str_of(p, "MessageDeduplicationId"))
            .send()
            .await
            .map_err(|e| sdk_failure("SQS", "AmazonSQS", &e))?;
        let mut out = Map::new();
        for (k, v) in [
            ("MD5OfMessageAttributes", r.md5_of_message_attributes()),
            ("MD5OfMessageBody", r.md5_of_message_body()),
            ("MessageId", r.message_id()),
            ("SequenceNumber", r.sequence_number()),
        ] {
            if let Some(v) = v {
                out.insert(k.into(), json!(v));
            }
        }
        Ok(Value::Object(out))
    }

    async fn dynamodb(&self, action: &str, p: &Value) -> Result<Value, Failure> {
        let table = str_of(p, "TableName");
        let names: Option<HashMap<String, String>> =
            p.get("ExpressionAttributeNames").and_then(|v| serde_json::from_value(v.clone()).ok());
        let values = map_of(p, "ExpressionAttributeValues")?;
        let ret = str_of(p, "ReturnValues").map(|r| ReturnValue::from(r.as_str()));
        let condition = str_of(p, "ConditionExpression");
        // putItem, updateItem and deleteItem share their conditional-write
        // parameters; the SDK's builders differ in type, so a macro applies them.
        macro_rules! conditional_write {
            ($builder:expr) => {
                $builder
                    .set_table_name(table)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_return_values(ret)
                    .send()
                    .await
                    .map_err(|e| sdk_failure("DynamoDB", "AmazonDynamoDBv2", &e))?
                    .attributes
            };
        }
        let key = || -> Result<_, Failure> { required(map_of(p, "Key")?, "key") };
        let (item, attributes) = match action {
            "getItem" => {
                let r = self
                    .dynamodb
                    .get_item()
                    .set_table_name(table)
                    .set_key(key()?)
                    .set_consistent_read(p.get("ConsistentRead").and_then(Value::as_bool))
                    .set_projection_expression(str_of(p, "ProjectionExpression"))
                    .set_expression_attribute_names(names)
                    .send()
                    .await
                    .map_err(|e| sdk_failure("DynamoDB", "AmazonDynamoDBv2", &e))?;
                (r.item, None)
            }
            "putItem" => {
                (None, conditional_write!(self.dynamodb.put_item().set_item(required(map_of(p, "Item")?, "item")?)))
            }
            "updateItem" => (
                None,
                conditional_write!(
                    self.dynamodb.update_item().set_key(key()?).set_update_expression(str_of(p, "UpdateExpression"))
                ),
            ),
            _ => (None, conditional_write!(self.dynamodb.delete_item().set_key(key()?))),
        };
        let mut out = Map::new();
        if let Some(i) = item {
            out.insert("Item".into(), map_to_json(&i));
        }
        if let Some(a) = attributes.filter(|a| !a.is_empty()) {
            out.insert("Attributes".into(), map_to_json(&a));
        }
        Ok(Value::Object(out))
    }
}

/// The optimized integrations add the Java SDK's response metadata;
/// `content_length` is the response body's, when the caller knows it.
pub(super) fn with_sdk_metadata(mut v: Value, content_length: &str) -> Value {
    let id = uuid::Uuid::new_v4().to_string();
    let date =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        let (mut all, mut one) = (Map::new(), Map::new());
        let mut header = |k: &str, v: &str| {
            all.insert(k.into(), json!([v]));
            one.insert(k.into(), json!(v));
        };
        header("x-amzn-RequestId", &id);
        header("Content-Type", "application/x-amz-json-1.0");
        header("Date", &date);
        if !content_length.is_empty() {
            header("connection", "keep-alive");
            header("Content-Length", content_length);
        }
        m.insert("SdkHttpMetadata".into(), json!({"AllHttpHeaders": all, "HttpHeaders": one, "HttpStatusCode": 200}));
        m.insert("SdkResponseMetadata".into(), json!({"RequestId": id}));
    }
    v
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn sqs_failure(name: &str, message: &str, code: &str) -> Failure {
    let cause = if code.is_empty() {
        message.to_string()
    } else {
        format!(
            "{message} (Service: AmazonSQS; Status Code: 400; Error Code: {code}; Request ID: {}; Proxy: null)",
            uuid::Uuid::new_v4()
        )
    };
    (format!("SQS.{name}"), cause)
}

/// Exceptions the Java SDK models by name; others are the service's generic exception.
const MODELED: [&str; 12] = [
    "ConditionalCheckFailedException",
    "ProvisionedThroughputExceededException",
    "ResourceNotFoundException",
    "ItemCollectionSizeLimitExceededException",
    "TransactionConflictException",
    "RequestLimitExceeded",
    "InternalServerError",
    "QueueDoesNotExist",
    "InvalidMessageContents",
    "UnsupportedOperation",
    "InvalidAttributeName",
    "KmsAccessDenied",
];

/// S3 error codes the Java SDK models as exceptions of their own.
const S3_MODELED: [&str; 6] = [
    "NoSuchKey",
    "NoSuchBucket",
    "NoSuchUpload",
    "InvalidObjectState",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
];

/// AWS's error name and cause text (the Java SDK's format) for a failed call.
pub(super) fn sdk_failure<E>(
    prefix: &str,
    service: &str,
    e: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Failure
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_dynamodb::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("Unknown").to_string();
            let message = s.err().message().unwrap_or_default().to_string();
            let status = s.raw().status().as_u16();
            // Every Lambda error is a modeled exception of the Java SDK.
            let name = if prefix == "Lambda" {
                code.clone()
            } else if MODELED.contains(&code.as_str()) {
                if code.ends_with("Exception") || code.ends_with("Error") || code.ends_with("Exceeded") {
                    code.clone()
                } else {
                    format!("{code}Exception")
                }
            } else if prefix == "S3" {
                // The AWS SDK integrations name S3's errors by code (S3.NoSuchKeyException).
                if S3_MODELED.contains(&code.as_str()) { format!("{code}Exception") } else { "S3Exception".into() }
            } else if prefix == "SQS" {
                "AmazonSQSException".into()
            } else {
                "AmazonDynamoDBException".into()
            };
            let cause = format!(
                "{message} (Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: {}; Proxy: null)",
                uuid::Uuid::new_v4()
            );
            (format!("{prefix}.{name}"), cause)
        }
        other => {
            let mut detail = other.to_string();
            let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(other);
            while let Some(s) = src {
                detail = s.to_string();
                src = s.source();
            }
            (format!("{prefix}.SdkClientException"), format!("Unable to execute HTTP request: {detail}"))
        }
    }
}
