//! Choice rules, retriers and catchers.

use serde_json::{Map as JsonMap, Value};

/// A Choice comparison operator, by its ASL name: the engine's own list.
pub use state_language::definition::CmpOp as Op;

/// The operator's field name (`…Path` forms add the suffix).
fn op_name(op: Op) -> String {
    format!("{op:?}")
}

/// A Choice rule's test: a comparison, a combination, or a JSONata condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond(pub(crate) JsonMap<String, Value>);

impl Cond {
    /// `Variable` compared with a literal value by `op`.
    pub fn compare(variable: &str, op: Op, value: impl Into<Value>) -> Cond {
        let mut m = JsonMap::new();
        m.insert("Variable".into(), Value::from(variable));
        m.insert(op_name(op), value.into());
        Cond(m)
    }

    /// `Variable` compared with the value at `path` (`…Path` operators).
    pub fn compare_path(variable: &str, op: Op, path: &str) -> Cond {
        let mut m = JsonMap::new();
        m.insert("Variable".into(), Value::from(variable));
        m.insert(format!("{}Path", op_name(op)), Value::from(path));
        Cond(m)
    }

    pub fn string_equals(variable: &str, value: &str) -> Cond {
        Cond::compare(variable, Op::StringEquals, value)
    }

    pub fn numeric_equals(variable: &str, value: impl Into<Value>) -> Cond {
        Cond::compare(variable, Op::NumericEquals, value)
    }

    pub fn numeric_greater_than(variable: &str, value: impl Into<Value>) -> Cond {
        Cond::compare(variable, Op::NumericGreaterThan, value)
    }

    pub fn numeric_less_than(variable: &str, value: impl Into<Value>) -> Cond {
        Cond::compare(variable, Op::NumericLessThan, value)
    }

    pub fn boolean_equals(variable: &str, value: bool) -> Cond {
        Cond::compare(variable, Op::BooleanEquals, value)
    }

    pub fn is_present(variable: &str, present: bool) -> Cond {
        Cond::compare(variable, Op::IsPresent, present)
    }

    pub fn and(rules: impl IntoIterator<Item = Cond>) -> Cond {
        Cond::combine("And", rules)
    }

    pub fn or(rules: impl IntoIterator<Item = Cond>) -> Cond {
        Cond::combine("Or", rules)
    }

    /// A JSONata state's `Condition`: `expression` without its `{% %}`.
    pub fn jsonata(expression: &str) -> Cond {
        let mut m = JsonMap::new();
        m.insert("Condition".into(), Value::from(format!("{{% {expression} %}}")));
        Cond(m)
    }

    fn combine(op: &str, rules: impl IntoIterator<Item = Cond>) -> Cond {
        let list = rules.into_iter().map(|r| Value::Object(r.0)).collect();
        let mut m = JsonMap::new();
        m.insert(op.into(), Value::Array(list));
        Cond(m)
    }
}

/// `!cond`: ASL's `Not`.
impl std::ops::Not for Cond {
    type Output = Cond;

    fn not(self) -> Cond {
        let mut m = JsonMap::new();
        m.insert("Not".into(), Value::Object(self.0));
        Cond(m)
    }
}

/// A retrier: which errors, how often and how far apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry(pub(crate) JsonMap<String, Value>);

impl Retry {
    pub fn on<'a>(errors: impl IntoIterator<Item = &'a str>) -> Retry {
        let mut m = JsonMap::new();
        m.insert("ErrorEquals".into(), errors.into_iter().map(Value::from).collect());
        Retry(m)
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Retry {
        self.0.insert(key.into(), value.into());
        self
    }

    pub fn interval_seconds(self, seconds: u64) -> Retry {
        self.set("IntervalSeconds", seconds)
    }

    pub fn max_attempts(self, attempts: u64) -> Retry {
        self.set("MaxAttempts", attempts)
    }

    pub fn backoff_rate(self, rate: f64) -> Retry {
        self.set("BackoffRate", rate)
    }

    pub fn max_delay_seconds(self, seconds: u64) -> Retry {
        self.set("MaxDelaySeconds", seconds)
    }

    /// `JitterStrategy: FULL`: each delay is drawn between 0 and the backoff.
    pub fn full_jitter(self) -> Retry {
        self.set("JitterStrategy", "FULL")
    }
}

/// A catcher: which errors, where to go, and what to keep of the error.
#[derive(Debug, Clone, PartialEq)]
pub struct Catch(pub(crate) JsonMap<String, Value>);

impl Catch {
    pub fn on<'a>(errors: impl IntoIterator<Item = &'a str>, next: &str) -> Catch {
        let mut m = JsonMap::new();
        m.insert("ErrorEquals".into(), errors.into_iter().map(Value::from).collect());
        m.insert("Next".into(), Value::from(next));
        Catch(m)
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Catch {
        self.0.insert(key.into(), value.into());
        self
    }

    /// JSONPath: where the error output goes in the state input.
    pub fn result_path(self, path: &str) -> Catch {
        self.set("ResultPath", path)
    }

    /// JSONata: the output (default `$states.errorOutput`).
    pub fn output(self, value: impl Into<Value>) -> Catch {
        self.set("Output", value)
    }

    pub fn assign(self, value: impl Into<Value>) -> Catch {
        self.set("Assign", value)
    }
}
