//! Array functions.

use super::{Entry, arg};
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::value::{FrameId, Value, append};

pub(super) const ENTRIES: [Entry; 6] = [
    ("append", "<xx:a>", 2, append_fn),
    ("reverse", "<a:a>", 1, reverse),
    ("sort", "<af?:a>", 2, sort),
    ("shuffle", "<a:a>", 1, shuffle),
    ("distinct", "<x:x>", 1, distinct),
    ("zip", "<a+>", 0, zip),
];

fn append_fn(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(append(arg(args, 0).clone(), arg(args, 1).clone()))
}

fn reverse(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    match arg(args, 0) {
        Value::Array(a) if a.items.len() > 1 => Ok(Value::array(a.items.iter().rev().cloned().collect())),
        v => Ok(v.clone()),
    }
}

fn sort(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let items = match arg(args, 0) {
        Value::Undefined => return Ok(Value::Undefined),
        Value::Array(a) if a.items.len() > 1 => a.items.clone(),
        v => return Ok(v.clone()),
    };
    let comparator = arg(args, 1).clone();
    let mut error = None;
    let sorted = if comparator.is_undefined() {
        let numbers = items.iter().all(|v| matches!(v, Value::Number(_)));
        let strings = items.iter().all(|v| matches!(v, Value::String(_)));
        if !numbers && !strings {
            return Err(Error::new("D3070").index(1));
        }
        super::merge_sort(items, &mut |a, b| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x > y,
            (Value::String(x), Value::String(y)) => super::js_compare(x, y).is_gt(),
            _ => false,
        })
    } else {
        super::merge_sort(items, &mut |a, b| {
            if error.is_some() {
                return false;
            }
            match ev.apply(&comparator, vec![a.clone(), b.clone()], &Value::Null, env) {
                Ok(v) => super::boolean(&v).ok().flatten() == Some(true),
                Err(e) => {
                    error = Some(e);
                    false
                }
            }
        })
    };
    match error {
        Some(e) => Err(e),
        None => Ok(Value::array(sorted)),
    }
}

fn shuffle(ev: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let items = match arg(args, 0) {
        Value::Array(a) if a.items.len() > 1 => a.items.clone(),
        v => return Ok(v.clone()),
    };
    // The reference's inside-out Fisher-Yates, on the seeded generator.
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let j = (ev.random() * (i + 1) as f64).floor() as usize;
        if j == i {
            out.push(item);
        } else {
            let moved = std::mem::replace(&mut out[j], item);
            out.push(moved);
        }
    }
    Ok(Value::array(out))
}

fn distinct(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let a = match arg(args, 0) {
        Value::Array(a) if a.items.len() > 1 => a,
        v => return Ok(v.clone()),
    };
    let mut out: Vec<Value> = Vec::new();
    for v in &a.items {
        if !out.iter().any(|o| o.deep_equal(v)) {
            out.push(v.clone());
        }
    }
    Ok(if a.sequence { Value::sequence(out) } else { Value::array(out) })
}

fn zip(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let len = args.iter().map(|a| a.as_array().map_or(0, |a| a.items.len())).min().unwrap_or(0);
    let rows = (0..len)
        .map(|i| {
            Value::array(args.iter().map(|a| a.as_array().map(|a| a.items[i].clone()).unwrap_or_default()).collect())
        })
        .collect();
    Ok(Value::array(rows))
}
