//! Matching (`$contains`, `$match`, `$replace`, `$split` with strings,
//! regexes or matcher functions), encodings, and `$formatNumber`.

use super::{Entry, arg, num};
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::number::stringify;
use crate::value::{FrameId, Object, Value};

pub(super) const ENTRIES: [Entry; 10] = [
    ("contains", "<s-(sf):b>", 2, contains),
    ("match", "<s-f<s:o>n?:a<o>>", 3, match_fn),
    ("replace", "<s-(sf)(sf)n?:s>", 4, replace),
    ("split", "<s-(sf)n?:a<s>>", 3, split),
    ("base64encode", "<s-:s>", 1, base64encode),
    ("base64decode", "<s-:s>", 1, base64decode),
    ("encodeUrlComponent", "<s-:s>", 1, encode_url_component),
    ("encodeUrl", "<s-:s>", 1, encode_url),
    ("decodeUrlComponent", "<s-:s>", 1, decode_url_component),
    ("decodeUrl", "<s-:s>", 1, decode_url),
];

/// One match: byte offsets into the string, the text, the groups, and the
/// match object itself (what a replacement function receives).
struct Found {
    start: usize,
    end: usize,
    text: String,
    groups: Vec<Value>,
    object: Value,
}

/// Byte offset of a UTF-16 index (matcher functions speak JavaScript's indices).
fn byte_index(s: &str, utf16: f64) -> usize {
    let mut units = 0.0;
    for (i, c) in s.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as f64;
    }
    s.len()
}

/// Up to `limit` matches of `matcher` in `s`, following each match's `next()`.
fn find_all(ev: &mut Evaluator, matcher: &Value, s: &str, limit: Option<usize>, env: FrameId) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    let mut m = ev.apply(matcher, vec![Value::string(s)], &Value::Null, env)?;
    // Each match advances through the string (or ends with D1004), so this ends.
    loop {
        let o = match &m {
            Value::Object(o) => o.clone(),
            v if super::boolean(v)? == Some(true) => return Err(Error::new("T1010")),
            _ => break,
        };
        let looks_right = matches!(o.get("start"), Some(Value::Number(_)))
            || matches!(o.get("groups"), Some(Value::Array(_)))
            || o.get("next").is_some_and(Value::is_function);
        if !looks_right {
            return Err(Error::new("T1010"));
        }
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let start = match o.get("start") {
            Some(Value::Number(n)) => byte_index(s, *n),
            _ => 0,
        };
        let text = o.get("match").and_then(Value::as_str).unwrap_or("").to_string();
        let end = match o.get("end") {
            Some(Value::Number(n)) => byte_index(s, *n),
            _ => start + text.len(),
        };
        let groups = o.get("groups").map(Value::members).unwrap_or_default();
        let next = o.get("next").cloned();
        out.push(Found { start, end, text, groups, object: m.clone() });
        m = match next {
            Some(f) if f.is_function() => ev.apply(&f, Vec::new(), &Value::Null, env)?,
            _ => Value::Undefined,
        };
    }
    Ok(out)
}

fn limit_arg(args: &[Value], i: usize, code: &'static str) -> Result<Option<usize>> {
    match num(args, i)? {
        Some(l) if l < 0.0 => Err(Error::new(code).value(crate::number::js_string(l)).index(i + 1)),
        Some(l) => Ok(Some(l as usize)),
        None => Ok(None),
    }
}

fn contains(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    Ok(Value::Bool(match arg(args, 1) {
        Value::String(t) => s.contains(&**t),
        f => !find_all(ev, f, s, Some(1), env)?.is_empty(),
    }))
}

fn match_fn(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let limit = limit_arg(args, 2, "D3040")?;
    if limit == Some(0) {
        return Ok(Value::sequence(Vec::new()));
    }
    let found = find_all(ev, arg(args, 1), s, limit, env)?;
    let items = found
        .into_iter()
        .map(|f| {
            let mut o = Object::new();
            o.insert("match".into(), Value::string(&f.text));
            o.insert("index".into(), Value::Number(crate::regex::utf16_index(s, f.start) as f64));
            o.insert("groups".into(), Value::array(f.groups));
            Value::object(o)
        })
        .collect();
    Ok(Value::sequence(items))
}

/// `$1`…`$n`, `$0` and `$$` in a replacement string.
fn substitute(replacement: &str, f: &Found) -> String {
    let mut out = String::new();
    let r: Vec<char> = replacement.chars().collect();
    let mut i = 0;
    while i < r.len() {
        if r[i] != '$' {
            out.push(r[i]);
            i += 1;
            continue;
        }
        i += 1;
        match r.get(i) {
            Some('$') => {
                out.push('$');
                i += 1;
            }
            Some('0') => {
                out.push_str(&f.text);
                i += 1;
            }
            Some(c) if c.is_ascii_digit() => {
                let n = f.groups.len();
                let max_digits = if n == 0 { 1 } else { n.to_string().len() };
                let digits: String = r[i..].iter().take(max_digits).take_while(|c| c.is_ascii_digit()).collect();
                let mut index: usize = digits.parse().unwrap_or(0);
                let mut used = digits.len();
                if max_digits > 1 && index > n && used > 1 {
                    used -= 1;
                    index = digits[..used].parse().unwrap_or(0);
                }
                if n > 0
                    && index >= 1
                    && let Some(Value::String(g)) = f.groups.get(index - 1)
                {
                    out.push_str(g);
                }
                i += used;
            }
            _ => out.push('$'),
        }
    }
    out
}

fn replace(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let pattern = arg(args, 1);
    if pattern.as_str() == Some("") {
        return Err(Error::new("D3010").value("\"\"").index(2));
    }
    let limit = limit_arg(args, 3, "D3011")?;
    if limit == Some(0) {
        return Ok(Value::string(s));
    }
    let replacement = arg(args, 2);
    if let Value::String(p) = pattern {
        let Value::String(r) = replacement else {
            return Err(Error::new("D3012").value(stringify(replacement, false)));
        };
        let matches = s.matches(&**p).count().min(limit.unwrap_or(usize::MAX));
        ev.charge(matches.saturating_mul(r.len()) / 16)?;
        let out = match limit {
            Some(l) => s.replacen(&**p, r, l),
            None => s.replace(&**p, r),
        };
        return Ok(Value::String(out.into()));
    }
    let found = find_all(ev, pattern, s, limit, env)?;
    if found.is_empty() {
        return Ok(Value::string(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut position = 0;
    for f in &found {
        out.push_str(s.get(position..f.start).unwrap_or(""));
        let with = match replacement {
            Value::String(r) => Value::String(substitute(r, f).into()),
            func => ev.apply(func, vec![f.object.clone()], &Value::Null, env)?,
        };
        match with {
            Value::String(w) => {
                // Replacements can multiply a string's size: charge as it grows.
                ev.charge(w.len() / 16)?;
                out.push_str(&w);
            }
            other => return Err(Error::new("D3012").value(stringify(&other, false))),
        }
        position = f.start + f.text.len();
    }
    out.push_str(s.get(position..).unwrap_or(""));
    Ok(Value::String(out.into()))
}

fn split(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let limit = limit_arg(args, 2, "D3020")?;
    let strings = |v: Vec<String>| Value::array(v.into_iter().map(|p| Value::String(p.into())).collect());
    if limit == Some(0) {
        return Ok(Value::array(Vec::new()));
    }
    if let Value::String(sep) = arg(args, 1) {
        let parts: Vec<String> = if sep.is_empty() {
            s.chars().map(String::from).collect()
        } else {
            s.split(&**sep).map(str::to_string).collect()
        };
        let take = limit.unwrap_or(usize::MAX);
        return Ok(strings(parts.into_iter().take(take).collect()));
    }
    let found = find_all(ev, arg(args, 1), s, limit, env)?;
    let mut parts = Vec::new();
    let mut start = 0;
    for f in &found {
        parts.push(s.get(start..f.start).unwrap_or("").to_string());
        start = f.end;
    }
    if limit.is_none_or(|l| found.len() < l) {
        parts.push(s.get(start..).unwrap_or("").to_string());
    }
    Ok(strings(parts))
}

fn base64encode(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    use base64::Engine as _;
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    // Node's 'binary' encoding: each UTF-16 unit's low byte.
    let bytes: Vec<u8> = s.encode_utf16().map(|u| u as u8).collect();
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(bytes).into()))
}

fn base64decode(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    use base64::Engine as _;
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = engine.decode(cleaned).unwrap_or_default();
    Ok(Value::String(bytes.into_iter().map(char::from).collect::<String>().into()))
}

const COMPONENT_SAFE: &str = "-_.!~*'()";
const URI_SAFE: &str = "-_.!~*'();/?:@&=+$,#";

fn encode(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || safe.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Percent-decoding; `keep` lists the characters `decodeURI` leaves encoded.
fn decode(s: &str, keep: &str, function: &str) -> Result<String> {
    let bad = || Error::new("D3140").value(stringify(&Value::string(s), false)).detail(function);
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = s.get(i + 1..i + 3).ok_or_else(bad)?;
        let b = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        if b.is_ascii() && keep.contains(b as char) {
            out.extend_from_slice(&bytes[i..i + 3]);
        } else {
            out.push(b);
        }
        i += 3;
    }
    String::from_utf8(out).map_err(|_| bad())
}

fn with_str(args: &[Value], f: impl FnOnce(&str) -> Result<String>) -> Result<Value> {
    match arg(args, 0).as_str() {
        Some(s) => Ok(Value::String(f(s)?.into())),
        None => Ok(Value::Undefined),
    }
}

fn encode_url_component(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    with_str(args, |s| Ok(encode(s, COMPONENT_SAFE)))
}

fn encode_url(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    with_str(args, |s| Ok(encode(s, URI_SAFE)))
}

fn decode_url_component(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    with_str(args, |s| decode(s, "", "decodeUrlComponent"))
}

fn decode_url(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    with_str(args, |s| decode(s, ";/?:@&=+$,#", "decodeUrl"))
}

pub(super) fn format_number(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(n) = num(args, 0)? else { return Ok(Value::Undefined) };
    let picture = arg(args, 1).as_str().unwrap_or("");
    let options = match arg(args, 2) {
        Value::Object(o) => Some(o.clone()),
        _ => None,
    };
    crate::format::format_number(n, picture, options.as_deref()).map(|s| Value::String(s.into()))
}
