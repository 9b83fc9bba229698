//! The typed form of an ASL definition. Produced by [`crate::validate`];
//! consumed by the interpreter. States refer to each other by index.

mod choice;
pub mod distributed;
pub mod jsonata;
pub(crate) mod template;

pub use choice::{CmpOp, Operand, Rule};
pub use distributed::{CsvHeaders, InputType, ItemBatcher, ItemReader, ResultWriter};
pub use jsonata::{Expr, Jt};
pub use template::Template;

use serde_json::Value;

use crate::intrinsics::Call;
use crate::path::Path;

/// Index of a machine inside [`Definition::machines`]; 0 is the top level.
pub type MachineId = usize;
/// Index of a state inside its machine.
pub type StateId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum QueryLanguage {
    #[default]
    JSONPath,
    JSONata,
}

#[derive(Debug, Clone)]
pub struct Definition {
    pub machines: Vec<Machine>,
    pub timeout_seconds: Option<u64>,
    pub query_language: QueryLanguage,
}

#[derive(Debug, Clone)]
pub struct Machine {
    pub start_at: StateId,
    pub states: Vec<State>,
}

impl Machine {
    pub fn find(&self, name: &str) -> Option<StateId> {
        self.states.iter().position(|s| s.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    pub kind: Kind,
    pub io: Io,
    /// Where to go next; `None` for terminal states and Choice.
    pub next: Option<StateId>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub query_language: QueryLanguage,
}

/// Input and output processing. JSONPath states use the paths and
/// templates (`None` paths mean the field was `null`); JSONata states use
/// `arguments`, `output` and `assign_jsonata`.
#[derive(Debug, Clone)]
pub struct Io {
    pub input_path: Option<Path>,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: Option<Path>,
    pub output_path: Option<Path>,
    pub assign: Option<Template>,
    pub arguments: Option<Jt>,
    pub output: Option<Jt>,
    pub assign_jsonata: Option<Jt>,
}

impl Default for Io {
    fn default() -> Self {
        let root = Path::parse("$").ok();
        Io {
            input_path: root.clone(),
            parameters: None,
            result_selector: None,
            result_path: root.clone(),
            output_path: root,
            assign: None,
            arguments: None,
            output: None,
            assign_jsonata: None,
        }
    }
}

/// A number given literally or read through a reference path.
#[derive(Debug, Clone)]
pub enum Amount {
    Literal(Value),
    Path(Path),
    Jsonata(std::sync::Arc<Expr>),
}

#[derive(Debug, Clone)]
pub enum WaitFor {
    Seconds(Amount),
    Timestamp(String),
    TimestampPath(Path),
    TimestampJsonata(std::sync::Arc<Expr>),
}

/// A Fail state's Error or Cause.
#[derive(Debug, Clone)]
pub enum Text {
    Literal(String),
    Path(Path),
    Intrinsic(Call),
    Jsonata(std::sync::Arc<Expr>),
}

#[derive(Debug, Clone)]
pub enum Kind {
    Pass { result: Option<Value> },
    Task(Box<Task>),
    Choice { rules: Vec<Branch>, default: Option<StateId> },
    Wait(WaitFor),
    Succeed,
    Fail { error: Option<Text>, cause: Option<Text> },
    Parallel { branches: Vec<MachineId> },
    Map(Box<MapSpec>),
}

/// One Choice rule: its test, where it leads, and what it assigns and
/// outputs when taken (the state's own Assign/Output belong to `Default`).
#[derive(Debug, Clone)]
pub struct Branch {
    pub rule: Rule,
    pub next: StateId,
    pub assign: Option<Template>,
    pub assign_jsonata: Option<Jt>,
    pub output: Option<Jt>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub resource: String,
    pub timeout: Option<Amount>,
    pub heartbeat: Option<Amount>,
}

#[derive(Debug, Clone)]
pub struct MapSpec {
    pub processor: MachineId,
    pub items_path: Option<Path>,
    pub item_selector: Option<Template>,
    /// JSONata: `Items` (default: the state input) and `ItemSelector`.
    pub items: Option<Jt>,
    pub item_selector_jsonata: Option<Jt>,
    pub max_concurrency: Option<Amount>,
    pub tolerated_failure_count: Option<Amount>,
    pub tolerated_failure_percentage: Option<Amount>,
    pub item_reader: Option<ItemReader>,
    pub item_batcher: Option<ItemBatcher>,
    pub result_writer: Option<ResultWriter>,
    /// `ProcessorConfig.Mode: DISTRIBUTED`: iterations run as child executions,
    /// so their events stay out of this history and a Map Run is recorded instead.
    pub distributed: bool,
    /// The Map Run's label (`Label`), defaulting to the state name.
    pub label: Option<String>,
    /// A distributed Map with `ExecutionType: STANDARD`: the processor as a
    /// state machine definition of its own, which each child execution runs.
    pub child_definition: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Jitter {
    Full,
    None,
}

#[derive(Debug, Clone)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

#[derive(Debug, Clone)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: StateId,
    pub result_path: Option<Path>,
    pub assign: Option<Template>,
    /// JSONata: `Output` (default: `$states.errorOutput`) and `Assign`.
    pub output: Option<Jt>,
    pub assign_jsonata: Option<Jt>,
}

/// AWS's matching of an error name against `ErrorEquals`. `States.ALL`
/// matches everything but the terminal `States.Runtime` and, for errors the
/// state itself raised, `States.DataLimitExceeded`; an error a task reported
/// (including a result over the size limit) is an ordinary task failure and
/// `States.ALL` catches it, as AWS's recorded runs show. `States.TaskFailed`
/// matches every error except `States.` runtime errors.
pub fn error_matches(error_equals: &[String], error: &str, reported_by_task: bool) -> bool {
    error_equals.iter().any(|e| match e.as_str() {
        "States.ALL" => error != "States.Runtime" && (reported_by_task || error != "States.DataLimitExceeded"),
        "States.TaskFailed" => !error.starts_with("States.") || error == "States.TaskFailed",
        other => other == error,
    })
}
