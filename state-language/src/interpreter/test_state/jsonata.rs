//! TestState for JSONata states: `Arguments` in, the mocked result through
//! `Output` and `Assign`, Catch's `Output` over `$states.errorOutput`.

use serde_json::Value;

use super::{Tester, at};
use crate::definition::{Kind, State};
use crate::interpreter::context::Where;
use crate::interpreter::io::Raised;
use crate::interpreter::jsonata::StatesVar;

/// `$$` as a JSONata state sees it: `RetryCount` only where retries happen.
pub(super) fn at_jsonata<'s>(state: &'s State, req: &super::TestRequest) -> Where<'s> {
    let retries = matches!(state.kind, Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. });
    Where { retry_count: retries.then_some(req.retrier_retry_count), ..at(state, req) }
}

impl Tester<'_, '_> {
    pub(super) fn run_jsonata(&mut self) -> Result<(), Raised> {
        let (f, st) = (self.f, self.state);
        let input = self.req.input.clone();
        let at = at_jsonata(st, self.req);
        let states = StatesVar::input(&input);
        let next = st.next.and_then(|n| self.name_of(n));
        let result = match &st.kind {
            Kind::Pass { .. } | Kind::Succeed | Kind::Wait(_) => {
                let (out, assign) = (st.io.output.as_ref(), st.io.assign_jsonata.as_ref());
                let (output, assigned) = self.rt.output_and_assign(f, st, out, assign, states, at)?;
                self.assigned(assigned);
                return self.succeed(output, next);
            }
            Kind::Fail { error, cause } => {
                let e = self.rt.fail_text(f, st, error, "Error", &input, 0)?;
                let c = self.rt.fail_text(f, st, cause, "Cause", &input, 0)?;
                self.out.status = "FAILED";
                self.out.error = e;
                self.out.cause = c;
                return Ok(());
            }
            Kind::Choice { rules, default } => {
                let mut chosen = None;
                for b in rules {
                    if self.rt.test_rule(f, st, &b.rule, &input, 0).map_err(flatten)? {
                        chosen = Some(b);
                        break;
                    }
                }
                let (next, out, assign) = match (chosen, default) {
                    (Some(b), _) => (b.next, b.output.as_ref(), b.assign_jsonata.as_ref()),
                    (None, Some(d)) => (*d, st.io.output.as_ref(), st.io.assign_jsonata.as_ref()),
                    (None, None) => return Err(Raised::new("States.NoChoiceMatched", "No Matches!")),
                };
                let (output, assigned) = self.rt.output_and_assign(f, st, out, assign, states, at)?;
                self.assigned(assigned);
                return self.succeed(output, self.name_of(next));
            }
            Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. } => {
                if let Kind::Map(spec) = &st.kind {
                    let items = match &spec.item_reader {
                        Some(_) => self.req.map_item_reader_data.clone().unwrap_or(Value::Array(Vec::new())),
                        None => Value::Array(self.rt.jsonata_items(f, st, spec, &input).map_err(flatten)?),
                    };
                    self.map_limits(spec, &input, &items)?;
                }
                if let Some(jt) = &st.io.arguments {
                    let args = self.rt.eval_jt(f, st, jt, "Arguments", states, at)?;
                    if matches!(st.kind, Kind::Task(_)) {
                        self.note("afterArguments", &args);
                    }
                }
                self.mocked()?
            }
        };
        self.note("result", &result);
        let states = StatesVar { input: &input, result: Some(&result), error_output: None };
        let (out, assign) = (st.io.output.as_ref(), st.io.assign_jsonata.as_ref());
        let (output, assigned) = self.rt.output_and_assign(f, st, out, assign, states, at)?;
        self.assigned(assigned);
        self.succeed(output, next)
    }

    /// Variables after the state's `Assign`, as the inspection data shows them.
    fn assigned(&mut self, assigned: Option<Value>) {
        let mut vars = self.req.variables.clone();
        if let Some(Value::Object(m)) = assigned {
            vars.extend(m);
        }
        if !vars.is_empty() {
            self.note("variables", &Value::Object(vars));
        }
    }

    /// A caught error's output: the catcher's `Output` over `$states.errorOutput`.
    pub(super) fn catch_output_jsonata(
        &mut self,
        catcher: &crate::definition::Catcher,
        error_output: &Value,
    ) -> Result<Value, Raised> {
        let (f, st) = (self.f, self.state);
        let input = self.req.input.clone();
        let at = at_jsonata(st, self.req);
        let states = StatesVar { input: &input, result: None, error_output: Some(error_output) };
        let (out, assign) = (catcher.output.as_ref(), catcher.assign_jsonata.as_ref());
        let (output, assigned) = self.rt.output_and_assign(f, st, out, assign, states, at)?;
        self.assigned(assigned);
        Ok(output)
    }
}

fn flatten(e: Result<Raised, crate::Error>) -> Raised {
    e.unwrap_or_else(|e| Raised::new("States.Runtime", e.to_string()))
}
