//! A typed builder of ASL definitions.
//!
//! ```
//! use serde_json::json;
//! use stepwise_sdk::asl::{Choice, Cond, Fail, Machine, Pass, Succeed, Common};
//!
//! let machine = Machine::new("Greet")
//!     .state("Greet", Pass::new().result(json!({"n": 7})).next("Big?"))
//!     .state("Big?", Choice::new().when(Cond::numeric_greater_than("$.n", 5), "Done").otherwise("Small"))
//!     .state("Small", Fail::new().error("TooSmall"))
//!     .state("Done", Succeed::new())
//!     .build()
//!     .expect("a valid definition");
//! assert_eq!(machine.json()["StartAt"], "Greet");
//! ```
//!
//! Every builder sets ASL fields by their AWS names; [`Machine::build`]
//! runs Stepwise's validator, so a definition that AWS would refuse (a
//! `Next` to no state, a field the state type does not take, a bad path)
//! is an [`Error::Invalid`](crate::Error::Invalid) at build time, listing
//! every problem with its location.

mod rules;
mod states;

pub use rules::{Catch, Cond, Op, Retry};
pub use states::{Choice, Common, Fail, Map, Parallel, Pass, Results, Succeed, Task, Wait, WithErrors};

use serde_json::{Map as JsonMap, Value};

use crate::Error;

/// The query language of a machine or a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
}

impl QueryLanguage {
    fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        }
    }
}

/// One state, whatever its type: what every state builder turns into.
#[derive(Debug, Clone, PartialEq)]
pub struct State(pub(crate) JsonMap<String, Value>);

/// States and where to start: a Parallel branch or a Map processor.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    start_at: String,
    states: Vec<(String, State)>,
}

impl Graph {
    pub fn new(start_at: &str) -> Graph {
        Graph { start_at: start_at.to_string(), states: Vec::new() }
    }

    /// Adds a state; names must be unique (checked when built).
    pub fn state(mut self, name: &str, state: impl Into<State>) -> Graph {
        self.states.push((name.to_string(), state.into()));
        self
    }

    pub(crate) fn to_json(&self) -> Result<JsonMap<String, Value>, Error> {
        let mut states = JsonMap::new();
        for (name, s) in &self.states {
            if states.insert(name.clone(), Value::Object(s.0.clone())).is_some() {
                return Err(Error::DuplicateState(name.clone()));
            }
        }
        let mut m = JsonMap::new();
        m.insert("StartAt".into(), Value::from(self.start_at.as_str()));
        m.insert("States".into(), Value::Object(states));
        Ok(m)
    }
}

/// A whole state machine definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    graph: Graph,
    top: JsonMap<String, Value>,
}

impl Machine {
    pub fn new(start_at: &str) -> Machine {
        Machine { graph: Graph::new(start_at), top: JsonMap::new() }
    }

    pub fn state(mut self, name: &str, state: impl Into<State>) -> Machine {
        self.graph = self.graph.state(name, state);
        self
    }

    pub fn comment(mut self, text: &str) -> Machine {
        self.top.insert("Comment".into(), Value::from(text));
        self
    }

    /// The execution's own time limit.
    pub fn timeout_seconds(mut self, seconds: u64) -> Machine {
        self.top.insert("TimeoutSeconds".into(), Value::from(seconds));
        self
    }

    /// The default query language of every state.
    pub fn query_language(mut self, lang: QueryLanguage) -> Machine {
        self.top.insert("QueryLanguage".into(), Value::from(lang.as_str()));
        self
    }

    /// The definition as JSON, not validated.
    pub fn to_json(&self) -> Result<Value, Error> {
        let mut m = self.top.clone();
        m.extend(self.graph.to_json()?);
        Ok(Value::Object(m))
    }

    /// The definition, validated as CreateStateMachine validates it.
    pub fn build(&self) -> Result<Asl, Error> {
        let json = self.to_json()?;
        let report = state_language::validate(&json, state_language::Options::default());
        match report.definition {
            Some(definition) if report.is_ok() => Ok(Asl { json, definition }),
            _ => Err(Error::Invalid(report.diagnostics)),
        }
    }
}

/// A validated definition: its JSON, and the typed form the engine runs.
#[derive(Debug, Clone)]
pub struct Asl {
    json: Value,
    definition: state_language::definition::Definition,
}

impl Asl {
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The text CreateStateMachine takes.
    pub fn to_text(&self) -> String {
        state_language::json::to_string(&self.json)
    }

    pub fn definition(&self) -> &state_language::definition::Definition {
        &self.definition
    }
}
