//! Outputs of AWS integrations whose shape does not depend on I/O: hosts
//! fill in what they measured, so every host answers in AWS's shape.

use serde_json::{Value, json};

/// The per-call values of an AWS response's HTTP metadata.
pub struct HttpIds<'a> {
    pub request_id: &'a str,
    /// `Root=1-…`, as AWS's `X-Amzn-Trace-Id`.
    pub trace_id: &'a str,
    /// RFC 2822, as the `Date` header.
    pub date: &'a str,
}

/// `arn:aws:states:::lambda:invoke`'s output: the function's response
/// (`payload_bytes` is its length as sent) with the headers Lambda answers.
pub fn lambda_invoke_output(
    payload: Value,
    payload_bytes: usize,
    executed_version: &str,
    status_code: i64,
    ids: &HttpIds<'_>,
) -> Value {
    let length = payload_bytes.to_string();
    json!({
        "ExecutedVersion": executed_version,
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": [executed_version],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [ids.request_id],
                "Content-Length": [length],
                "Date": [ids.date],
                "X-Amzn-Trace-Id": [ids.trace_id],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/json",
                "Date": ids.date,
                "X-Amz-Executed-Version": executed_version,
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": ids.request_id,
                "X-Amzn-Trace-Id": ids.trace_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": ids.request_id},
        "StatusCode": status_code,
    })
}
