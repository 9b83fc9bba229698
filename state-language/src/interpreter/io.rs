//! JSONPath input and output processing of one state.

use serde_json::{Map, Value};

use super::context::{Scope, Where};
use super::frame::Execution;
use crate::definition::Template;
use crate::definition::template::TemplateError;
use crate::intrinsics::{Env, EvalError};
use crate::path::Path;

/// A `States.*` error raised while a state runs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Raised {
    pub error: String,
    pub cause: String,
    /// Reported by a task rather than raised by the state: `States.ALL` may catch it.
    pub from_task: bool,
}

impl Raised {
    pub fn new(error: &str, cause: impl Into<String>) -> Self {
        Raised { error: error.to_string(), cause: cause.into(), from_task: false }
    }
}

/// Builds a scope over `input` for frame `f`. Destructures `exec` so the
/// entropy stream can be borrowed mutably beside the frame's variables.
pub(super) fn with_scope<R>(
    exec: &mut Execution,
    f: u64,
    input: &Value,
    at: Where<'_>,
    body: impl FnOnce(&mut Scope<'_>) -> R,
) -> R {
    let Execution { frames, entropy, context, input: exec_input, start_ms, context_override, .. } = exec;
    let empty = Map::new();
    let vars = frames.get(&f).map(|fr| &fr.vars).unwrap_or(&empty);
    let mut scope = Scope {
        input,
        vars,
        exec_input,
        start: context.as_ref(),
        start_ms: *start_ms,
        at,
        entropy,
        context_override: context_override.as_ref(),
    };
    body(&mut scope)
}

/// The message AWS prefixes to runtime errors of a state.
pub(super) fn runtime(state: &str, entered: u64, detail: impl std::fmt::Display) -> Raised {
    Raised::new(
        "States.Runtime",
        format!("An error occurred while executing the state '{state}' (entered at the event id #{entered}). {detail}"),
    )
}

/// InputPath / OutputPath: `null` gives `{}`, a missing path is a runtime error.
pub(super) fn select(scope: &mut Scope<'_>, path: Option<&Path>, state: &str, entered: u64) -> Result<Value, Raised> {
    match path {
        None => Ok(Value::Object(Map::new())),
        Some(p) if p.segments.is_empty() && p.root == crate::path::Root::Input => Ok(scope.input.clone()),
        Some(p) => scope.read(p).map_err(|e| {
            let detail = match e {
                EvalError::Path(pe) => format!("Invalid path '{}' : {pe}", p.text),
                other => other.to_string(),
            };
            runtime(state, entered, detail)
        }),
    }
}

/// Renders a payload template, mapping failures to AWS's errors.
pub(super) fn render(scope: &mut Scope<'_>, t: &Template, state: &str, entered: u64) -> Result<Value, Raised> {
    t.render(scope).map_err(|e| match e {
        TemplateError::PathNotFound { path, field } => {
            let input = crate::json::to_string(scope.input);
            runtime(
                state,
                entered,
                format!("The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"),
            )
        }
        TemplateError::Intrinsic { field, error } => match error {
            EvalError::Failure(msg) => Raised::new(
                "States.IntrinsicFailure",
                format!("An error occurred while executing the state '{state}' (entered at the event id #{entered}). The function '{field}' failed: {msg}"),
            ),
            other => runtime(state, entered, format!("The field '{field}' could not be evaluated: {other}")),
        },
    })
}

/// ResultPath: merge `result` into the raw state input.
pub(super) fn merge_result(
    raw: Value,
    result: Value,
    path: Option<&Path>,
    state: &str,
    entered: u64,
) -> Result<Value, Raised> {
    match path {
        None => Ok(raw),
        Some(p) if p.segments.is_empty() => Ok(result),
        Some(p) => p.write(raw, result).map_err(|e| {
            let mut r = runtime(state, entered, e.to_string());
            r.error = "States.ResultPathMatchFailure".into();
            r
        }),
    }
}
