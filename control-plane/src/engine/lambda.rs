//! Lambda task integrations through aws-sdk-lambda: the optimized
//! `arn:aws:states:::lambda:invoke` (output wrapped with `Payload`,
//! `StatusCode`, `ExecutedVersion` and SDK metadata) and bare function ARNs
//! (the state's input is the event; the function's result is the output).

// Service integrations are I/O: their request ids do not enter the engine's state.
#![allow(clippy::disallowed_methods)]

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use serde_json::{Value, json};

use super::aws::{AwsClients, Failure, sdk_failure};

impl AwsClients {
    /// `optimized`: the `lambda:invoke` form, whose parameters name the function.
    /// `traceparent` reaches the function in its client context
    /// (`custom.traceparent`), unless the state gives a ClientContext of its own.
    pub async fn invoke_lambda(
        &self,
        resource: &str,
        input: &Value,
        optimized: bool,
        traceparent: Option<&str>,
    ) -> Result<Value, Failure> {
        let (function, payload, p) = if optimized {
            let function = input.get("FunctionName").and_then(Value::as_str).unwrap_or_default().to_string();
            // As AWS does: a string Payload is the request body itself, and a
            // null one sends no payload (the function sees `{}`).
            let payload = match input.get("Payload") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(state_language::json::to_string(other)),
            };
            (function, payload, input.clone())
        } else {
            (resource.to_string(), Some(state_language::json::to_string(input)), Value::Null)
        };
        let function = function.strip_prefix(&self.local_function_prefix).map(str::to_string).unwrap_or(function);
        let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        let xray = traceparent.and_then(xray_header);
        let r = self
            .lambda
            .invoke()
            .function_name(function)
            .set_payload(payload.map(|b| Blob::new(b.into_bytes())))
            .set_qualifier(s("Qualifier"))
            .set_client_context(s("ClientContext").or_else(|| traceparent.map(client_context)))
            .set_invocation_type(s("InvocationType").map(|t| InvocationType::from(t.as_str())))
            .set_log_type(s("LogType").map(|t| LogType::from(t.as_str())))
            .customize()
            .mutate_request(move |req| {
                // As Step Functions carries X-Ray's header: the function's
                // runtime sees it as its trace id (`_X_AMZN_TRACE_ID`).
                if let Some(h) = &xray {
                    req.headers_mut().insert("x-amzn-trace-id", h.clone());
                }
            })
            .send()
            .await
            .map_err(|e| function_error_of(&e).unwrap_or_else(|| sdk_failure("Lambda", "AWSLambda", &e)))?;
        let text = r.payload().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned()).unwrap_or_default();
        let parsed: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        if r.function_error().is_some() {
            // The function's own error type names the failure, as on AWS.
            let error = parsed.get("errorType").and_then(Value::as_str).unwrap_or("Lambda.Unknown").to_string();
            return Err((error, text));
        }
        if !optimized {
            return Ok(parsed);
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let trace_id = format!(
            "Root=1-{:08x}-{}",
            time::OffsetDateTime::now_utc().unix_timestamp(),
            &request_id.replace('-', "")[..24]
        );
        let date =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
        let ids = state_language::aws_shapes::HttpIds { request_id: &request_id, trace_id: &trace_id, date: &date };
        let executed = r.executed_version().unwrap_or("$LATEST");
        let mut out = state_language::aws_shapes::lambda_invoke_output(
            parsed,
            text.len(),
            executed,
            r.status_code().into(),
            &ids,
        );
        if let Some(l) = r.log_result() {
            out["LogResult"] = json!(l);
        }
        Ok(out)
    }
}

/// Local Lambda emulators (cargo-lambda) answer a function error with HTTP 500
/// and the function's error document, where AWS answers 200 with an
/// `X-Amz-Function-Error` header; both mean the same and fail the task the same way.
fn function_error_of<E>(
    e: &aws_sdk_lambda::error::SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> Option<Failure> {
    let raw = e.raw_response()?;
    let text = std::str::from_utf8(raw.body().bytes()?).ok()?;
    let doc: Value = serde_json::from_str(text).ok()?;
    let error = doc.get("errorType")?.as_str()?.to_string();
    doc.get("errorMessage")?;
    Some((error, text.to_string()))
}

/// A Lambda client context (base64 JSON) carrying the trace to the function.
fn client_context(traceparent: &str) -> String {
    use base64::Engine as _;
    let context = serde_json::json!({"custom": {"traceparent": traceparent}});
    base64::engine::general_purpose::STANDARD.encode(context.to_string())
}

/// A W3C `traceparent` as an X-Ray trace header (the same ids: X-Ray's root is
/// `1-` and the trace id's first 8 hex digits, `-`, then the other 24).
pub fn xray_header(traceparent: &str) -> Option<String> {
    let (trace, span) = crate::telemetry::traces::parse_traceparent(traceparent)?;
    let t = trace.to_string();
    Some(format!("Root=1-{}-{};Parent={span};Sampled=1", &t[..8], &t[8..]))
}
