//! Numbers as JavaScript writes them: JSONata's numbers are IEEE doubles and
//! its strings of them are `Number.prototype.toString`'s.

use serde_json::Value as Json;

/// `String(n)` in JavaScript.
pub fn js_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    ryu_js::Buffer::new().format_finite(n).to_string()
}

/// `Number(n.toPrecision(15))`: how `$string` rounds away binary noise
/// (`0.1 + 0.2` is written `0.3`).
pub fn precision15(n: f64) -> f64 {
    if !n.is_finite() || n == 0.0 {
        return n;
    }
    format!("{n:.14e}").parse().unwrap_or(n)
}

/// A JSON number: integers without a fraction, as JavaScript writes them.
pub fn to_json(n: f64) -> Json {
    if !n.is_finite() {
        return Json::Null;
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Json::from(n as i64);
    }
    serde_json::Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
}

/// `JSON.stringify` of a value, with `$string`'s 15-digit numbers and
/// optional two-space indentation.
pub fn stringify(v: &crate::value::Value, pretty: bool) -> String {
    let mut out = String::new();
    write(v, pretty, 0, &mut out);
    out
}

fn write(v: &crate::value::Value, pretty: bool, depth: usize, out: &mut String) {
    use crate::value::Value;
    let indent = |out: &mut String, d: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(d));
        }
    };
    match v {
        Value::Undefined | Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if !n.is_finite() => out.push_str("null"),
        Value::Number(n) => out.push_str(&js_string(precision15(*n))),
        Value::String(s) => out.push_str(&Json::String(s.to_string()).to_string()),
        Value::Function(_) => out.push_str("\"\""),
        Value::Array(a) => {
            if a.items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in a.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                write(item, pretty, depth + 1, out);
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(o) => {
            let members: Vec<_> = o.iter().filter(|(_, v)| !v.is_undefined()).collect();
            if members.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write(item, pretty, depth + 1, out);
            }
            indent(out, depth);
            out.push('}');
        }
    }
}
