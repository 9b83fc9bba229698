//! Values: JSON plus `undefined` (no value, distinct from `null`), sequences
//! (arrays the evaluator flattens and unwraps) and functions.

use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::ast;
use crate::error::{Error, Result};

pub type Object = IndexMap<String, Value>;

#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(Rc<str>),
    Array(Rc<Array>),
    Object(Rc<Object>),
    Function(Rc<Function>),
}

/// An array and the flags the reference keeps on its arrays.
#[derive(Debug, Clone, Default)]
pub struct Array {
    pub items: Vec<Value>,
    /// A result sequence: flattened into its parent, one item stands for itself.
    pub sequence: bool,
    pub keep_singleton: bool,
    /// Built by an array constructor: never flattened.
    pub cons: bool,
    /// The input document was an array: wrapped so it counts as one item.
    pub outer_wrapper: bool,
    /// Items are tuples (objects of `@` and variable bindings).
    pub tuple_stream: bool,
}

/// Where a lambda's free variables live: a frame of the evaluation.
pub type FrameId = usize;

#[derive(Debug)]
pub enum Function {
    Lambda {
        def: Arc<ast::Lambda>,
        input: Value,
        env: FrameId,
    },
    Builtin(&'static crate::functions::Builtin),
    /// A built-in with some arguments given; `None` marks a `?`.
    Partial {
        function: Value,
        args: Vec<Option<Value>>,
    },
    Regex(Arc<crate::regex::Pattern>),
    Transform {
        def: Arc<ast::Transform>,
        env: FrameId,
    },
    /// `$f ~> $g` on two functions: `$g($f(x))`.
    Chain(Value, Value),
}

impl Value {
    pub fn string(s: &str) -> Value {
        Value::String(Rc::from(s))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(Array { items, ..Array::default() }))
    }

    pub fn sequence(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(Array { items, sequence: true, ..Array::default() }))
    }

    pub fn object(o: Object) -> Value {
        Value::Object(Rc::new(o))
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    pub fn is_function(&self) -> bool {
        matches!(self, Value::Function(_))
    }

    pub fn is_sequence(&self) -> bool {
        matches!(self, Value::Array(a) if a.sequence)
    }

    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A finite number; NaN is no number, and infinity is an error (D1001).
    pub fn as_number(&self) -> Result<Option<f64>> {
        match self {
            Value::Number(n) if n.is_nan() => Ok(None),
            Value::Number(n) if !n.is_finite() => Err(Error::new("D1001").value(crate::number::js_string(*n))),
            Value::Number(n) => Ok(Some(*n)),
            _ => Ok(None),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items of an array, or the value as one item (nothing for undefined).
    pub fn members(&self) -> Vec<Value> {
        match self {
            Value::Array(a) => a.items.clone(),
            Value::Undefined => Vec::new(),
            v => vec![v.clone()],
        }
    }

    /// Changes the array's flags (copying it if it is shared).
    pub fn with_flags(self, f: impl FnOnce(&mut Array)) -> Value {
        match self {
            Value::Array(mut a) => {
                f(Rc::make_mut(&mut a));
                Value::Array(a)
            }
            v => v,
        }
    }

    /// The type letter of a function signature.
    pub fn symbol(&self) -> char {
        match self {
            Value::Undefined => 'm',
            Value::Null => 'l',
            Value::Bool(_) => 'b',
            Value::Number(_) => 'n',
            Value::String(_) => 's',
            Value::Array(_) => 'a',
            Value::Object(_) => 'o',
            Value::Function(_) => 'f',
        }
    }

    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Value::string(s),
            Json::Array(a) => Value::array(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::object(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }

    /// JSON, as `JSON.stringify` sees it: undefined members dropped,
    /// functions as `""`, non-finite numbers as `null`. `None` for undefined.
    pub fn to_json(&self) -> Option<Json> {
        Some(match self {
            Value::Undefined => return None,
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => crate::number::to_json(*n),
            Value::String(s) => Json::String(s.to_string()),
            Value::Array(a) => Json::Array(a.items.iter().map(|v| v.to_json().unwrap_or(Json::Null)).collect()),
            Value::Object(o) => Json::Object(o.iter().filter_map(|(k, v)| Some((k.clone(), v.to_json()?))).collect()),
            Value::Function(_) => Json::String(String::new()),
        })
    }

    /// The reference's deep equality (`=`, `$distinct`).
    pub fn deep_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => {
                a.items.len() == b.items.len() && a.items.iter().zip(&b.items).all(|(x, y)| x.deep_equal(y))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.deep_equal(w)))
            }
            (Value::Function(a), Value::Function(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// `===` in JavaScript: by value for scalars, by identity otherwise.
    pub fn strict_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Array(a), Value::Array(b)) => Rc::ptr_eq(a, b),
            (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b),
            _ => self.deep_equal(other),
        }
    }
}

/// `fn.append`: the two values' members in one plain array (JavaScript's
/// `concat` keeps no flags), or one of them when the other is undefined.
pub fn append(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Undefined, b) => b,
        (a, Value::Undefined) => a,
        (a, b) => {
            let mut items = match a {
                Value::Array(arr) => Rc::try_unwrap(arr).map(|a| a.items).unwrap_or_else(|rc| rc.items.clone()),
                v => vec![v],
            };
            match b {
                Value::Array(arr) => items.extend(arr.items.iter().cloned()),
                v => items.push(v),
            }
            Value::array(items)
        }
    }
}

/// Infinity and NaN have no JSON form: D1001, as the reference reports them.
pub fn check_finite(v: &Value) -> Result<()> {
    match v {
        Value::Number(n) if !n.is_finite() => Err(Error::new("D1001").value(crate::number::js_string(*n))),
        Value::Array(a) => a.items.iter().try_for_each(check_finite),
        Value::Object(o) => o.values().try_for_each(check_finite),
        _ => Ok(()),
    }
}
