//! Payload templates: Parameters, ResultSelector, ItemSelector and JSONPath Assign.
//! Keys ending in `.$` take their value from a path or an intrinsic call.

use serde_json::{Map, Value};

use crate::intrinsics::{self, Call};
use crate::path::Path;

#[derive(Debug, Clone)]
pub enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// A `key.$` field read through a path. `field` is the original key, for messages.
    Path {
        path: Path,
        field: String,
    },
    Intrinsic {
        call: Call,
        field: String,
    },
}

/// What a template field failed on.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateError {
    /// A path selected nothing: AWS's message names the field and the input.
    PathNotFound {
        path: String,
        field: String,
    },
    Intrinsic {
        field: String,
        error: intrinsics::EvalError,
    },
}

impl Template {
    /// Compiles a template; errors are (json pointer suffix, message).
    pub fn compile(v: &Value, depth: usize) -> Result<Template, (String, String)> {
        if depth > crate::limits::JSON_DEPTH_MAX {
            return Err((String::new(), "template nested too deeply".into()));
        }
        Ok(match v {
            Value::Object(m) => {
                let mut out = Vec::with_capacity(m.len());
                let has_dynamic = m.keys().any(|k| k.ends_with(".$"));
                for (k, v) in m {
                    let ptr = format!("/{}", crate::validate::escape_pointer(k));
                    if let Some(name) = k.strip_suffix(".$") {
                        let Value::String(s) = v else {
                            // AWS locates a bad dynamic field at the object that holds it.
                            return Err((
                                String::new(),
                                format!(
                                    "The value for the field '{k}' must be a STRING that contains a JSONPath but was an {}",
                                    crate::json::type_name(v).to_uppercase()
                                ),
                            ));
                        };
                        let bad = || {
                            (
                                String::new(),
                                format!(
                                    "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                                ),
                            )
                        };
                        let t = if Call::looks_like(s) {
                            Template::Intrinsic { call: Call::parse(s).map_err(|_| bad())?, field: k.clone() }
                        } else {
                            Template::Path { path: Path::parse(s).map_err(|_| bad())?, field: k.clone() }
                        };
                        out.push((name.to_string(), t));
                    } else {
                        let t = Template::compile(v, depth + 1).map_err(|(p, m)| (format!("{ptr}{p}"), m))?;
                        out.push((k.clone(), t));
                    }
                }
                if !has_dynamic && out.iter().all(|(_, t)| matches!(t, Template::Literal(_))) {
                    Template::Literal(v.clone())
                } else {
                    Template::Object(out)
                }
            }
            Value::Array(a) => {
                let items = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| Template::compile(x, depth + 1).map_err(|(p, m)| (format!("/{i}{p}"), m)))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|t| matches!(t, Template::Literal(_))) {
                    Template::Literal(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Literal(other.clone()),
        })
    }

    /// Fills the template from `env`.
    pub fn render(&self, env: &mut dyn intrinsics::Env) -> Result<Value, TemplateError> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    m.insert(k.clone(), t.render(env)?);
                }
                Value::Object(m)
            }
            Template::Array(items) => Value::Array(items.iter().map(|t| t.render(env)).collect::<Result<_, _>>()?),
            Template::Path { path, field } => match env.read(path) {
                Ok(v) => v,
                Err(_) => return Err(TemplateError::PathNotFound { path: path.text.clone(), field: field.clone() }),
            },
            Template::Intrinsic { call, field } => {
                call.eval(env).map_err(|error| TemplateError::Intrinsic { field: field.clone(), error })?
            }
        })
    }
}
