//! Binary operators with JSONata's treatment of `undefined`.

use super::Evaluator;
use crate::ast::Node;
use crate::error::{Error, Result};
use crate::number::stringify;
use crate::value::{FrameId, Value};

/// The largest sequence `..` builds (the reference's limit).
pub const RANGE_ITEMS_MAX: f64 = 1e7;

impl Evaluator {
    pub(super) fn binary(
        &mut self,
        node: &Node,
        op: &'static str,
        lhs: &Node,
        rhs: &Node,
        input: &Value,
        env: FrameId,
    ) -> Result<Value> {
        let l = self.evaluate(lhs, input, env)?;
        let locate = |e: Error| e.at(node.position).token(op);
        if op == "and" || op == "or" {
            let lb = boolize(&l).map_err(locate)?;
            let result = match (op, lb) {
                ("and", false) => false,
                ("or", true) => true,
                _ => {
                    let r = self.evaluate(rhs, input, env)?;
                    boolize(&r).map_err(locate)?
                }
            };
            return Ok(Value::Bool(result));
        }
        let r = self.evaluate(rhs, input, env)?;
        if op == ".." {
            // Charged before it is built: a range is the cheapest way to ask for memory.
            if let (Value::Number(a), Value::Number(b)) = (&l, &r)
                && b >= a
                && (b - a) < RANGE_ITEMS_MAX
            {
                self.charge((b - a + 1.0) as usize).map_err(locate)?;
            }
            return operate(op, &l, &r).map_err(locate);
        }
        let result = operate(op, &l, &r).map_err(locate)?;
        self.charge_value(&result).map_err(locate)?;
        Ok(result)
    }
}

/// The operators other than `and`/`or`, on evaluated operands.
fn operate(op: &'static str, l: &Value, r: &Value) -> Result<Value> {
    match op {
        "+" | "-" | "*" | "/" | "%" => numeric(l, r, op),
        "=" => Ok(Value::Bool(!l.is_undefined() && !r.is_undefined() && l.deep_equal(r))),
        "!=" => Ok(Value::Bool(!l.is_undefined() && !r.is_undefined() && !l.deep_equal(r))),
        "<" | "<=" | ">" | ">=" => compare(l, r, op),
        "&" => {
            let ls = crate::functions::string(l, false)?;
            let rs = crate::functions::string(r, false)?;
            Ok(Value::String(format!("{}{}", ls.as_deref().unwrap_or(""), rs.as_deref().unwrap_or("")).into()))
        }
        ".." => range(l, r),
        "in" => {
            Ok(Value::Bool(!l.is_undefined() && !r.is_undefined() && r.members().iter().any(|v| v.strict_equal(l))))
        }
        _ => Err(Error::new("S0204").token(op)),
    }
}

fn boolize(v: &Value) -> Result<bool> {
    Ok(crate::functions::boolean(v)? == Some(true))
}

fn numeric(l: &Value, r: &Value, op: &str) -> Result<Value> {
    let ln = l.as_number()?;
    if !l.is_undefined() && ln.is_none() {
        return Err(Error::new("T2001").value(stringify(l, false)));
    }
    let rn = r.as_number()?;
    if !r.is_undefined() && rn.is_none() {
        return Err(Error::new("T2002").value(stringify(r, false)));
    }
    let (Some(a), Some(b)) = (ln, rn) else { return Ok(Value::Undefined) };
    Ok(Value::Number(match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        _ => a % b,
    }))
}

fn compare(l: &Value, r: &Value, op: &str) -> Result<Value> {
    let comparable = |v: &Value| matches!(v, Value::Undefined | Value::String(_) | Value::Number(_));
    if !comparable(l) || !comparable(r) {
        let bad = if matches!(l, Value::String(_) | Value::Number(_)) { r } else { l };
        return Err(Error::new("T2010").value(stringify(bad, false)));
    }
    if l.is_undefined() || r.is_undefined() {
        return Ok(Value::Undefined);
    }
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::String(a), Value::String(b)) => Some(crate::functions::js_compare(a, b)),
        _ => return Err(Error::new("T2009").value(stringify(l, false)).value2(stringify(r, false))),
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(Value::Bool(match (op, ord) {
        (_, None) => false,
        ("<", Some(o)) => o == Less,
        ("<=", Some(o)) => o != Greater,
        (">", Some(o)) => o == Greater,
        (_, Some(o)) => o != Less || o == Equal,
    }))
}

fn range(l: &Value, r: &Value) -> Result<Value> {
    let integer = |v: &Value| matches!(v, Value::Number(n) if n.fract() == 0.0 && n.is_finite());
    if !l.is_undefined() && !integer(l) {
        return Err(Error::new("T2003").value(stringify(l, false)));
    }
    if !r.is_undefined() && !integer(r) {
        return Err(Error::new("T2004").value(stringify(r, false)));
    }
    let (Value::Number(a), Value::Number(b)) = (l, r) else { return Ok(Value::Undefined) };
    if a > b {
        return Ok(Value::Undefined);
    }
    let size = b - a + 1.0;
    if size > RANGE_ITEMS_MAX {
        return Err(Error::new("D2014").value(crate::number::js_string(size)));
    }
    let (a, b) = (*a as i64, *b as i64);
    Ok(Value::sequence((a..=b).map(|i| Value::Number(i as f64)).collect()))
}
