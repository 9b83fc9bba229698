//! Numeric and aggregation functions.

use super::{Entry, arg, num};
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::number::{js_string, stringify};
use crate::value::{FrameId, Value};

pub(super) const ENTRIES: [Entry; 16] = [
    ("sum", "<a<n>:n>", 1, sum),
    ("count", "<a:n>", 1, count),
    ("max", "<a<n>:n>", 1, max),
    ("min", "<a<n>:n>", 1, min),
    ("average", "<a<n>:n>", 1, average),
    ("number", "<(nsb)-:n>", 1, number),
    ("floor", "<n-:n>", 1, floor),
    ("ceil", "<n-:n>", 1, ceil),
    ("round", "<n-n?:n>", 2, round_fn),
    ("abs", "<n-:n>", 1, abs),
    ("sqrt", "<n-:n>", 1, sqrt),
    ("power", "<n-n:n>", 2, power),
    ("random", "<:n>", 0, random),
    ("formatBase", "<n-n?:s>", 2, format_base),
    ("formatNumber", "<n-so?:s>", 3, super::text::format_number),
    ("boolean", "<x-:b>", 1, boolean_fn),
];

fn numbers(args: &[Value]) -> Result<Option<Vec<f64>>> {
    match arg(args, 0) {
        Value::Undefined => Ok(None),
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.items.len());
            for v in &a.items {
                out.push(v.as_number()?.unwrap_or(f64::NAN));
            }
            Ok(Some(out))
        }
        v => Ok(Some(vec![v.as_number()?.unwrap_or(f64::NAN)])),
    }
}

fn sum(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(numbers(args)?.map(|ns| Value::Number(ns.iter().sum())).unwrap_or_default())
}

fn count(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(Value::Number(match arg(args, 0) {
        Value::Undefined => 0.0,
        Value::Array(a) => a.items.len() as f64,
        _ => 1.0,
    }))
}

fn extreme(args: &[Value], pick: fn(f64, f64) -> f64) -> Result<Value> {
    match numbers(args)? {
        Some(ns) if !ns.is_empty() => Ok(Value::Number(ns.into_iter().reduce(pick).unwrap_or(f64::NAN))),
        _ => Ok(Value::Undefined),
    }
}

fn max(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    extreme(args, f64::max)
}

fn min(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    extreme(args, f64::min)
}

fn average(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    match numbers(args)? {
        Some(ns) if !ns.is_empty() => Ok(Value::Number(ns.iter().sum::<f64>() / ns.len() as f64)),
        _ => Ok(Value::Undefined),
    }
}

fn number(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let v = arg(args, 0);
    let bad = || Error::new("D3030").value(stringify(v, false)).index(1);
    Ok(match v {
        Value::Undefined => Value::Undefined,
        Value::Number(n) => Value::Number(*n),
        Value::Bool(b) => Value::Number(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => Value::Number(parse_number(s).ok_or_else(bad)?),
        _ => return Err(bad()),
    })
}

/// A decimal as `$number` accepts it, or `0x`/`0o`/`0b` integers.
fn parse_number(s: &str) -> Option<f64> {
    let radix = match s.get(..2) {
        Some("0x" | "0X") => Some(16),
        Some("0o" | "0O") => Some(8),
        Some("0b" | "0B") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        return u64::from_str_radix(&s[2..], radix).ok().map(|n| n as f64);
    }
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(i);
    if int > 0 {
        i += int;
        if b.get(i) == Some(&b'.') {
            let f = digits(i + 1);
            if f == 0 {
                return None;
            }
            i += 1 + f;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
            let e = digits(i + 1 + sign);
            if e == 0 {
                return None;
            }
            i += 1 + sign + e;
        }
        if i == b.len() {
            return s.parse::<f64>().ok().filter(|n| n.is_finite());
        }
        return None;
    }
    None
}

fn unary(args: &[Value], f: fn(f64) -> f64) -> Result<Value> {
    Ok(num(args, 0)?.map(|n| Value::Number(f(n))).unwrap_or_default())
}

fn floor(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    unary(args, f64::floor)
}

fn ceil(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    unary(args, f64::ceil)
}

fn abs(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    unary(args, f64::abs)
}

/// JavaScript's `Math.round`: halves go up.
fn js_round(x: f64) -> f64 {
    let f = x.floor();
    if x - f >= 0.5 { f + 1.0 } else { f }
}

/// Shifts the decimal point through the number's text, as the reference
/// does, so that `$round(2.675, 2)` is not spoiled by binary fractions.
fn shift(x: f64, places: i64) -> f64 {
    let s = js_string(x);
    let (mantissa, exp) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i64>().unwrap_or(0)),
        None => (s, 0),
    };
    format!("{mantissa}e{}", exp + places).parse().unwrap_or(x)
}

/// `$round`: half to even, at `precision` decimal places.
pub fn round(x: f64, precision: i64) -> f64 {
    let arg = if precision != 0 { shift(x, precision) } else { x };
    let mut result = js_round(arg);
    if (result - arg).abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    if precision != 0 {
        result = shift(result, -precision);
    }
    if result == 0.0 { 0.0 } else { result }
}

fn round_fn(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(x) = num(args, 0)? else { return Ok(Value::Undefined) };
    let precision = num(args, 1)?.unwrap_or(0.0) as i64;
    Ok(Value::Number(round(x, precision)))
}

fn sqrt(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(x) = num(args, 0)? else { return Ok(Value::Undefined) };
    if x < 0.0 {
        return Err(Error::new("D3060").value(js_string(x)).index(1));
    }
    Ok(Value::Number(x.sqrt()))
}

fn power(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(x) = num(args, 0)? else { return Ok(Value::Undefined) };
    let e = num(args, 1)?.unwrap_or(f64::NAN);
    let r = x.powf(e);
    if !r.is_finite() {
        return Err(Error::new("D3061").value(js_string(x)).detail(js_string(e)).index(1));
    }
    Ok(Value::Number(r))
}

fn random(ev: &mut Evaluator, _: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(Value::Number(ev.random()))
}

fn format_base(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(x) = num(args, 0)? else { return Ok(Value::Undefined) };
    let value = round(x, 0);
    let radix = match num(args, 1)? {
        Some(r) => round(r, 0),
        None => 10.0,
    };
    if !(2.0..=36.0).contains(&radix) {
        return Err(Error::new("D3100").value(js_string(radix)));
    }
    let radix = radix as u32;
    let mut n = value.abs() as u128;
    let mut digits = Vec::new();
    loop {
        digits.push(std::char::from_digit((n % radix as u128) as u32, radix).unwrap_or('0'));
        n /= radix as u128;
        if n == 0 {
            break;
        }
    }
    if value < 0.0 {
        digits.push('-');
    }
    Ok(Value::String(digits.into_iter().rev().collect::<String>().into()))
}

fn boolean_fn(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(super::boolean(arg(args, 0))?.map(Value::Bool).unwrap_or_default())
}
