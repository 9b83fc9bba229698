//! One builder per state type. Fields shared by several types come from
//! the traits [`Common`], [`Results`] and [`WithErrors`]; the validator run
//! by `Machine::build` refuses a field a state type does not take.

use serde_json::{Map as JsonMap, Value};

use super::rules::{Catch, Cond, Retry};
use super::{Graph, QueryLanguage, State};
use crate::Error;

/// Fields every state takes.
pub trait Common: Sized {
    fn fields(&mut self) -> &mut JsonMap<String, Value>;

    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields().insert(key.into(), value.into());
        self
    }

    fn comment(self, text: &str) -> Self {
        self.set("Comment", text)
    }

    fn next(self, state: &str) -> Self {
        self.set("Next", state)
    }

    fn end(self) -> Self {
        self.set("End", true)
    }

    fn query_language(self, lang: QueryLanguage) -> Self {
        self.set("QueryLanguage", lang.as_str())
    }

    fn input_path(self, path: &str) -> Self {
        self.set("InputPath", path)
    }

    fn output_path(self, path: &str) -> Self {
        self.set("OutputPath", path)
    }

    /// JSONata: the state's output.
    fn output(self, value: impl Into<Value>) -> Self {
        self.set("Output", value)
    }

    /// Workflow variables to set (`"name.$": path` in JSONPath, `{% %}` in JSONata).
    fn assign(self, value: impl Into<Value>) -> Self {
        self.set("Assign", value)
    }
}

/// Fields of states that produce a result: Pass, Task, Map and Parallel.
pub trait Results: Common {
    fn parameters(self, value: impl Into<Value>) -> Self {
        self.set("Parameters", value)
    }

    /// JSONata: the state's arguments.
    fn arguments(self, value: impl Into<Value>) -> Self {
        self.set("Arguments", value)
    }

    fn result_selector(self, value: impl Into<Value>) -> Self {
        self.set("ResultSelector", value)
    }

    fn result_path(self, path: &str) -> Self {
        self.set("ResultPath", path)
    }
}

/// Retry and Catch: Task, Map and Parallel.
pub trait WithErrors: Common {
    fn retry(mut self, r: Retry) -> Self {
        push(self.fields(), "Retry", Value::Object(r.0));
        self
    }

    fn catch(mut self, c: Catch) -> Self {
        push(self.fields(), "Catch", Value::Object(c.0));
        self
    }
}

fn push(m: &mut JsonMap<String, Value>, key: &str, v: Value) {
    match m.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(a) => a.push(v),
        other => *other = Value::Array(vec![v]),
    }
}

/// Declares a state builder: its struct, its `Type`, and its conversion into a [`State`].
macro_rules! state_type {
    ($name:ident, $ty:literal $(, $trait:ident)*) => {
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name(JsonMap<String, Value>);

        impl Common for $name {
            fn fields(&mut self) -> &mut JsonMap<String, Value> {
                &mut self.0
            }
        }
        $(impl $trait for $name {})*

        impl From<$name> for State {
            fn from(s: $name) -> State {
                let mut m = JsonMap::new();
                m.insert("Type".into(), Value::from($ty));
                m.extend(s.0);
                State(m)
            }
        }
    };
}

state_type!(Pass, "Pass", Results);
state_type!(Task, "Task", Results, WithErrors);
state_type!(Choice, "Choice");
state_type!(Wait, "Wait");
state_type!(Succeed, "Succeed");
state_type!(Fail, "Fail");
state_type!(Parallel, "Parallel", Results, WithErrors);
state_type!(Map, "Map", Results, WithErrors);

impl Pass {
    pub fn new() -> Pass {
        Pass(JsonMap::new())
    }

    /// A fixed result instead of the input.
    pub fn result(self, value: impl Into<Value>) -> Pass {
        self.set("Result", value)
    }
}

impl Task {
    /// A task of `resource`: an activity ARN, a Lambda function ARN or an
    /// integration (`arn:aws:states:::lambda:invoke`, …).
    pub fn new(resource: &str) -> Task {
        Task(JsonMap::new()).set("Resource", resource)
    }

    pub fn timeout_seconds(self, seconds: u64) -> Task {
        self.set("TimeoutSeconds", seconds)
    }

    pub fn heartbeat_seconds(self, seconds: u64) -> Task {
        self.set("HeartbeatSeconds", seconds)
    }
}

impl Choice {
    pub fn new() -> Choice {
        Choice(JsonMap::new())
    }

    /// A rule: when `cond` holds, go to `next`.
    pub fn when(mut self, cond: Cond, next: &str) -> Choice {
        let mut rule = cond.0;
        rule.insert("Next".into(), Value::from(next));
        push(&mut self.0, "Choices", Value::Object(rule));
        self
    }

    /// Where to go when no rule holds.
    pub fn otherwise(self, next: &str) -> Choice {
        self.set("Default", next)
    }
}

impl Wait {
    pub fn seconds(seconds: u64) -> Wait {
        Wait(JsonMap::new()).set("Seconds", seconds)
    }

    /// Until an RFC 3339 timestamp.
    pub fn until(timestamp: &str) -> Wait {
        Wait(JsonMap::new()).set("Timestamp", timestamp)
    }

    pub fn seconds_path(path: &str) -> Wait {
        Wait(JsonMap::new()).set("SecondsPath", path)
    }

    pub fn timestamp_path(path: &str) -> Wait {
        Wait(JsonMap::new()).set("TimestampPath", path)
    }
}

impl Succeed {
    pub fn new() -> Succeed {
        Succeed(JsonMap::new())
    }
}

impl Fail {
    pub fn new() -> Fail {
        Fail(JsonMap::new())
    }

    pub fn error(self, error: &str) -> Fail {
        self.set("Error", error)
    }

    pub fn cause(self, cause: &str) -> Fail {
        self.set("Cause", cause)
    }
}

impl Parallel {
    pub fn new() -> Parallel {
        Parallel(JsonMap::new())
    }

    /// A branch; branches run at once and their outputs form an array, in order.
    pub fn branch(mut self, graph: Graph) -> Result<Parallel, Error> {
        push(&mut self.0, "Branches", Value::Object(graph.to_json()?));
        Ok(self)
    }
}

impl Map {
    /// Runs `processor` on each item.
    pub fn new(processor: Graph) -> Result<Map, Error> {
        Ok(Map(JsonMap::new()).set("ItemProcessor", Value::Object(processor.to_json()?)))
    }

    pub fn items_path(self, path: &str) -> Map {
        self.set("ItemsPath", path)
    }

    /// JSONata: the items.
    pub fn items(self, value: impl Into<Value>) -> Map {
        self.set("Items", value)
    }

    pub fn item_selector(self, value: impl Into<Value>) -> Map {
        self.set("ItemSelector", value)
    }

    pub fn max_concurrency(self, n: u64) -> Map {
        self.set("MaxConcurrency", n)
    }

    pub fn tolerated_failure_count(self, n: u64) -> Map {
        self.set("ToleratedFailureCount", n)
    }

    pub fn tolerated_failure_percentage(self, pct: f64) -> Map {
        self.set("ToleratedFailurePercentage", pct)
    }

    /// Runs each item as a child execution (a distributed Map) under `label`.
    pub fn distributed(mut self, label: &str) -> Map {
        if let Some(Value::Object(p)) = self.0.get_mut("ItemProcessor") {
            let config = serde_json::json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
            p.insert("ProcessorConfig".into(), config);
        }
        self.set("Label", label)
    }

    /// A distributed Map's `ItemReader`, `ItemBatcher` or `ResultWriter`, as ASL JSON.
    pub fn distributed_io(self, field: &str, value: Value) -> Map {
        self.set(field, value)
    }
}

macro_rules! default_new {
    ($($t:ident),*) => { $(impl Default for $t { fn default() -> Self { Self::new() } })* };
}
default_new!(Pass, Choice, Succeed, Fail, Parallel);
