//! The built-in functions, each with the reference's signature and arity
//! (the number of parameters its JavaScript declares, which higher-order
//! functions use to decide how many arguments to pass).

mod arrays;
mod hof;
mod numbers;
mod objects;
mod strings;
mod text;

pub(crate) use numbers::round as round_to;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::signature::Signature;
use crate::value::{FrameId, Function, Value};

pub type Imp = fn(&mut Evaluator, &[Value], &Value, FrameId) -> Result<Value>;

pub struct Builtin {
    pub name: &'static str,
    pub signature: Signature,
    pub arity: usize,
    pub imp: Imp,
}

impl Builtin {
    /// A host-provided function (AWS's `$partition`, `$uuid`, …), bound as a
    /// variable of the evaluation. `arity` is how many arguments it wants
    /// when a higher-order function calls it.
    pub fn new(name: &'static str, signature: &str, arity: usize, imp: Imp) -> Result<Builtin> {
        Ok(Builtin { name, signature: Signature::parse(signature)?, arity, imp })
    }
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

pub(crate) type Entry = (&'static str, &'static str, usize, Imp);

fn entries() -> Vec<Entry> {
    let mut v: Vec<Entry> = Vec::new();
    v.extend(numbers::ENTRIES);
    v.extend(strings::ENTRIES);
    v.extend(text::ENTRIES);
    v.extend(arrays::ENTRIES);
    v.extend(objects::ENTRIES);
    v.extend(hof::ENTRIES);
    v.extend(crate::datetime::ENTRIES);
    v.push(("__regex_next", "<fsn>", 3, regex_next_imp));
    v
}

fn table() -> &'static HashMap<&'static str, Builtin> {
    static TABLE: OnceLock<HashMap<&'static str, Builtin>> = OnceLock::new();
    TABLE.get_or_init(|| {
        entries()
            .into_iter()
            .map(|(name, sig, arity, imp)| {
                // The signatures are constants of this file: a bad one is a bug caught by the tests.
                let signature = Signature::parse(sig).unwrap_or_else(|_| panic!("the signature of ${name}"));
                (name, Builtin { name, signature, arity, imp })
            })
            .collect()
    })
}

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    if name.starts_with("__") {
        return None;
    }
    table().get(name)
}

pub(crate) fn regex_next() -> &'static Builtin {
    &table()["__regex_next"]
}

/// `next()` of a regex match object: the following match, or D1004 when a
/// pattern that matches the empty string would never advance.
fn regex_next_imp(ev: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let (Some(Value::Function(f)), Some(Value::String(s)), Some(Value::Number(from))) =
        (args.first(), args.get(1), args.get(2))
    else {
        return Ok(Value::Undefined);
    };
    let Function::Regex(p) = &**f else { return Ok(Value::Undefined) };
    let from = *from as usize;
    if from >= s.len() {
        return Ok(Value::Undefined);
    }
    let next = crate::regex::match_object(ev, p, s, from)?;
    if let Value::Object(o) = &next
        && o.get("match").and_then(Value::as_str) == Some("")
    {
        return Err(Error::new("D1004").value(crate::number::stringify(&Value::string(&p.source), false)));
    }
    Ok(next)
}

/// How many arguments a function wants (JavaScript's `length`).
pub fn arity(f: &Value) -> usize {
    let Value::Function(f) = f else { return 0 };
    match &**f {
        Function::Lambda { def, .. } => def.params.len(),
        Function::Builtin(b) => b.arity,
        Function::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
        Function::Regex(_) => 2,
        Function::Transform { .. } | Function::Chain(..) => 1,
    }
}

/// `$boolean`: JSONata's truthiness; `None` for undefined.
pub fn boolean(v: &Value) -> Result<Option<bool>> {
    Ok(Some(match v {
        Value::Undefined => return Ok(None),
        Value::Array(a) => match a.items.len() {
            0 => false,
            1 => boolean(&a.items[0])? == Some(true),
            _ => {
                let mut any = false;
                for i in &a.items {
                    if boolean(i)? == Some(true) {
                        any = true;
                    }
                }
                any
            }
        },
        Value::String(s) => !s.is_empty(),
        Value::Number(_) => v.as_number()?.is_some_and(|n| n != 0.0),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(b) => *b,
        Value::Null | Value::Function(_) => false,
    }))
}

/// `$string`: strings as they are, functions as `""`, everything else as JSON
/// with 15 significant digits; `None` for undefined.
pub fn string(v: &Value, pretty: bool) -> Result<Option<String>> {
    Ok(Some(match v {
        Value::Undefined => return Ok(None),
        Value::String(s) => s.to_string(),
        Value::Function(_) => String::new(),
        Value::Number(n) if !n.is_finite() => {
            return Err(Error::new("D3001").value(crate::number::js_string(*n)));
        }
        Value::Array(a) if a.outer_wrapper && !a.items.is_empty() => {
            crate::value::check_finite(&a.items[0])?;
            crate::number::stringify(&a.items[0], pretty)
        }
        v => {
            crate::value::check_finite(v)?;
            crate::number::stringify(v, pretty)
        }
    }))
}

/// JavaScript's `<` on strings: by UTF-16 code units.
pub fn js_compare(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The reference's stable merge sort: `swap(a, b)` says `a` goes after `b`.
pub fn merge_sort<T>(items: Vec<T>, swap: &mut dyn FnMut(&T, &T) -> bool) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort(left, swap);
    let right = merge_sort(right, swap);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                if swap(a, b) {
                    out.extend(r.next());
                } else {
                    out.extend(l.next());
                }
            }
            (Some(_), None) => out.extend(l.by_ref()),
            (None, Some(_)) => out.extend(r.by_ref()),
            (None, None) => break,
        }
    }
    out
}

/// Shorthands for the implementations.
pub(crate) fn arg(args: &[Value], i: usize) -> &Value {
    const UNDEFINED: Value = Value::Undefined;
    args.get(i).unwrap_or(&UNDEFINED)
}

pub(crate) fn num(args: &[Value], i: usize) -> Result<Option<f64>> {
    arg(args, i).as_number()
}
