//! String functions. Lengths and positions count code points, as the
//! reference's `stringToArray` does.

use super::{Entry, arg, num};
use crate::error::Result;
use crate::eval::Evaluator;
use crate::value::{FrameId, Value};

pub(super) const ENTRIES: [Entry; 12] = [
    ("string", "<x-b?:s>", 1, string_fn),
    ("substring", "<s-nn?:s>", 3, substring),
    ("substringBefore", "<s-s:s>", 2, substring_before),
    ("substringAfter", "<s-s:s>", 2, substring_after),
    ("lowercase", "<s-:s>", 1, lowercase),
    ("uppercase", "<s-:s>", 1, uppercase),
    ("length", "<s-:n>", 1, length),
    ("trim", "<s-:s>", 1, trim),
    ("pad", "<s-ns?:s>", 3, pad),
    ("join", "<a<s>s?:s>", 2, join),
    ("not", "<x-:b>", 1, not),
    ("exists", "<x:b>", 1, exists),
];

fn s(v: String) -> Value {
    Value::String(v.into())
}

fn string_fn(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let pretty = matches!(arg(args, 1), Value::Bool(true));
    Ok(super::string(arg(args, 0), pretty)?.map(s).unwrap_or_default())
}

/// Code points `[start, start + length)`, counting negative starts from the end.
pub fn substring_of(text: &str, start: f64, length: Option<f64>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as f64;
    let mut start = start;
    if len + start < 0.0 {
        start = 0.0;
    }
    let from = |i: f64| if i < 0.0 { (len + i).max(0.0) } else { i.min(len) };
    let begin = from(start.trunc());
    let end = match length {
        Some(l) if l <= 0.0 => return String::new(),
        Some(l) => {
            let e = if start >= 0.0 { start + l } else { len + start + l };
            from(e.trunc())
        }
        None => len,
    };
    if end <= begin {
        return String::new();
    }
    chars[begin as usize..end as usize].iter().collect()
}

fn substring(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(text) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let start = num(args, 1)?.unwrap_or(0.0);
    Ok(s(substring_of(text, start, num(args, 2)?)))
}

fn substring_before(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(text) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let chars = arg(args, 1).as_str().unwrap_or("");
    Ok(s(match text.find(chars) {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }))
}

fn substring_after(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(text) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let chars = arg(args, 1).as_str().unwrap_or("");
    Ok(s(match text.find(chars) {
        Some(i) => text[i + chars.len()..].to_string(),
        None => text.to_string(),
    }))
}

fn lowercase(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(arg(args, 0).as_str().map(|t| s(t.to_lowercase())).unwrap_or_default())
}

fn uppercase(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(arg(args, 0).as_str().map(|t| s(t.to_uppercase())).unwrap_or_default())
}

fn length(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(arg(args, 0).as_str().map(|t| Value::Number(t.chars().count() as f64)).unwrap_or_default())
}

fn trim(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(text) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    let out = out.strip_prefix(' ').unwrap_or(&out);
    let out = out.strip_suffix(' ').unwrap_or(out);
    Ok(s(out.to_string()))
}

fn pad(ev: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(text) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let width = num(args, 1)?.unwrap_or(0.0);
    let fill = match arg(args, 2).as_str() {
        Some(f) if !f.is_empty() => f.to_string(),
        _ => " ".to_string(),
    };
    let pad_len = width.abs().trunc() as i64 - text.chars().count() as i64;
    if pad_len <= 0 {
        return Ok(s(text.to_string()));
    }
    // Charged before it is built, so a huge width fails instead of exhausting memory.
    ev.charge(pad_len as usize / 16)?;
    let padding: String = fill.chars().cycle().take(pad_len as usize).collect();
    Ok(s(if width > 0.0 { format!("{text}{padding}") } else { format!("{padding}{text}") }))
}

fn join(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Value::Array(a) = arg(args, 0) else { return Ok(Value::Undefined) };
    let sep = arg(args, 1).as_str().unwrap_or("");
    let parts: Vec<&str> = a.items.iter().map(|v| v.as_str().unwrap_or("")).collect();
    Ok(s(parts.join(sep)))
}

fn not(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(super::boolean(arg(args, 0))?.map(|b| Value::Bool(!b)).unwrap_or_default())
}

fn exists(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(Value::Bool(!arg(args, 0).is_undefined()))
}
