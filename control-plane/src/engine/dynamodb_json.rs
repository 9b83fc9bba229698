//! DynamoDB JSON (`{"S": "x"}`, `{"M": {…}}`, …) to the SDK's attribute
//! values and back, and the request checks DynamoDB itself would make.

// Service integrations are I/O: their request ids do not enter the engine's state.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use serde_json::{Value, json};

use super::aws::Failure;

pub(super) fn b64(s: &str) -> Result<Vec<u8>, Failure> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| ddb_validation(&format!("Invalid base64 value: '{s}'")))
}

pub(super) fn ddb_validation(message: &str) -> Failure {
    (
        "DynamoDB.AmazonDynamoDBException".into(),
        format!(
            "{message} (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException; Request ID: {}; Proxy: null)",
            uuid::Uuid::new_v4()
        ),
    )
}

pub(super) fn required<T>(v: Option<T>, field: &str) -> Result<Option<T>, Failure> {
    match v {
        Some(v) => Ok(Some(v)),
        None => Err(ddb_validation(&format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))),
    }
}

pub(super) fn map_of(p: &Value, key: &str) -> Result<Option<HashMap<String, AttributeValue>>, Failure> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| Ok((k.clone(), to_av(v)?))).collect::<Result<_, _>>().map(Some),
        Some(_) => Err(ddb_validation(&format!("{key} must be a map of attribute values"))),
    }
}

/// DynamoDB JSON (`{"S": "x"}`, `{"M": {…}}`, …) to an SDK value.
fn to_av(v: &Value) -> Result<AttributeValue, Failure> {
    let bad = || ddb_validation(&format!("Supplied AttributeValue is empty or has more than one type: {v}"));
    let Some((t, x)) = v.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else { return Err(bad()) };
    let strings = |x: &Value| -> Result<Vec<String>, Failure> {
        x.as_array().ok_or_else(bad)?.iter().map(|s| s.as_str().map(str::to_string).ok_or_else(bad)).collect()
    };
    Ok(match (t.as_str(), x) {
        ("S", Value::String(s)) => AttributeValue::S(s.clone()),
        ("N", Value::String(s)) => AttributeValue::N(s.clone()),
        ("B", Value::String(s)) => AttributeValue::B(b64(s)?.into()),
        ("BOOL", Value::Bool(b)) => AttributeValue::Bool(*b),
        ("NULL", Value::Bool(b)) => AttributeValue::Null(*b),
        ("SS", x) => AttributeValue::Ss(strings(x)?),
        ("NS", x) => AttributeValue::Ns(strings(x)?),
        ("BS", x) => AttributeValue::Bs(strings(x)?.iter().map(|s| b64(s).map(Into::into)).collect::<Result<_, _>>()?),
        ("L", Value::Array(a)) => AttributeValue::L(a.iter().map(to_av).collect::<Result<_, _>>()?),
        ("M", Value::Object(m)) => {
            AttributeValue::M(m.iter().map(|(k, v)| Ok((k.clone(), to_av(v)?))).collect::<Result<_, Failure>>()?)
        }
        _ => return Err(bad()),
    })
}

/// An SDK value back to DynamoDB JSON.
fn from_av(av: &AttributeValue) -> Value {
    let b =
        |x: &aws_sdk_dynamodb::primitives::Blob| json!(base64::engine::general_purpose::STANDARD.encode(x.as_ref()));
    match av {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(x) => json!({"B": b(x)}),
        AttributeValue::Bool(x) => json!({"BOOL": x}),
        AttributeValue::Null(x) => json!({"NULL": x}),
        AttributeValue::Ss(x) => json!({"SS": x}),
        AttributeValue::Ns(x) => json!({"NS": x}),
        AttributeValue::Bs(x) => json!({"BS": x.iter().map(b).collect::<Vec<_>>()}),
        AttributeValue::L(x) => json!({"L": x.iter().map(from_av).collect::<Vec<_>>()}),
        AttributeValue::M(x) => json!({"M": map_to_json(x)}),
        _ => Value::Null,
    }
}

/// Keys sorted, so outputs are stable whatever the SDK's map order.
pub(super) fn map_to_json(m: &HashMap<String, AttributeValue>) -> Value {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    Value::Object(keys.into_iter().map(|k| (k.clone(), from_av(&m[k]))).collect())
}
