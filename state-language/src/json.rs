//! Small JSON helpers shared by the engine.

use serde_json::{Number, Value};

/// AWS's type names as they appear in error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Numeric equality that ignores int/float representation (`1 == 1.0`).
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_eq(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn num_eq(x: &Number, y: &Number) -> bool {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) => a == b,
        _ => match (x.as_u64(), y.as_u64()) {
            (Some(a), Some(b)) => a == b,
            _ => x.as_f64() == y.as_f64(),
        },
    }
}

/// A JSON number from an f64, as an integer when it is one (AWS prints `3`, not `3.0`,
/// for integral results of arithmetic).
pub fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// Compact serialization, as AWS prints payloads.
pub fn to_string(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Serialized size in bytes, checked against the payload limit.
pub fn size_bytes(v: &Value) -> usize {
    to_string(v).len()
}

/// Depth of nesting, stopping once past `max`.
pub fn depth_exceeds(v: &Value, max: usize) -> bool {
    fn go(v: &Value, left: usize) -> bool {
        if left == 0 {
            return matches!(v, Value::Array(_) | Value::Object(_));
        }
        match v {
            Value::Array(a) => a.iter().any(|x| go(x, left - 1)),
            Value::Object(m) => m.values().any(|x| go(x, left - 1)),
            _ => false,
        }
    }
    go(v, max)
}

/// A value as AWS quotes it in messages: strings bare, everything else as JSON.
pub fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => to_string(other),
    }
}
