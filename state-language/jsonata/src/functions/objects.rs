//! Object functions, types and errors.

use super::{Entry, arg};
use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::value::{FrameId, Object, Value, append};

pub(super) const ENTRIES: [Entry; 11] = [
    ("keys", "<x-:a<s>>", 1, keys),
    ("lookup", "<x-s:x>", 2, lookup),
    ("spread", "<x-:a<o>>", 1, spread),
    ("merge", "<a<o>:o>", 1, merge),
    ("each", "<o-f:a>", 2, each),
    ("sift", "<o-f?:o>", 2, sift),
    ("type", "<x:s>", 1, type_fn),
    ("error", "<s?:x>", 1, error),
    ("assert", "<bs?:x>", 2, assert),
    ("clone", "<(oa)-:o>", 1, clone),
    ("eval", "<sx?:x>", 2, eval),
];

fn key_list(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.items.iter().for_each(|i| key_list(i, out)),
        Value::Object(o) => {
            for k in o.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        _ => {}
    }
}

fn keys(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let mut out = Vec::new();
    key_list(arg(args, 0), &mut out);
    Ok(Value::sequence(out.into_iter().map(|k| Value::String(k.into())).collect()))
}

fn lookup(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let key = arg(args, 1).as_str().unwrap_or("");
    Ok(crate::eval::lookup_field(arg(args, 0), key))
}

fn spread_of(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut result = Value::sequence(Vec::new());
            for i in &a.items {
                result = append(result, spread_of(i));
            }
            result
        }
        Value::Object(o) => Value::sequence(
            o.iter()
                .map(|(k, v)| {
                    let mut one = Object::new();
                    one.insert(k.clone(), v.clone());
                    Value::object(one)
                })
                .collect(),
        ),
        v => v.clone(),
    }
}

fn spread(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(spread_of(arg(args, 0)))
}

fn merge(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Value::Array(a) = arg(args, 0) else { return Ok(Value::Undefined) };
    let mut out = Object::new();
    for item in &a.items {
        if let Value::Object(o) = item {
            for (k, v) in o.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Value::object(out))
}

/// The arguments a callback wants: the value, then its key (or index), then the whole.
pub(super) fn callback_args(f: &Value, first: Value, second: Value, third: &Value) -> Vec<Value> {
    let n = super::arity(f);
    let mut args = vec![first];
    if n >= 2 {
        args.push(second);
    }
    if n >= 3 {
        args.push(third.clone());
    }
    args
}

fn each(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let (obj, f) = (arg(args, 0), arg(args, 1));
    let mut out = Vec::new();
    if let Value::Object(o) = obj {
        for (k, v) in o.iter() {
            let a = callback_args(f, v.clone(), Value::string(k), obj);
            let r = ev.apply(f, a, &Value::Null, env)?;
            if !r.is_undefined() {
                out.push(r);
            }
        }
    }
    Ok(Value::sequence(out))
}

fn sift(ev: &mut Evaluator, args: &[Value], _: &Value, env: FrameId) -> Result<Value> {
    let (obj, f) = (arg(args, 0), arg(args, 1));
    let mut out = Object::new();
    if let Value::Object(o) = obj {
        for (k, v) in o.iter() {
            let a = callback_args(f, v.clone(), Value::string(k), obj);
            let r = ev.apply(f, a, &Value::Null, env)?;
            if super::boolean(&r)? == Some(true) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(if out.is_empty() { Value::Undefined } else { Value::object(out) })
}

fn type_fn(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(match arg(args, 0) {
        Value::Undefined => Value::Undefined,
        Value::Null => Value::string("null"),
        Value::Number(n) if n.is_nan() => Value::string("object"),
        v @ Value::Number(_) => {
            v.as_number()?;
            Value::string("number")
        }
        Value::String(_) => Value::string("string"),
        Value::Bool(_) => Value::string("boolean"),
        Value::Array(_) => Value::string("array"),
        Value::Function(_) => Value::string("function"),
        Value::Object(_) => Value::string("object"),
    })
}

fn error(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let message = arg(args, 0).as_str().filter(|m| !m.is_empty()).unwrap_or("$error() function evaluated");
    Err(Error::new("D3137").detail(message))
}

fn assert(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    if !matches!(arg(args, 0), Value::Bool(true)) {
        let message = arg(args, 1).as_str().filter(|m| !m.is_empty()).unwrap_or("$assert() statement failed");
        return Err(Error::new("D3141").detail(message));
    }
    Ok(Value::Undefined)
}

/// A deep copy through JSON text, as the reference makes it.
fn clone(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let v = arg(args, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    let text = crate::number::stringify(v, false);
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::new("U1003").detail(e.to_string()))?;
    Ok(Value::from_json(&json))
}

fn eval(ev: &mut Evaluator, args: &[Value], input: &Value, env: FrameId) -> Result<Value> {
    let Some(text) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    let focus = match arg(args, 1) {
        Value::Undefined => input.clone(),
        Value::Array(a) if !a.sequence => Value::Array(std::rc::Rc::new(crate::value::Array {
            items: vec![Value::Array(a.clone())],
            sequence: true,
            outer_wrapper: true,
            ..Default::default()
        })),
        v => v.clone(),
    };
    let ast = crate::parser::parse(text)
        .map_err(|e| Error::new("D3120").value(crate::number::stringify(&Value::string(&e.message()), false)))?;
    ev.evaluate(&ast, &focus, env)
        .map_err(|e| Error::new("D3121").value(crate::number::stringify(&Value::string(&e.message()), false)))
}
