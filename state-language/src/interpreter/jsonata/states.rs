//! JSONata states: `Arguments` in, `Output` and `Assign` out, each state
//! kind's expression fields, and Catch's `Output`/`Assign` over
//! `$states.errorOutput`.

use serde_json::{Map, Value};

use super::StatesVar;
use crate::Error;
use crate::definition::{Jt, Kind, State};
use crate::interpreter::context::Where;
use crate::interpreter::io::Raised;
use crate::interpreter::run::{Flow, Runtime};

type Res<T> = Result<T, Result<Raised, Error>>;

impl Runtime<'_> {
    /// Runs a JSONata state up to its exit (or until it waits).
    pub(in crate::interpreter) fn execute_jsonata(&mut self, f: u64, state: &State) -> Res<Flow> {
        let fr = self.frame(f).map_err(Err)?;
        let (input, entered, entered_ms) = (fr.input.clone(), fr.entered_event_id, fr.entered_ms);
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        match &state.kind {
            Kind::Pass { .. } | Kind::Succeed => {
                let states = StatesVar::input(&input);
                let (output, assigned) = self
                    .output_and_assign(f, state, state.io.output.as_ref(), state.io.assign_jsonata.as_ref(), states, at)
                    .map_err(Ok)?;
                if let Some(v) = assigned {
                    self.assign(f, v);
                }
                self.check_size(state, &output).map_err(Ok)?;
                self.leave(f, state, output).map_err(Err)
            }
            Kind::Fail { error, cause } => {
                let error = self.fail_text(f, state, error, "Error", &input, entered).map_err(Ok)?;
                let cause = self.fail_text(f, state, cause, "Cause", &input, entered).map_err(Ok)?;
                Ok(Flow::Failed(Raised {
                    error: error.unwrap_or_default(),
                    cause: cause.unwrap_or_default(),
                    from_task: false,
                }))
            }
            Kind::Choice { rules, default } => self.choice(f, state, rules, *default, input, entered),
            Kind::Wait(w) => self.wait(f, state, w, input, entered),
            Kind::Task(task) => self.schedule_task(f, state, task, input, entered),
            Kind::Parallel { branches } => self.start_parallel(f, state, branches, input, entered),
            Kind::Map(spec) => self.start_map(f, state, spec, input, entered),
        }
    }

    /// `Items` (default: the state input), which must be an array.
    pub(in crate::interpreter) fn jsonata_items(
        &mut self,
        f: u64,
        state: &State,
        spec: &crate::definition::MapSpec,
        input: &Value,
    ) -> Res<Vec<Value>> {
        let entered_ms = self.frame(f).map_err(Err)?.entered_ms;
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        let Some(jt) = &spec.items else {
            return match input {
                Value::Array(items) => Ok(items.clone()),
                other => {
                    let text = format!("Map state input must be an array but was: {}", crate::json::to_string(other));
                    Err(Ok(self.query_error(f, state, None, text)))
                }
            };
        };
        match self.eval_jt(f, state, jt, "Items", StatesVar::input(input), at).map_err(Ok)? {
            Value::Array(items) => Ok(items),
            other => {
                let text = match jt {
                    Jt::Expr(e) => super::unexpected_type(e, "Items", "array", &other),
                    _ => format!("The field 'Items' must be an array but was: {}", crate::json::to_string(&other)),
                };
                Err(Ok(self.query_error(f, state, Some("Items"), text)))
            }
        }
    }

    /// `Output` (default: the result, the error output or the input) and the
    /// values `Assign` gives; both read the variables as they were.
    pub(in crate::interpreter) fn output_and_assign(
        &mut self,
        f: u64,
        state: &State,
        output: Option<&Jt>,
        assign: Option<&Jt>,
        states: StatesVar<'_>,
        at: Where<'_>,
    ) -> Result<(Value, Option<Value>), Raised> {
        let assigned = match assign {
            Some(jt) => Some(self.eval_jt(f, state, jt, "Assign", states, at)?),
            None => None,
        };
        let output = match output {
            Some(jt) => self.eval_jt(f, state, jt, "Output", states, at)?,
            None => states.error_output.or(states.result).unwrap_or(states.input).clone(),
        };
        Ok((output, assigned))
    }

    /// A Task, Parallel or Map result through `Output` and `Assign`.
    pub(in crate::interpreter) fn process_result_jsonata(
        &mut self,
        f: u64,
        state: &State,
        result: Value,
    ) -> Result<Value, Raised> {
        let fr = self.frame(f).map_err(|e| Raised::new("States.Runtime", e.to_string()))?;
        let (input, entered_ms) = (fr.input.clone(), fr.entered_ms);
        self.check_size(state, &result)?;
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        let states = StatesVar { input: &input, result: Some(&result), error_output: None };
        let (output, assigned) =
            self.output_and_assign(f, state, state.io.output.as_ref(), state.io.assign_jsonata.as_ref(), states, at)?;
        if let Some(v) = assigned {
            self.assign(f, v);
        }
        self.check_size(state, &output)?;
        Ok(output)
    }

    /// A catcher's `Output` (default: the error output) and `Assign`.
    pub(in crate::interpreter) fn catch_output_jsonata(
        &mut self,
        f: u64,
        state: &State,
        catcher: &crate::definition::Catcher,
        error_output: &Value,
    ) -> Result<(Value, Option<Value>), Raised> {
        let fr = self.frame(f).map_err(|e| Raised::new("States.Runtime", e.to_string()))?;
        let (input, entered_ms) = (fr.input.clone(), fr.entered_ms);
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        let states = StatesVar { input: &input, result: None, error_output: Some(error_output) };
        self.output_and_assign(f, state, catcher.output.as_ref(), catcher.assign_jsonata.as_ref(), states, at)
    }

    /// `Condition`: a boolean, or an expression that gives one.
    pub(in crate::interpreter) fn condition(
        &mut self,
        f: u64,
        state: &State,
        jt: &Jt,
        input: &Value,
    ) -> Result<bool, Raised> {
        let entered_ms = self.frame(f).map_or(0, |fr| fr.entered_ms);
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        match self.eval_jt(f, state, jt, "Condition", StatesVar::input(input), at)? {
            Value::Bool(b) => Ok(b),
            other => {
                let text = match jt {
                    Jt::Expr(e) => super::unexpected_type(e, "Condition", "boolean", &other),
                    _ => format!("The field 'Condition' must be a boolean but was: {}", crate::json::to_string(&other)),
                };
                Err(self.query_error(f, state, Some("Condition"), text))
            }
        }
    }

    pub(in crate::interpreter) fn check_size(&self, state: &State, v: &Value) -> Result<(), Raised> {
        if crate::json::size_bytes(v) > self.limits.payload_bytes_max {
            return Err(Raised::new(
                "States.DataLimitExceeded",
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    state.name
                ),
            ));
        }
        Ok(())
    }
}

/// The error output a catcher sees: `{"Error", "Cause"}`.
pub(in crate::interpreter) fn error_output(raised: &Raised) -> Value {
    let mut err = Map::new();
    err.insert("Error".into(), Value::String(raised.error.clone()));
    err.insert("Cause".into(), Value::String(raised.cause.clone()));
    Value::Object(err)
}
