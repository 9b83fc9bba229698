//! Evaluating JSONata in a running state: `$states` (input, result,
//! errorOutput, context), workflow variables and AWS's added functions are
//! bound; failures become `States.QueryEvaluationError` with AWS's messages
//! and an `EvaluationFailed` event.

mod states;

pub(super) use states::error_output;

use serde_json::{Map, Value};

use super::context::Where;
use super::events::{Details, EventType};
use super::io::{Raised, with_scope};
use super::run::Runtime;
use crate::definition::{Expr, Jt, State};
use crate::jsonata_functions as aws;
use crate::limits;

pub(super) const QUERY_ERROR: &str = "States.QueryEvaluationError";

/// What `$states` holds for an evaluation.
#[derive(Clone, Copy)]
pub(super) struct StatesVar<'a> {
    pub input: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
}

impl<'a> StatesVar<'a> {
    pub fn input(input: &'a Value) -> Self {
        StatesVar { input, result: None, error_output: None }
    }
}

pub(super) use crate::json::type_name;

/// AWS's message for an expression whose result has the wrong type.
pub(super) fn unexpected_type(e: &Expr, field: &str, want: &str, v: &Value) -> String {
    format!(
        "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected '{want}', but was '{}' for value: {}",
        e.text,
        type_name(v),
        crate::json::to_string(v)
    )
}

impl Runtime<'_> {
    /// A field value of a JSONata state: literals as they are, expressions
    /// evaluated, objects and arrays walked (`field` grows as `Output/key`).
    pub(super) fn eval_jt(
        &mut self,
        f: u64,
        state: &State,
        jt: &Jt,
        field: &str,
        states: StatesVar<'_>,
        at: Where<'_>,
    ) -> Result<Value, Raised> {
        match jt {
            Jt::Literal(v) => Ok(v.clone()),
            Jt::Expr(e) => self.eval_expr(f, state, e, field, states, at),
            Jt::Object(pairs) => {
                let mut out = Map::with_capacity(pairs.len());
                for (k, t) in pairs {
                    let v = self.eval_jt(f, state, t, &format!("{field}/{k}"), states, at)?;
                    out.insert(k.clone(), v);
                }
                Ok(Value::Object(out))
            }
            Jt::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    out.push(self.eval_jt(f, state, t, &format!("{field}/{i}"), states, at)?);
                }
                Ok(Value::Array(out))
            }
        }
    }

    /// One expression, which must give a JSON value.
    pub(super) fn eval_expr(
        &mut self,
        f: u64,
        state: &State,
        e: &Expr,
        field: &str,
        states: StatesVar<'_>,
        at: Where<'_>,
    ) -> Result<Value, Raised> {
        let v = self.eval_raw(f, state, e, field, states, at)?;
        match v {
            jsonata::Value::Undefined => Err(self.query_error(
                f,
                state,
                Some(field),
                format!("{} returned nothing (undefined).", quoted(e, field)),
            )),
            jsonata::Value::Function(_) => Err(self.query_error(
                f,
                state,
                Some(field),
                format!("{} returned an unsupported result type.", quoted(e, field)),
            )),
            v => Ok(v.to_json().unwrap_or(Value::Null)),
        }
    }

    /// Evaluates with the bindings the expression names; errors as AWS reports them.
    fn eval_raw(
        &mut self,
        f: u64,
        state: &State,
        e: &Expr,
        field: &str,
        states: StatesVar<'_>,
        at: Where<'_>,
    ) -> Result<jsonata::Value, Raised> {
        let mut bindings: Vec<(&str, jsonata::Value)> = Vec::with_capacity(e.variables.len());
        for name in &e.variables {
            let value = match name.as_str() {
                "states" => self.states_value(f, e, states, at),
                n => match self.exec.frames.get(&f).and_then(|fr| fr.vars.get(n)) {
                    Some(v) => jsonata::Value::from_json(v),
                    None => match aws::function(n) {
                        Some(v) => v,
                        None => continue,
                    },
                },
            };
            bindings.push((name, value));
        }
        let random_seed = if e.variables.iter().any(|v| aws::RANDOM.contains(&v.as_str())) {
            self.exec.entropy.next_u64()
        } else {
            0
        };
        let options = jsonata::Options {
            depth_max: limits::JSONATA_DEPTH_MAX,
            evaluations_max: limits::JSONATA_EVALUATIONS_MAX,
            now_millis: self.now_ms,
            random_seed,
            cells_max: limits::JSONATA_CELLS_MAX,
        };
        // Expressions read `$states`, not a document: the input is undefined.
        let result = e.compiled.evaluate(jsonata::Value::Undefined, &bindings, options);
        let v = result.map_err(|err| {
            let detail =
                format!("{} threw an error during evaluation. {}: {}", quoted(e, field), err.code, err.message());
            self.query_error(f, state, Some(field), detail)
        })?;
        if let Err(err) = check_finite(&v) {
            let detail =
                format!("{} threw an error during evaluation. {}: {}", quoted(e, field), err.code, err.message());
            return Err(self.query_error(f, state, Some(field), detail));
        }
        Ok(v)
    }

    fn states_value(&mut self, f: u64, e: &Expr, states: StatesVar<'_>, at: Where<'_>) -> jsonata::Value {
        let mut o = jsonata::Object::new();
        o.insert("input".into(), jsonata::Value::from_json(states.input));
        if e.uses_context {
            let ctx = with_scope(self.exec, f, states.input, at, |s| s.context());
            o.insert("context".into(), jsonata::Value::from_json(&ctx));
        }
        if let Some(r) = states.result {
            o.insert("result".into(), jsonata::Value::from_json(r));
        }
        if let Some(r) = states.error_output {
            o.insert("errorOutput".into(), jsonata::Value::from_json(r));
        }
        jsonata::Value::object(o)
    }

    /// `States.QueryEvaluationError` for the state, recorded as an
    /// `EvaluationFailed` event chained, as AWS chains it, to the event
    /// before the state was entered.
    pub(super) fn query_error(&mut self, f: u64, state: &State, location: Option<&str>, detail: String) -> Raised {
        let entered = self.exec.frames.get(&f).map_or(0, |fr| fr.entered_event_id);
        let cause = format!(
            "An error occurred while executing the state '{}' (entered at the event id #{entered}). {detail}",
            state.name
        );
        let silent = self.exec.frames.get(&f).is_some_and(|fr| fr.silent);
        if !silent {
            let id = self.exec.last_event_id + 1;
            let previous = self.exec.frames.get(&f).map_or(0, |fr| fr.entered_previous_event_id);
            self.exec.last_event_id = id;
            if let Some(fr) = self.exec.frames.get_mut(&f) {
                fr.last_event_id = id;
            }
            self.out.events.push(super::HistoryEvent {
                id,
                previous_event_id: previous,
                timestamp: self.now_ms,
                event_type: EventType::EvaluationFailed,
                details: Details::EvaluationFailed {
                    error: QUERY_ERROR.into(),
                    cause: cause.clone(),
                    location: location.map(str::to_string),
                    state: state.name.clone(),
                },
            });
        }
        Raised::new(QUERY_ERROR, cause)
    }
}

/// `The JSONata expression '<text>' specified for the field '<field>'`.
fn quoted(e: &Expr, field: &str) -> String {
    format!("The JSONata expression '{}' specified for the field '{field}'", e.text)
}

fn check_finite(v: &jsonata::Value) -> jsonata::Result<()> {
    match v {
        jsonata::Value::Number(n) if !n.is_finite() => Err(jsonata::Error::new("D1001").value(jsonata::js_string(*n))),
        jsonata::Value::Array(a) => a.items.iter().try_for_each(check_finite),
        jsonata::Value::Object(o) => o.values().try_for_each(check_finite),
        _ => Ok(()),
    }
}
