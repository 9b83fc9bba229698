//! Numbers a state reads literally or through a `…Path` field
//! (Wait seconds, task timeouts, MaxConcurrency, tolerated failures).

use serde_json::Value;

use super::context::Where;
use super::io::{self, Raised, with_scope};
use super::run::Runtime;
use crate::Error;
use crate::definition::{Amount, State};
use crate::intrinsics::Env;
use crate::limits;

type Res<T> = Result<T, Result<Raised, Error>>;

/// What kind of number a field takes; AWS names it in its error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Number {
    Integer,
    Float,
}

impl Runtime<'_> {
    /// Reads `a`. A path may point at a number or at a string holding one
    /// ("1"), as AWS accepts; anything else is AWS's runtime error.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn number(
        &mut self,
        f: u64,
        state: &State,
        a: &Amount,
        field: &str,
        input: &Value,
        entered: u64,
        kind: Number,
    ) -> Res<f64> {
        let parse = |v: &Value| match (v, kind) {
            (Value::Number(n), Number::Float) => n.as_f64(),
            (Value::Number(n), Number::Integer) => n.as_i64().map(|i| i as f64),
            (Value::String(s), Number::Float) => s.trim().parse::<f64>().ok(),
            (Value::String(s), Number::Integer) => s.trim().parse::<i64>().ok().map(|i| i as f64),
            _ => None,
        };
        match a {
            Amount::Jsonata(e) => {
                let entered_ms = self.frame(f).map_or(0, |fr| fr.entered_ms);
                let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
                let states = super::jsonata::StatesVar::input(input);
                let v = self.eval_expr(f, state, e, field, states, at).map_err(Ok)?;
                parse(&v).ok_or_else(|| {
                    let want = if kind == Number::Float { "number" } else { "integer" };
                    let text = super::jsonata::unexpected_type(e, field, want, &v);
                    Ok(self.query_error(f, state, Some(field), text))
                })
            }
            Amount::Literal(v) => parse(v).ok_or_else(|| {
                let kind = if kind == Number::Float { "a number" } else { "an integer" };
                Ok(io::runtime(&state.name, entered, format!("The {field} field must be {kind}")))
            }),
            Amount::Path(p) => {
                let at = Where { state_name: &state.name, ..Where::default() };
                let v = with_scope(self.exec, f, input, at, |s| s.read(p))
                    .map_err(|e| Ok(io::runtime(&state.name, entered, format!("Invalid path '{}' : {e}", p.text))))?;
                parse(&v).ok_or_else(|| {
                    let kind = if kind == Number::Float { "float" } else { "integer" };
                    let shown = crate::json::shown(&v);
                    let msg = format!(
                        "The {field}Path field refers to value \"{shown}\" which is not a valid {kind}: {}",
                        p.text
                    );
                    Ok(io::runtime(&state.name, entered, msg))
                })
            }
        }
    }

    /// A whole number of seconds or items: non-negative and at most `SECONDS_MAX`.
    pub(super) fn amount(
        &mut self,
        f: u64,
        state: &State,
        a: &Amount,
        field: &str,
        input: &Value,
        entered: u64,
    ) -> Res<u64> {
        let x = self.number(f, state, a, field, input, entered, Number::Integer)?;
        if !(0.0..=limits::SECONDS_MAX as f64).contains(&x) {
            let msg = format!("The {field} value {x} must be between 0 and {}", limits::SECONDS_MAX);
            return Err(Ok(io::runtime(&state.name, entered, msg)));
        }
        Ok(x as u64)
    }
}
