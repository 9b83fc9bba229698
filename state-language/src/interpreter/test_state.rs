//! TestState: one state of a definition on one input, with an optional
//! mocked task outcome. Reports AWS's status (`SUCCEEDED`, `FAILED`,
//! `RETRIABLE`, `CAUGHT_ERROR`), the next state and the input/output
//! processing stages (inspection data). Pure, like the rest of the engine.

mod jsonata;
mod map;

use serde_json::{Map, Value, json};

use super::context::Where;
use super::frame::Execution;
use super::io::{self, Raised, with_scope};
use super::run::Runtime;
use super::{Limits, StartContext, Step};
use crate::definition::{Definition, Kind, QueryLanguage, State, StateId};
use crate::entropy::Entropy;

/// A mocked task outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    Result(Value),
    Error { error: String, cause: String },
}

#[derive(Debug, Clone)]
pub struct TestRequest {
    /// A state of the top-level machine.
    pub state: StateId,
    pub input: Value,
    pub variables: Map<String, Value>,
    pub context: StartContext,
    pub mock: Option<Mock>,
    /// Retries already used (`stateConfiguration.retrierRetryCount`).
    pub retrier_retry_count: u64,
    /// Replaces `$$` (TestState's `context`).
    pub context_override: Option<Value>,
    /// Map iterations that failed (`stateConfiguration.mapIterationFailureCount`).
    pub map_iteration_failure_count: u64,
    /// The items an ItemReader would read (`stateConfiguration.mapItemReaderData`).
    pub map_item_reader_data: Option<Value>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestOutcome {
    pub status: &'static str,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    /// Stage name (`afterInputPath`, …) to value.
    pub inspection: Map<String, Value>,
}

/// Why a state cannot be tested.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TestError {
    #[error("a {0} state needs a mock result or error to be tested")]
    NeedsMock(&'static str),
    #[error("no state {0} in the definition")]
    NoState(StateId),
}

pub fn test_state(def: &Definition, req: TestRequest) -> Result<TestOutcome, TestError> {
    let state = def.machines.first().and_then(|m| m.states.get(req.state)).ok_or(TestError::NoState(req.state))?;
    let mut exec = Execution::new();
    exec.entropy = Entropy::new(req.context.seed);
    exec.start_ms = req.now_ms;
    exec.input = req.input.clone();
    exec.context = Some(req.context.clone());
    exec.context_override = req.context_override.clone();
    let mut rt = Runtime {
        def,
        exec: &mut exec,
        now_ms: req.now_ms,
        limits: Limits::default(),
        out: Step::default(),
        transitions: 0,
        assigned: None,
        capped: false,
    };
    let f = rt.spawn(0, req.state, req.input.clone(), req.variables.clone(), None, None);
    let mut t = Tester { rt, f, state, req: &req, out: TestOutcome::default() };
    t.out.inspection.insert("input".into(), req.input.clone());
    let ran = match state.query_language {
        QueryLanguage::JSONata => t.run_jsonata(),
        QueryLanguage::JSONPath => t.run(),
    };
    match ran {
        Ok(()) => {}
        Err(raised) => t.on_error(raised),
    }
    Ok(t.out)
}

struct Tester<'a, 'r> {
    rt: Runtime<'a>,
    f: u64,
    state: &'a State,
    req: &'r TestRequest,
    out: TestOutcome,
}

impl Tester<'_, '_> {
    fn name_of(&self, id: StateId) -> Option<String> {
        self.rt.def.machines.first().and_then(|m| m.states.get(id)).map(|s| s.name.clone())
    }

    fn note(&mut self, stage: &str, v: &Value) {
        self.out.inspection.insert(stage.into(), v.clone());
    }

    fn run(&mut self) -> Result<(), Raised> {
        let (f, st, name) = (self.f, self.state, self.state.name.as_str());
        let input = self.req.input.clone();
        let at = at(st, self.req);
        let effective = with_scope(self.rt.exec, f, &input, at, |s| io::select(s, st.io.input_path.as_ref(), name, 0))?;
        let result = match &st.kind {
            Kind::Pass { result: Some(r) } => r.clone(),
            Kind::Pass { result: None } => {
                self.note("afterInputPath", &effective);
                let p = self.parameters(&effective)?;
                self.note("afterParameters", &p);
                p
            }
            Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. } => {
                self.note("afterInputPath", &effective);
                if let Kind::Map(spec) = &st.kind {
                    self.map_stages(spec, &effective)?;
                }
                if matches!(st.kind, Kind::Task(_)) {
                    let p = self.parameters(&effective)?;
                    self.note("afterParameters", &p);
                }
                self.mocked()?
            }
            Kind::Choice { rules, default } => {
                self.note("afterInputPath", &effective);
                let mut chosen = None;
                for b in rules {
                    match self.rt.test_rule(f, st, &b.rule, &effective, 0) {
                        Ok(true) => {
                            chosen = Some(b.next);
                            break;
                        }
                        Ok(false) => {}
                        Err(Ok(r)) => return Err(r),
                        Err(Err(e)) => return Err(Raised::new("States.Runtime", e.to_string())),
                    }
                }
                let next = chosen.or(*default).ok_or_else(|| Raised::new("States.NoChoiceMatched", "No Matches!"))?;
                let output = self.output(&effective)?;
                return self.succeed(output, self.name_of(next));
            }
            Kind::Fail { error, cause } => {
                self.note("afterInputPath", &effective);
                let e = self.rt.fail_text(f, st, error, "ErrorPath", &input, 0)?;
                let c = self.rt.fail_text(f, st, cause, "CausePath", &input, 0)?;
                self.out.status = "FAILED";
                self.out.error = e;
                self.out.cause = c;
                return Ok(());
            }
            Kind::Succeed | Kind::Wait(_) => {
                self.note("afterInputPath", &effective);
                let output = self.output(&effective)?;
                let next = st.next.and_then(|n| self.name_of(n));
                return self.succeed(output, next);
            }
        };
        self.note("result", &result);
        let selected = match &st.io.result_selector {
            Some(t) if !matches!(st.kind, Kind::Pass { .. }) => {
                with_scope(self.rt.exec, f, &result, at, |s| io::render(s, t, name, 0))?
            }
            _ => result,
        };
        self.note("afterResultSelector", &selected);
        let merged = io::merge_result(input, selected, st.io.result_path.as_ref(), name, 0)?;
        self.note("afterResultPath", &merged);
        let output = self.output(&merged)?;
        let next = st.next.and_then(|n| self.name_of(n));
        self.succeed(output, next)
    }

    /// The mocked outcome of a Task, Map or Parallel state.
    fn mocked(&self) -> Result<Value, Raised> {
        let kind = match self.state.kind {
            Kind::Task(_) => "Task",
            Kind::Map(_) => "Map",
            _ => "Parallel",
        };
        match &self.req.mock {
            Some(Mock::Result(v)) => Ok(v.clone()),
            Some(Mock::Error { error, cause }) => {
                let mut r = Raised::new(error, cause.clone());
                r.from_task = true;
                Err(r)
            }
            None => Err(Raised::new("States.Runtime", TestError::NeedsMock(kind).to_string())),
        }
    }

    fn parameters(&mut self, effective: &Value) -> Result<Value, Raised> {
        let (f, st) = (self.f, self.state);
        let at = at(st, self.req);
        match &st.io.parameters {
            Some(t) => with_scope(self.rt.exec, f, effective, at, |s| io::render(s, t, &st.name, 0)),
            None => Ok(effective.clone()),
        }
    }

    fn output(&mut self, v: &Value) -> Result<Value, Raised> {
        let (f, st) = (self.f, self.state);
        let at = at(st, self.req);
        match st.io.output_path.as_ref() {
            Some(p) if p.is_root_input() => Ok(v.clone()),
            other => with_scope(self.rt.exec, f, v, at, |s| io::select(s, other, &st.name, 0)),
        }
    }

    fn succeed(&mut self, output: Value, next: Option<String>) -> Result<(), Raised> {
        self.out.status = "SUCCEEDED";
        self.out.output = Some(output);
        self.out.next_state = next;
        Ok(())
    }

    /// A retrier with attempts left makes the state RETRIABLE; else a catcher
    /// makes it CAUGHT_ERROR; else it FAILED. `errorDetails` names the
    /// retrier or catcher that decided, as AWS's inspection data does.
    fn on_error(&mut self, r: Raised) {
        let st = self.state;
        let retrier = (r.error != "States.Runtime")
            .then(|| {
                st.retry.iter().position(|x| crate::definition::error_matches(&x.error_equals, &r.error, r.from_task))
            })
            .flatten();
        let count = self.req.retrier_retry_count;
        if let Some(i) = retrier
            && count < st.retry[i].max_attempts
        {
            let x = &st.retry[i];
            let mut backoff = x.interval_seconds as f64 * x.backoff_rate.powi(count.min(i32::MAX as u64) as i32);
            if let Some(max) = x.max_delay_seconds {
                backoff = backoff.min(max as f64);
            }
            self.out.status = "RETRIABLE";
            self.note("errorDetails", &json!({"retryIndex": i, "retryBackoffIntervalSeconds": backoff as u64}));
        } else if let Some((i, c)) = st
            .catch
            .iter()
            .enumerate()
            .find(|(_, c)| crate::definition::error_matches(&c.error_equals, &r.error, r.from_task))
        {
            let mut err = Map::new();
            err.insert("Error".into(), Value::String(r.error.clone()));
            err.insert("Cause".into(), Value::String(r.cause.clone()));
            let output = match st.query_language {
                QueryLanguage::JSONata => self.catch_output_jsonata(c, &Value::Object(err)),
                QueryLanguage::JSONPath => {
                    io::merge_result(self.req.input.clone(), Value::Object(err), c.result_path.as_ref(), &st.name, 0)
                }
            };
            match output {
                Ok(output) => {
                    self.out.status = "CAUGHT_ERROR";
                    self.out.output = Some(output);
                    self.out.next_state = self.name_of(c.next);
                    self.note("errorDetails", &json!({"catchIndex": i}));
                }
                Err(e) => return self.on_error(e),
            }
        } else {
            self.out.status = "FAILED";
            if let Some(i) = retrier {
                self.note("errorDetails", &json!({"retryIndex": i}));
            }
        }
        self.out.error = Some(r.error);
        self.out.cause = Some(r.cause);
    }
}

/// `$$` as the state sees it: entered now, after the retries already used.
/// TestState runs a state outside any machine run, and AWS names it
/// `StateName` in the context whatever its name in the definition.
fn at<'s>(_state: &'s State, req: &TestRequest) -> Where<'s> {
    Where {
        state_name: CONTEXT_STATE_NAME,
        entered_ms: req.now_ms,
        retry_count: Some(req.retrier_retry_count),
        ..Where::default()
    }
}

const CONTEXT_STATE_NAME: &str = "StateName";
