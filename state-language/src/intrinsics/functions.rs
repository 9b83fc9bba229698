//! The function bodies, with AWS's argument rules.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{Env, EvalError};
use crate::json::{self, type_name};
use crate::limits;

/// AWS: Base64Encode/Decode accept at most 10,000 characters.
const BASE64_INPUT_CHARS_MAX: usize = 10_000;

/// (minimum, maximum) argument counts; `None` for unknown functions.
pub fn signature(name: &str) -> Option<(usize, Option<usize>)> {
    Some(match name {
        "States.Format" => (1, None),
        "States.StringToJson" | "States.JsonToString" | "States.ArrayLength" | "States.ArrayUnique" => (1, Some(1)),
        "States.Base64Encode" | "States.Base64Decode" => (1, Some(1)),
        "States.Array" => (0, None),
        "States.ArrayPartition" | "States.ArrayContains" | "States.ArrayGetItem" => (2, Some(2)),
        "States.ArrayRange" => (3, Some(3)),
        "States.Hash" | "States.MathAdd" | "States.StringSplit" => (2, Some(2)),
        "States.JsonMerge" => (3, Some(3)),
        "States.MathRandom" => (2, Some(3)),
        "States.UUID" => (0, Some(0)),
        _ => return None,
    })
}

fn fail(msg: impl Into<String>) -> EvalError {
    EvalError::Failure(msg.into())
}

fn int(name: &str, v: &Value) -> Result<i64, EvalError> {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 => Ok(f as i64),
        _ => Err(fail(format!("{name}: expected an integer, got {}", json::to_string(v)))),
    }
}

fn string<'v>(name: &str, v: &'v Value) -> Result<&'v str, EvalError> {
    v.as_str().ok_or_else(|| fail(format!("{name}: expected a string, got {}", type_name(v))))
}

fn array<'v>(name: &str, v: &'v Value) -> Result<&'v Vec<Value>, EvalError> {
    v.as_array().ok_or_else(|| fail(format!("{name}: expected an array, got {}", type_name(v))))
}

pub(crate) fn call(
    name: &str,
    args: Vec<Value>,
    template: Option<&str>,
    env: &mut dyn Env,
) -> Result<Value, EvalError> {
    let a = &args;
    Ok(match name {
        "States.Format" => format(a, template)?,
        "States.StringToJson" => {
            let s = string(name, &a[0])?;
            if s.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(s).map_err(|e| fail(format!("{name}: invalid JSON: {e}")))?
            }
        }
        "States.JsonToString" => Value::String(json::to_string(&a[0])),
        "States.Array" => Value::Array(args),
        "States.ArrayPartition" => {
            let arr = array(name, &a[0])?;
            let size = int(name, &a[1])?;
            if size <= 0 {
                return Err(fail(format!("{name}: chunk size must be greater than 0, got {size}")));
            }
            Value::Array(arr.chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect())
        }
        "States.ArrayContains" => Value::Bool(array(name, &a[0])?.iter().any(|x| json::equal(x, &a[1]))),
        "States.ArrayRange" => range(a)?,
        "States.ArrayGetItem" => {
            let arr = array(name, &a[0])?;
            let i = int(name, &a[1])?;
            usize::try_from(i)
                .ok()
                .and_then(|i| arr.get(i))
                .cloned()
                .ok_or_else(|| fail(format!("{name}: index {i} out of bounds for length {}", arr.len())))?
        }
        "States.ArrayLength" => Value::from(array(name, &a[0])?.len()),
        "States.ArrayUnique" => {
            let mut out: Vec<Value> = Vec::new();
            for x in array(name, &a[0])? {
                if !out.iter().any(|y| json::equal(x, y)) {
                    out.push(x.clone());
                }
            }
            Value::Array(out)
        }
        "States.Base64Encode" => {
            let s = string(name, &a[0])?;
            if s.chars().count() > BASE64_INPUT_CHARS_MAX {
                return Err(fail(format!("{name}: input exceeds {BASE64_INPUT_CHARS_MAX} characters")));
            }
            Value::String(base64::engine::general_purpose::STANDARD.encode(s))
        }
        "States.Base64Decode" => {
            let s = string(name, &a[0])?;
            if s.chars().count() > BASE64_INPUT_CHARS_MAX {
                return Err(fail(format!("{name}: input exceeds {BASE64_INPUT_CHARS_MAX} characters")));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| fail(format!("{name}: invalid base64: {e}")))?;
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        "States.Hash" => hash(a)?,
        "States.JsonMerge" => {
            if a[2] != Value::Bool(false) {
                return Err(fail(format!("{name}: deep merge is not supported; the third argument must be false")));
            }
            let (Value::Object(l), Value::Object(r)) = (&a[0], &a[1]) else {
                return Err(fail(format!("{name}: both inputs must be objects")));
            };
            let mut out: Map<String, Value> = l.clone();
            for (k, v) in r {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
        "States.MathRandom" => {
            let (lo, hi) = (int(name, &trunc(&a[0]))?, int(name, &trunc(&a[1]))?);
            if hi <= lo {
                return Err(fail(format!("{name}: end must be greater than start")));
            }
            // The optional seed is accepted as AWS does; the host's entropy stream keeps replay exact.
            let span = (hi - lo) as u64;
            Value::from(lo + (env.next_u64() % span) as i64)
        }
        "States.MathAdd" => {
            // AWS rounds each argument as Java's Math.round does (half up).
            let round = |v: &Value| v.as_f64().map(|f| json::number((f + 0.5).floor()));
            let (x, y) = (
                int(name, &round(&a[0]).unwrap_or_else(|| a[0].clone()))?,
                int(name, &round(&a[1]).unwrap_or_else(|| a[1].clone()))?,
            );
            Value::from(x.checked_add(y).ok_or_else(|| fail(format!("{name}: overflow")))?)
        }
        "States.StringSplit" => {
            let s = string(name, &a[0])?;
            let d = string(name, &a[1])?;
            let parts: Vec<Value> =
                s.split(|c| d.contains(c)).filter(|p| !p.is_empty()).map(|p| Value::String(p.to_string())).collect();
            Value::Array(parts)
        }
        "States.UUID" => Value::String(crate::entropy::uuid_v4(env.next_u64(), env.next_u64())),
        other => return Err(fail(format!("unknown intrinsic function {other}"))),
    })
}

fn trunc(v: &Value) -> Value {
    v.as_f64().map(|f| json::number(f.trunc())).unwrap_or_else(|| v.clone())
}

fn format(a: &[Value], template: Option<&str>) -> Result<Value, EvalError> {
    let tpl_owned;
    let tpl = match template {
        Some(t) => t,
        None => {
            let s = string("States.Format", &a[0])?;
            tpl_owned = s.replace('\\', "\\\\");
            &tpl_owned
        }
    };
    let mut out = String::new();
    let mut args = a[1..].iter();
    let mut chars = tpl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let v = args.next().ok_or_else(|| fail("States.Format: more placeholders than arguments"))?;
                java_string(v, &mut out, 0)
            }
            c => out.push(c),
        }
    }
    if args.next().is_some() {
        return Err(fail("States.Format: more arguments than placeholders"));
    }
    Ok(Value::String(out))
}

fn range(a: &[Value]) -> Result<Value, EvalError> {
    let name = "States.ArrayRange";
    let (start, end, step) = (int(name, &a[0])?, int(name, &a[1])?, int(name, &a[2])?);
    if step == 0 {
        return Err(fail(format!("{name}: step must not be 0")));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i <= end) || (step < 0 && i >= end) {
        if out.len() >= limits::ARRAY_RANGE_ITEMS_MAX {
            return Err(fail(format!("{name}: the result exceeds {} items", limits::ARRAY_RANGE_ITEMS_MAX)));
        }
        out.push(Value::from(i));
        i += step;
    }
    Ok(Value::Array(out))
}

fn hash(a: &[Value]) -> Result<Value, EvalError> {
    use sha2::Digest;
    let name = "States.Hash";
    let data = match &a[0] {
        Value::String(s) => s.clone(),
        Value::Null => return Err(fail(format!("{name}: the input data must not be null"))),
        other => json::to_string(other),
    };
    let algo = string(name, &a[1])?;
    let bytes = data.as_bytes();
    let hex = match algo {
        "MD5" => hexify(&md5::Md5::digest(bytes)),
        "SHA-1" => hexify(&sha1::Sha1::digest(bytes)),
        "SHA-256" => hexify(&sha2::Sha256::digest(bytes)),
        "SHA-384" => hexify(&sha2::Sha384::digest(bytes)),
        "SHA-512" => hexify(&sha2::Sha512::digest(bytes)),
        other => {
            return Err(fail(format!(
                "{name}: unsupported algorithm '{other}'; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
            )));
        }
    };
    Ok(Value::String(hex))
}

fn hexify(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// AWS renders Format arguments with Java's `toString`: `{k=v, k2=[1, 2]}`.
fn java_string(v: &Value, out: &mut String, depth: usize) {
    if depth > limits::JSON_DEPTH_MAX {
        return;
    }
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_string(x, out, depth + 1);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                java_string(x, out, depth + 1);
            }
            out.push('}');
        }
        other => out.push_str(&json::to_string(other)),
    }
}
