//! JSONata in definitions: a string `{% … %}` is an expression, parsed once
//! when the definition is validated; any other value is itself.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

/// One `{% … %}` expression.
#[derive(Debug)]
pub struct Expr {
    /// The text between the delimiters, as AWS quotes it in errors.
    pub text: String,
    pub compiled: jsonata::Expression,
    /// The variables it reads (`states`, workflow variables, functions).
    pub variables: BTreeSet<String>,
    /// Whether it may read `$states.context` (building it is not free).
    pub uses_context: bool,
}

impl Expr {
    /// Parses the text inside `{% … %}`.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let compiled = jsonata::Expression::parse(text).map_err(|e| format!("{}: {}", e.code, e.message()))?;
        let variables = compiled.variables();
        let uses_context = variables.contains("states") && (text.contains("context") || whole_states(text));
        Ok(Expr { text: text.to_string(), compiled, variables, uses_context })
    }
}

/// The expression inside a `{% … %}` string, if it is one.
pub fn expression_text(s: &str) -> Option<&str> {
    Some(s.strip_prefix("{%")?.strip_suffix("%}")?.trim())
}

/// A JSONata state's field value: JSON whose strings may be expressions.
#[derive(Debug, Clone)]
pub enum Jt {
    /// No expression anywhere inside: used as it is.
    Literal(Value),
    Expr(Arc<Expr>),
    Object(Vec<(String, Jt)>),
    Array(Vec<Jt>),
}

impl Jt {
    /// Compiles a field value; errors are (JSON pointer suffix, message).
    pub fn compile(v: &Value, depth: usize) -> Result<Jt, (String, String)> {
        if depth > crate::limits::JSON_DEPTH_MAX {
            return Err((String::new(), "value nested too deeply".into()));
        }
        Ok(match v {
            Value::String(s) => match expression_text(s) {
                Some(text) => Jt::Expr(Arc::new(
                    Expr::parse(text)
                        .map_err(|e| (String::new(), format!("The JSONata expression '{text}' is not valid: {e}")))?,
                )),
                None => Jt::Literal(v.clone()),
            },
            Value::Object(m) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, item) in m {
                    let t = Jt::compile(item, depth + 1)
                        .map_err(|(p, msg)| (format!("/{}{p}", crate::validate::escape_pointer(k)), msg))?;
                    out.push((k.clone(), t));
                }
                if out.iter().all(|(_, t)| matches!(t, Jt::Literal(_))) {
                    Jt::Literal(v.clone())
                } else {
                    Jt::Object(out)
                }
            }
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, item) in a.iter().enumerate() {
                    out.push(Jt::compile(item, depth + 1).map_err(|(p, msg)| (format!("/{i}{p}"), msg))?);
                }
                if out.iter().all(|t| matches!(t, Jt::Literal(_))) { Jt::Literal(v.clone()) } else { Jt::Array(out) }
            }
            other => Jt::Literal(other.clone()),
        })
    }
}

/// Whether `$states` is read as a whole (`{% $states %}`), which shows its context too.
fn whole_states(text: &str) -> bool {
    text.match_indices("$states").any(|(i, m)| {
        let rest = &text[i + m.len()..];
        !["input", "result", "errorOutput"].iter().any(|f| rest.strip_prefix('.').is_some_and(|r| r.starts_with(f)))
    })
}
