//! A JSONata 2.0 engine (the version AWS Step Functions uses), ported from
//! the reference implementation (jsonata-js 2.0.6, MIT licence) and checked
//! against its test suite.
//!
//! Pure: no I/O, no clock, no randomness. `$now()`/`$millis()` read
//! [`Options::now_millis`] and `$random()`/`$shuffle()` a seeded generator,
//! so the same expression, input and options always give the same result.

mod ast;
mod datetime;
mod error;
mod eval;
mod format;
mod functions;
mod lexer;
mod number;
mod parser;
mod process;
mod regex;
mod signature;
mod value;

use std::rc::Rc;

pub use error::{Error, Result};
pub use eval::{Evaluator, Options};
pub use functions::{Builtin, Imp};
pub use number::js_string;
pub use value::{FrameId, Object, Value};

impl Value {
    /// A host-provided function as a value, to bind as a variable.
    pub fn builtin(b: &'static Builtin) -> Value {
        Value::Function(Rc::new(value::Function::Builtin(b)))
    }
}

/// A parsed expression, ready to evaluate any number of times.
#[derive(Debug)]
pub struct Expression {
    ast: ast::Node,
}

impl Expression {
    pub fn parse(source: &str) -> Result<Expression> {
        Ok(Expression { ast: parser::parse(source)? })
    }

    /// The variables the expression refers to (without the `$`), so a host
    /// binds only those.
    pub fn variables(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        ast::variables(&self.ast, &mut out);
        out
    }

    /// Evaluates against `input` (`None` is undefined) with variables bound
    /// (names without the `$`); `None` when the result is undefined.
    pub fn evaluate_json(
        &self,
        input: Option<&serde_json::Value>,
        bindings: &[(&str, Value)],
        options: Options,
    ) -> Result<Option<serde_json::Value>> {
        let input = input.map(Value::from_json).unwrap_or_default();
        let v = self.evaluate(input, bindings, options)?;
        value::check_finite(&v)?;
        Ok(v.to_json())
    }

    pub fn evaluate(&self, input: Value, bindings: &[(&str, Value)], options: Options) -> Result<Value> {
        let mut ev = Evaluator::new(options);
        let root = ev.root();
        let env = ev.new_frame(root)?;
        for (name, value) in bindings {
            ev.bind(env, name, value.clone());
        }
        ev.bind(env, "$", input.clone());
        // An array document is one item, not a sequence to map over.
        let input = match input {
            Value::Array(a) if !a.sequence => Value::Array(Rc::new(value::Array {
                items: vec![Value::Array(a)],
                sequence: true,
                outer_wrapper: true,
                ..Default::default()
            })),
            v => v,
        };
        ev.evaluate(&self.ast, &input, env)
    }
}

#[cfg(test)]
mod tests {
    /// Definitions hold parsed expressions and are shared between threads.
    #[test]
    fn expressions_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Expression>();
    }
}
