//! Reading values through a path.

use serde_json::Value;

use super::{Path, PathFunction, Segment, Selector, filter};
use crate::limits;

/// A path that selects nothing where a value is required.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    /// Jayway's `PathNotFoundException` text.
    #[error("{0}")]
    NotFound(String),
    #[error("Function {function} cannot be applied to {found}")]
    Function { function: String, found: String },
}

impl Path {
    /// Reads the path from `base`, whatever its root names. Definite paths give
    /// the one value or `NotFound`; indefinite paths give an array (maybe empty).
    pub fn read(&self, base: &Value) -> Result<Value, PathError> {
        let (body, func) = match self.segments.last() {
            Some(Segment::Function(f)) => (&self.segments[..self.segments.len() - 1], Some(*f)),
            _ => (&self.segments[..], None),
        };
        let definite = self.is_definite();
        let mut nodes: Vec<&Value> = vec![base];
        for (i, seg) in body.iter().enumerate() {
            let mut next = Vec::new();
            for node in nodes {
                match seg {
                    Segment::Child(sel) => select(sel, node, base, &mut next),
                    Segment::Descendant(sel) => {
                        let mut all = Vec::new();
                        descendants(node, &mut all, 0);
                        for n in all {
                            select(sel, n, base, &mut next);
                        }
                    }
                    Segment::Function(_) => {}
                }
            }
            if definite && next.is_empty() {
                let msg = if i + 1 == body.len() {
                    format!("No results for path: {}", self.normalized(i + 1))
                } else {
                    format!("Missing property in path {}", self.normalized(i + 1))
                };
                return Err(PathError::NotFound(msg));
            }
            nodes = next;
        }
        let value = if definite {
            nodes.first().map(|v| (*v).clone()).unwrap_or(Value::Null)
        } else {
            Value::Array(nodes.into_iter().cloned().collect())
        };
        match func {
            None => Ok(value),
            Some(f) => apply(f, value),
        }
    }
}

fn select<'v>(sel: &Selector, node: &'v Value, root: &Value, out: &mut Vec<&'v Value>) {
    match (sel, node) {
        (Selector::Name(n), Value::Object(m)) => out.extend(m.get(n)),
        (Selector::Names(ns), Value::Object(m)) => out.extend(ns.iter().filter_map(|n| m.get(n))),
        (Selector::Index(i), Value::Array(a)) => out.extend(index(a, *i)),
        (Selector::Indexes(is), Value::Array(a)) => out.extend(is.iter().filter_map(|i| index(a, *i))),
        (Selector::Wildcard, Value::Array(a)) => out.extend(a.iter()),
        (Selector::Wildcard, Value::Object(m)) => out.extend(m.values()),
        (Selector::Slice { start, end, step }, Value::Array(a)) => slice(a, *start, *end, *step, out),
        (Selector::Filter(e), Value::Array(a)) => out.extend(a.iter().filter(|x| filter::test(e, x, root))),
        (Selector::Filter(e), v @ Value::Object(_)) if filter::test(e, v, root) => out.push(v),
        _ => {}
    }
}

fn index(a: &[Value], i: i64) -> Option<&Value> {
    let len = a.len() as i64;
    let i = if i < 0 { len + i } else { i };
    if (0..len).contains(&i) { a.get(i as usize) } else { None }
}

fn slice<'v>(a: &'v [Value], start: Option<i64>, end: Option<i64>, step: Option<i64>, out: &mut Vec<&'v Value>) {
    let len = a.len() as i64;
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    let step = step.unwrap_or(1).max(1);
    let (s, e) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
    let mut i = s;
    while i < e {
        out.push(&a[i as usize]);
        i += step;
    }
}

fn descendants<'v>(v: &'v Value, out: &mut Vec<&'v Value>, depth: usize) {
    if depth > limits::JSON_DEPTH_MAX {
        return;
    }
    out.push(v);
    match v {
        Value::Array(a) => a.iter().for_each(|x| descendants(x, out, depth + 1)),
        Value::Object(m) => m.values().for_each(|x| descendants(x, out, depth + 1)),
        _ => {}
    }
}

fn apply(f: PathFunction, v: Value) -> Result<Value, PathError> {
    let name = format!("{f:?}").to_lowercase();
    let fail = |v: &Value| PathError::Function { function: name.clone(), found: crate::json::type_name(v).into() };
    let nums = |v: &Value| -> Option<Vec<f64>> { v.as_array()?.iter().map(Value::as_f64).collect() };
    Ok(match f {
        PathFunction::Length => match &v {
            Value::Array(a) => a.len().into(),
            Value::Object(o) => o.len().into(),
            Value::String(s) => s.chars().count().into(),
            _ => return Err(fail(&v)),
        },
        PathFunction::First => v.as_array().and_then(|a| a.first()).cloned().ok_or_else(|| fail(&v))?,
        PathFunction::Last => v.as_array().and_then(|a| a.last()).cloned().ok_or_else(|| fail(&v))?,
        PathFunction::Keys => match &v {
            Value::Object(o) => Value::Array(o.keys().map(|k| Value::String(k.clone())).collect()),
            _ => return Err(fail(&v)),
        },
        PathFunction::Min | PathFunction::Max | PathFunction::Avg | PathFunction::Sum | PathFunction::Stddev => {
            let xs = nums(&v).filter(|x| !x.is_empty()).ok_or_else(|| fail(&v))?;
            let n = xs.len() as f64;
            let sum: f64 = xs.iter().sum();
            let r = match f {
                PathFunction::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
                PathFunction::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                PathFunction::Sum => sum,
                PathFunction::Avg => sum / n,
                _ => (xs.iter().map(|x| (x - sum / n).powi(2)).sum::<f64>() / n).sqrt(),
            };
            crate::json::number(r)
        }
    })
}
