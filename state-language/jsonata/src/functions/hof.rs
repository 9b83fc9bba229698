//! Higher-order functions.

use super::objects::callback_args;
use super::{Entry, arg};
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::value::{FrameId, Value};

pub(super) const ENTRIES: [Entry; 4] = [
    ("map", "<af>", 2, map),
    ("filter", "<af>", 2, filter),
    ("single", "<af?>", 2, single),
    ("reduce", "<afj?:j>", 3, reduce),
];

fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Undefined => None,
        v => Some(v.members()),
    }
}

fn map(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let (list, f) = (arg(args, 0), arg(args, 1));
    let Some(items) = items(list) else { return Ok(Value::Undefined) };
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.into_iter().enumerate() {
        let a = callback_args(f, v, Value::Number(i as f64), list);
        let r = ev.apply(f, a, &Value::Null, env)?;
        if !r.is_undefined() {
            out.push(r);
        }
    }
    Ok(Value::sequence(out))
}

fn filter(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let (list, f) = (arg(args, 0), arg(args, 1));
    let Some(items) = items(list) else { return Ok(Value::Undefined) };
    let mut out = Vec::new();
    for (i, v) in items.into_iter().enumerate() {
        let a = callback_args(f, v.clone(), Value::Number(i as f64), list);
        let r = ev.apply(f, a, &Value::Null, env)?;
        if super::boolean(&r)? == Some(true) {
            out.push(v);
        }
    }
    Ok(Value::sequence(out))
}

fn single(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let (list, f) = (arg(args, 0), arg(args, 1));
    let Some(items) = items(list) else { return Ok(Value::Undefined) };
    let mut found = None;
    for (i, v) in items.into_iter().enumerate() {
        let positive = if f.is_undefined() {
            true
        } else {
            let a = callback_args(f, v.clone(), Value::Number(i as f64), list);
            let r = ev.apply(f, a, &Value::Null, env)?;
            super::boolean(&r)? == Some(true)
        };
        if positive {
            if found.is_some() {
                return Err(Error::new("D3138").index(i));
            }
            found = Some(v);
        }
    }
    found.ok_or_else(|| Error::new("D3139"))
}

fn reduce(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let (list, f, init) = (arg(args, 0), arg(args, 1), arg(args, 2));
    let Some(items) = items(list) else { return Ok(Value::Undefined) };
    let n = super::arity(f);
    if n < 2 {
        return Err(Error::new("D3050").index(1));
    }
    let (mut acc, start) =
        if init.is_undefined() && !items.is_empty() { (items[0].clone(), 1) } else { (init.clone(), 0) };
    for (i, v) in items.iter().enumerate().skip(start) {
        let mut a = vec![acc, v.clone()];
        if n >= 3 {
            a.push(Value::Number(i as f64));
        }
        if n >= 4 {
            a.push(list.clone());
        }
        acc = ev.apply(f, a, &Value::Null, env)?;
    }
    Ok(acc)
}
