//! Fail, Choice and Wait states.

use serde_json::Value;

use super::context::Where;
use super::events::EventType;
use super::frame::{Timer, Wait};
use super::io::{self, Raised, with_scope};
use super::run::{Flow, Runtime};
use crate::Error;
use crate::definition::{Branch, QueryLanguage, Rule, State, StateId, Text, WaitFor};
use crate::intrinsics::Env;

type Res<T> = Result<T, Result<Raised, Error>>;

impl Runtime<'_> {
    pub(super) fn fail_text(
        &mut self,
        f: u64,
        state: &State,
        t: &Option<Text>,
        field: &str,
        input: &Value,
        entered: u64,
    ) -> Result<Option<String>, Raised> {
        let at = Where { state_name: &state.name, ..Where::default() };
        let v = match t {
            None => return Ok(None),
            Some(Text::Literal(s)) => return Ok(Some(s.clone())),
            Some(Text::Path(p)) => with_scope(self.exec, f, input, at, |s| s.read(p)).map_err(|_| {
                let msg = format!(
                    "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                    p.text,
                    crate::json::to_string(input)
                );
                io::runtime(&state.name, entered, msg)
            })?,
            Some(Text::Intrinsic(c)) => with_scope(self.exec, f, input, at, |s| c.eval(s))
                .map_err(|e| io::runtime(&state.name, entered, e.to_string()))?,
            Some(Text::Jsonata(e)) => {
                let states = super::jsonata::StatesVar::input(input);
                self.eval_expr(f, state, e, field, states, at)?
            }
        };
        Ok(Some(match v {
            Value::String(s) => s,
            other => crate::json::to_string(&other),
        }))
    }

    pub(super) fn choice(
        &mut self,
        f: u64,
        state: &State,
        rules: &[Branch],
        default: Option<StateId>,
        effective: Value,
        entered: u64,
    ) -> Res<Flow> {
        let mut chosen = None;
        for b in rules {
            if self.test_rule(f, state, &b.rule, &effective, entered)? {
                chosen = Some(b);
                break;
            }
        }
        let next = match (chosen, default) {
            (Some(b), _) => b.next,
            (None, Some(d)) => d,
            (None, None) => return Err(Ok(Raised::new("States.NoChoiceMatched", "No Matches!"))),
        };
        // A rule's Assign (and Output) apply when it is taken; the state's own belong to Default.
        let (output, assigned) = match state.query_language {
            QueryLanguage::JSONata => {
                let (out, assign) = match chosen {
                    Some(b) => (b.output.as_ref(), b.assign_jsonata.as_ref()),
                    None => (state.io.output.as_ref(), state.io.assign_jsonata.as_ref()),
                };
                let entered_ms = self.frame(f).map_err(Err)?.entered_ms;
                let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
                let states = super::jsonata::StatesVar::input(&effective);
                self.output_and_assign(f, state, out, assign, states, at).map_err(Ok)?
            }
            QueryLanguage::JSONPath => {
                let assign = match chosen {
                    Some(b) => b.assign.as_ref(),
                    None => state.io.assign.as_ref(),
                };
                self.output_and_assignments_with(f, state, assign, &effective, entered).map_err(Ok)?
            }
        };
        if let Some(v) = assigned {
            self.assign(f, v);
        }
        let payload = self.payload(&output);
        self.emit_exited(f, EventType::ChoiceStateExited, state, payload);
        Ok(Flow::Goto(next, output))
    }

    pub(super) fn test_rule(&mut self, f: u64, state: &State, rule: &Rule, input: &Value, entered: u64) -> Res<bool> {
        match rule {
            Rule::And(rs) => {
                for r in rs {
                    if !self.test_rule(f, state, r, input, entered)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if self.test_rule(f, state, r, input, entered)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!self.test_rule(f, state, r, input, entered)?),
            Rule::Condition(jt) => self.condition(f, state, jt, input).map_err(Ok),
            Rule::Compare { variable, op, operand } => {
                let at = Where { state_name: &state.name, ..Where::default() };
                let value = with_scope(self.exec, f, input, at, |s| s.read(variable));
                if *op == crate::definition::CmpOp::IsPresent {
                    let present = value.is_ok();
                    let want = matches!(operand, crate::definition::Operand::Literal(Value::Bool(true)));
                    return Ok(present == want);
                }
                let value = value.map_err(|_| {
                    Ok(io::runtime(
                        &state.name,
                        entered,
                        format!(
                            "Invalid path '{}': The choice state's condition path references an invalid value.",
                            variable.text
                        ),
                    ))
                })?;
                let operand = match operand {
                    crate::definition::Operand::Literal(v) => v.clone(),
                    crate::definition::Operand::Path(p) => {
                        with_scope(self.exec, f, input, at, |s| s.read(p)).map_err(|_| {
                            Ok(io::runtime(
                                &state.name,
                                entered,
                                format!(
                                    "Invalid path '{}': The choice state's condition path references an invalid value.",
                                    p.text
                                ),
                            ))
                        })?
                    }
                };
                Ok(op.test(&value, &operand))
            }
        }
    }

    pub(super) fn wait(&mut self, f: u64, state: &State, w: &WaitFor, effective: Value, entered: u64) -> Res<Flow> {
        let fire_at = match w {
            WaitFor::Seconds(crate::definition::Amount::Path(p)) => {
                self.seconds_path(f, state, p, &effective, entered)?
            }
            WaitFor::Seconds(a) => {
                let secs = self.amount(f, state, a, "Seconds", &effective, entered)?;
                self.now_ms + (secs as i64) * 1000
            }
            WaitFor::Timestamp(t) => {
                timestamp_ms(t).ok_or_else(|| Ok(io::runtime(&state.name, entered, "Invalid timestamp")))?
            }
            WaitFor::TimestampJsonata(e) => {
                let entered_ms = self.frame(f).map_err(Err)?.entered_ms;
                let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
                let states = super::jsonata::StatesVar::input(&effective);
                let v = self.eval_expr(f, state, e, "Timestamp", states, at).map_err(Ok)?;
                match v.as_str().and_then(timestamp_ms) {
                    Some(t) => t,
                    None => {
                        let text = format!(
                            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                            crate::json::shown(&v)
                        );
                        return Err(Ok(self.query_error(f, state, Some("Timestamp"), text)));
                    }
                }
            }
            WaitFor::TimestampPath(p) => {
                let at = Where { state_name: &state.name, ..Where::default() };
                let v = with_scope(self.exec, f, &effective, at, |s| s.read(p))
                    .map_err(|e| Ok(io::runtime(&state.name, entered, format!("Invalid path '{}' : {e}", p.text))))?;
                v.as_str().and_then(timestamp_ms).ok_or_else(|| {
                    Ok(io::runtime(
                        &state.name,
                        entered,
                        format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                            p.text,
                            crate::json::shown(&v)
                        ),
                    ))
                })?
            }
        };
        // AWS counts a wait in seconds of a 32-bit integer.
        if fire_at - self.now_ms > i64::from(i32::MAX) * 1000 {
            return Err(Ok(io::runtime(&state.name, entered, "Wait state delay is too long.")));
        }
        // Errors in Assign or OutputPath surface on entry; the variables change on exit.
        let (output, assigned) = match state.query_language {
            QueryLanguage::JSONata => {
                let entered_ms = self.frame(f).map_err(Err)?.entered_ms;
                let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
                let states = super::jsonata::StatesVar::input(&effective);
                let (out, assign) = (state.io.output.as_ref(), state.io.assign_jsonata.as_ref());
                self.output_and_assign(f, state, out, assign, states, at).map_err(Ok)?
            }
            QueryLanguage::JSONPath => self.output_and_assignments(f, state, &effective, entered).map_err(Ok)?,
        };
        let timer_id = self.start_timer(Timer::Frame(f), fire_at);
        self.frame_mut(f).map_err(Err)?.wait = Wait::Timer { timer_id, output, assigned };
        Ok(Flow::Blocked)
    }

    /// Choice and Wait: Assign and OutputPath both read the state's effective
    /// input and the variables as they were. Returns the output and the values
    /// to assign, which the caller applies when the state exits.
    pub(super) fn output_and_assignments(
        &mut self,
        f: u64,
        state: &State,
        effective: &Value,
        entered: u64,
    ) -> Result<(Value, Option<Value>), Raised> {
        self.output_and_assignments_with(f, state, state.io.assign.as_ref(), effective, entered)
    }

    fn output_and_assignments_with(
        &mut self,
        f: u64,
        state: &State,
        assign: Option<&crate::definition::Template>,
        effective: &Value,
        entered: u64,
    ) -> Result<(Value, Option<Value>), Raised> {
        let at = Where { state_name: &state.name, ..Where::default() };
        let assigned = match assign {
            Some(a) => Some(with_scope(self.exec, f, effective, at, |s| io::render(s, a, &state.name, entered))?),
            None => None,
        };
        let output = with_scope(self.exec, f, effective, at, |s| {
            io::select(s, state.io.output_path.as_ref(), &state.name, entered)
        })?;
        Ok((output, assigned))
    }
}

fn timestamp_ms(s: &str) -> Option<i64> {
    crate::time::parse_timestamp(s).map(|n| (n / 1_000_000) as i64)
}

impl Runtime<'_> {
    /// `SecondsPath`: a whole, non-negative number of seconds, with AWS's messages.
    fn seconds_path(
        &mut self,
        f: u64,
        state: &State,
        p: &crate::path::Path,
        input: &Value,
        entered: u64,
    ) -> Result<i64, Result<Raised, Error>> {
        let at = Where { state_name: &state.name, ..Where::default() };
        let fail = |msg: String| Err(Ok(io::runtime(&state.name, entered, msg)));
        let Ok(v) = with_scope(self.exec, f, input, at, |s| s.read(p)) else {
            return fail(format!("The SecondsPath parameter does not reference an input value: {}", p.text));
        };
        let shown = crate::json::shown(&v);
        let parsed = match &v {
            Value::String(t) => t.trim().parse::<i64>().ok(),
            other => other.as_i64(),
        };
        let Some(secs) = parsed else {
            return fail(format!("The SecondsPath parameter cannot be parsed as a long value: {} == {shown}", p.text));
        };
        if secs < 0 {
            return fail(format!("The SecondsPath parameter references a negative value: {} == {shown}", p.text));
        }
        Ok(self.now_ms + secs.min(crate::limits::SECONDS_MAX as i64) * 1000)
    }
}
