//! Builds the typed definition, reporting semantic problems as it goes.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{Diagnostic, Options, code, error, escape_pointer};
use crate::definition::{
    Amount, Catcher, Definition, Io, Jitter, Kind, Machine, MachineId, MapSpec, QueryLanguage, Retrier, State, StateId,
    Task, Template, Text, WaitFor,
};
use crate::intrinsics::Call;
use crate::limits;
use crate::path::Path;

pub(super) struct Built {
    pub diagnostics: Vec<Diagnostic>,
    pub definition: Option<Definition>,
}

pub(super) struct Builder {
    pub(super) options: Options,
    pub(super) diags: Vec<Diagnostic>,
    machines: Vec<Machine>,
    top_language: QueryLanguage,
    state_count: usize,
}

/// Fields only JSONPath states may use, and fields only JSONata states may use.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "ErrorPath",
    "CausePath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "Result",
];
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

impl Builder {
    pub(super) fn new(options: Options) -> Self {
        Builder {
            options,
            diags: Vec::new(),
            machines: Vec::new(),
            top_language: QueryLanguage::JSONPath,
            state_count: 0,
        }
    }

    pub(super) fn err(&mut self, code: &'static str, at: &str, msg: impl Into<String>) {
        self.diags.push(error(code, at, msg));
    }

    pub(super) fn build(mut self, v: &Value) -> Built {
        let Some(top) = v.as_object() else {
            return Built { diagnostics: self.diags, definition: None };
        };
        if top.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
            self.top_language = QueryLanguage::JSONata;
        }
        self.machine(top, "", 0);
        let timeout_seconds = top.get("TimeoutSeconds").and_then(Value::as_u64);
        let definition = Definition { machines: self.machines, timeout_seconds, query_language: self.top_language };
        Built { diagnostics: self.diags, definition: Some(definition) }
    }

    /// Builds one machine (top level, branch or item processor) and returns its id.
    fn machine(&mut self, m: &Map<String, Value>, at: &str, depth: usize) -> MachineId {
        let id = self.machines.len();
        self.machines.push(Machine { start_at: 0, states: Vec::new() });
        if depth > limits::MACHINE_NESTING_DEPTH_MAX {
            self.err(
                code::SCHEMA,
                at,
                format!("Machines are nested deeper than {}", limits::MACHINE_NESTING_DEPTH_MAX),
            );
            return id;
        }
        let Some(states) = m.get("States").and_then(Value::as_object) else { return id };
        self.state_count += states.len();
        if self.state_count > limits::STATES_PER_DEFINITION_MAX {
            self.err(code::SCHEMA, at, format!("More than {} states", limits::STATES_PER_DEFINITION_MAX));
            return id;
        }
        let names: HashMap<&str, StateId> = states.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let start_at = match m.get("StartAt").and_then(Value::as_str) {
            Some(s) => match names.get(s) {
                Some(i) => *i,
                None => {
                    self.err(code::MISSING_TARGET, &format!("{at}/StartAt"), format!("Missing 'Next' target: {s}"));
                    0
                }
            },
            None => 0,
        };
        let mut built = Vec::with_capacity(states.len());
        for (name, sv) in states {
            let sat = format!("{at}/States/{}", escape_pointer(name));
            built.push(self.state(name, sv, &sat, &names, depth));
        }
        super::graph::check(self, &built, start_at, at);
        self.machines[id] = Machine { start_at, states: built };
        id
    }

    pub(super) fn target(&mut self, names: &HashMap<&str, StateId>, name: &str, at: &str) -> StateId {
        match names.get(name) {
            Some(i) => *i,
            None => {
                self.err(code::MISSING_TARGET, at, format!("Missing 'Next' target: {name}"));
                0
            }
        }
    }

    fn state(&mut self, name: &str, v: &Value, at: &str, names: &HashMap<&str, StateId>, depth: usize) -> State {
        let empty = Map::new();
        let s = v.as_object().unwrap_or(&empty);
        let ty = s.get("Type").and_then(Value::as_str).unwrap_or("");
        if name.chars().count() > limits::STATE_NAME_CHARS_MAX {
            self.err(
                code::SCHEMA,
                at,
                format!("State name is longer than {} characters", limits::STATE_NAME_CHARS_MAX),
            );
        }
        let lang = self.language(s, at);
        self.check_language_fields(s, at, lang, ty);
        let next = match (s.get("Next").and_then(Value::as_str), s.get("End")) {
            (Some(n), None) => Some(self.target(names, n, &format!("{at}/Next"))),
            (Some(_), Some(_)) => {
                self.err(code::SCHEMA, at, "Only one of 'Next' or 'End' may be set");
                None
            }
            (None, Some(Value::Bool(true))) => None,
            (None, _) if matches!(ty, "Pass" | "Task" | "Wait" | "Parallel" | "Map") => {
                self.err(code::SCHEMA, at, "One of 'Next' or 'End' is required");
                None
            }
            _ => None,
        };
        let io = self.io(s, at, lang);
        let kind = self.kind(ty, s, at, names, depth, lang);
        let retry = self.retriers(s.get("Retry"), &format!("{at}/Retry"));
        let catch = self.catchers(s.get("Catch"), &format!("{at}/Catch"), names, lang);
        State { name: name.to_string(), kind, io, next, retry, catch, query_language: lang }
    }

    fn language(&mut self, s: &Map<String, Value>, at: &str) -> QueryLanguage {
        match (s.get("QueryLanguage").and_then(Value::as_str), self.top_language) {
            (Some("JSONPath"), QueryLanguage::JSONata) => {
                let msg = "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine";
                self.err(code::SCHEMA, &format!("{at}/QueryLanguage"), msg);
                QueryLanguage::JSONata
            }
            (Some("JSONata"), _) => QueryLanguage::JSONata,
            (Some("JSONPath"), _) => QueryLanguage::JSONPath,
            (_, top) => top,
        }
    }

    fn check_language_fields(&mut self, s: &Map<String, Value>, at: &str, lang: QueryLanguage, ty: &str) {
        let (illegal, mode) = match lang {
            QueryLanguage::JSONPath => (JSONATA_ONLY, "JSONPath"),
            QueryLanguage::JSONata => (JSONPATH_ONLY, "JSONata"),
        };
        for f in illegal {
            if s.contains_key(*f) {
                self.err(
                    code::SCHEMA,
                    &format!("{at}/{f}"),
                    format!("The field '{f}' is not supported for {mode} {ty} states"),
                );
            }
        }
    }

    pub(super) fn path(&mut self, v: Option<&Value>, at: &str, reference: bool) -> Option<Option<Path>> {
        match v {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => match Path::parse(s) {
                Ok(p) if reference && !p.is_reference() => {
                    self.err(code::SCHEMA, at, format!("The value for the field must be a valid Reference Path: {s}"));
                    Some(None)
                }
                Ok(p) => Some(Some(p)),
                Err(e) => {
                    self.err(
                        code::SCHEMA,
                        at,
                        format!("The value for the field must be a valid JSONPath: {}", e.reason),
                    );
                    Some(None)
                }
            },
            Some(_) => Some(None),
        }
    }

    pub(super) fn template(&mut self, v: Option<&Value>, at: &str) -> Option<Template> {
        let v = v?;
        match Template::compile(v, 0) {
            Ok(t) => Some(t),
            Err((ptr, msg)) => {
                self.err(code::SCHEMA, &format!("{at}{ptr}"), msg);
                None
            }
        }
    }

    fn io(&mut self, s: &Map<String, Value>, at: &str, lang: QueryLanguage) -> Io {
        let mut io = Io::default();
        if lang == QueryLanguage::JSONata {
            return io;
        }
        if let Some(p) = self.path(s.get("InputPath"), &format!("{at}/InputPath"), false) {
            io.input_path = p;
        }
        if let Some(p) = self.path(s.get("OutputPath"), &format!("{at}/OutputPath"), false) {
            io.output_path = p;
        }
        if let Some(p) = self.path(s.get("ResultPath"), &format!("{at}/ResultPath"), true) {
            io.result_path = p;
        }
        io.parameters = self.template(s.get("Parameters"), &format!("{at}/Parameters"));
        io.result_selector = self.template(s.get("ResultSelector"), &format!("{at}/ResultSelector"));
        io.assign = self.template(s.get("Assign"), &format!("{at}/Assign"));
        io
    }

    pub(super) fn amount(&mut self, s: &Map<String, Value>, field: &str, at: &str) -> Option<Amount> {
        let path_field = format!("{field}Path");
        match (s.get(field), s.get(&path_field)) {
            (Some(_), Some(_)) => {
                self.err(code::SCHEMA, at, format!("Only one of '{field}' or '{path_field}' may be set"));
                None
            }
            (Some(v), None) => Some(Amount::Literal(v.clone())),
            (None, Some(_)) => {
                self.path(s.get(&path_field), &format!("{at}/{path_field}"), true).flatten().map(Amount::Path)
            }
            (None, None) => None,
        }
    }

    fn kind(
        &mut self,
        ty: &str,
        s: &Map<String, Value>,
        at: &str,
        names: &HashMap<&str, StateId>,
        depth: usize,
        lang: QueryLanguage,
    ) -> Kind {
        match ty {
            "Pass" => Kind::Pass { result: s.get("Result").cloned() },
            "Task" => Kind::Task(Box::new(self.task(s, at))),
            "Choice" => self.choice(s, at, names, lang),
            "Wait" => self.wait(s, at, lang),
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail { error: self.text(s, "Error", at), cause: self.text(s, "Cause", at) },
            "Parallel" => {
                let mut branches = Vec::new();
                for (i, b) in s.get("Branches").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if let Some(b) = b.as_object() {
                        branches.push(self.machine(b, &format!("{at}/Branches/{i}"), depth + 1));
                    }
                }
                Kind::Parallel { branches }
            }
            "Map" => Kind::Map(Box::new(self.map(s, at, depth, lang))),
            _ => Kind::Succeed,
        }
    }

    fn task(&mut self, s: &Map<String, Value>, at: &str) -> Task {
        let resource = s.get("Resource").and_then(Value::as_str).unwrap_or_default().to_string();
        if !resource.is_empty() && !resource.starts_with("arn:") && !resource.starts_with("{%") {
            self.err(code::SCHEMA, &format!("{at}/Resource"), format!("The resource provided {resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."));
        }
        if let Some(msg) = unsupported_integration(&resource) {
            self.err(code::SCHEMA, &format!("{at}/Resource"), msg);
        }
        if self.options.express {
            if resource.contains(":activity:") {
                self.err(
                    code::SCHEMA,
                    &format!("{at}/Resource"),
                    "Express state machine does not support Activity ARN",
                );
            } else if resource.ends_with(".sync") || resource.contains(".sync:") {
                self.err(
                    code::SCHEMA,
                    &format!("{at}/Resource"),
                    "Express state machine does not support '.sync' service integration",
                );
            } else if resource.ends_with(".waitForTaskToken") {
                self.err(
                    code::SCHEMA,
                    &format!("{at}/Resource"),
                    "Express state machine does not support '.waitForTaskToken' service integration ",
                );
            }
        }
        if let Some(c) = s.get("Credentials").and_then(Value::as_object)
            && !c.contains_key("RoleArn")
            && !c.contains_key("RoleArn.$")
        {
            let msg = "The field 'RoleArn' is required but was missing";
            self.err(code::SCHEMA, &format!("{at}/Credentials"), msg);
        }
        let timeout = self.amount(s, "TimeoutSeconds", at);
        let heartbeat = self.amount(s, "HeartbeatSeconds", at);
        if let (Some(Amount::Literal(t)), Some(Amount::Literal(h))) = (&timeout, &heartbeat)
            && h.as_u64() >= t.as_u64()
        {
            self.err(
                code::SCHEMA,
                &format!("{at}/HeartbeatSeconds"),
                "HeartbeatSeconds must be smaller than TimeoutSeconds",
            );
        }
        Task { resource, timeout, heartbeat }
    }

    fn wait(&mut self, s: &Map<String, Value>, at: &str, lang: QueryLanguage) -> Kind {
        let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
            .into_iter()
            .filter(|f| s.contains_key(*f))
            .collect();
        if given.len() != 1 {
            self.err(
                code::SCHEMA,
                at,
                "A Wait state needs exactly one of 'Seconds', 'SecondsPath', 'Timestamp' or 'TimestampPath'",
            );
            return Kind::Wait(WaitFor::Seconds(Amount::Literal(Value::from(0))));
        }
        match given[0] {
            "Timestamp" => {
                let t = s.get("Timestamp").and_then(Value::as_str).unwrap_or_default();
                let expression = lang == QueryLanguage::JSONata && t.starts_with("{%");
                if !expression && crate::time::parse_timestamp(t).is_none() {
                    self.err(code::SCHEMA, &format!("{at}/Timestamp"), "String does not match RFC3339 timestamp");
                }
                Kind::Wait(WaitFor::Timestamp(t.to_string()))
            }
            "TimestampPath" => {
                match self.path(s.get("TimestampPath"), &format!("{at}/TimestampPath"), true).flatten() {
                    Some(p) => Kind::Wait(WaitFor::TimestampPath(p)),
                    None => Kind::Wait(WaitFor::Seconds(Amount::Literal(Value::from(0)))),
                }
            }
            _ => Kind::Wait(WaitFor::Seconds(self.amount(s, "Seconds", at).unwrap_or(Amount::Literal(0.into())))),
        }
    }

    fn text(&mut self, s: &Map<String, Value>, field: &str, at: &str) -> Option<Text> {
        let path_field = format!("{field}Path");
        match (s.get(field), s.get(&path_field).and_then(Value::as_str)) {
            (Some(_), Some(_)) => {
                self.err(code::SCHEMA, at, format!("Only one of '{field}' or '{path_field}' may be set"));
                None
            }
            (Some(v), None) => v.as_str().map(|t| Text::Literal(t.to_string())),
            (None, Some(p)) if Call::looks_like(p) => match Call::parse(p) {
                Ok(c) => Some(Text::Intrinsic(c)),
                Err(e) => {
                    self.err(code::SCHEMA, &format!("{at}/{path_field}"), e.to_string());
                    None
                }
            },
            (None, Some(_)) => {
                self.path(s.get(&path_field), &format!("{at}/{path_field}"), false).flatten().map(Text::Path)
            }
            (None, None) => None,
        }
    }

    fn map(&mut self, s: &Map<String, Value>, at: &str, depth: usize, lang: QueryLanguage) -> MapSpec {
        let (pfield, proc) = match (s.get("ItemProcessor"), s.get("Iterator")) {
            (Some(p), None) => ("ItemProcessor", p.as_object()),
            (None, Some(p)) => ("Iterator", p.as_object()),
            (Some(_), Some(_)) => {
                self.err(code::SCHEMA, at, "Only one of 'ItemProcessor' or 'Iterator' may be set");
                ("ItemProcessor", None)
            }
            (None, None) => {
                self.err(code::SCHEMA, at, "These fields are required: [ItemProcessor]");
                ("ItemProcessor", None)
            }
        };
        let empty = Map::new();
        let processor = self.machine(proc.unwrap_or(&empty), &format!("{at}/{pfield}"), depth + 1);
        let item_selector = match (s.get("ItemSelector"), s.get("Parameters")) {
            (Some(_), Some(_)) => {
                self.err(code::SCHEMA, at, "Only one of 'ItemSelector' or 'Parameters' may be set");
                None
            }
            (Some(v), None) if lang == QueryLanguage::JSONPath => self.template(Some(v), &format!("{at}/ItemSelector")),
            (None, Some(v)) => self.template(Some(v), &format!("{at}/Parameters")),
            _ => None,
        };
        let items_path = self.path(s.get("ItemsPath"), &format!("{at}/ItemsPath"), false).flatten();
        if let Some(label) = s.get("Label").and_then(Value::as_str)
            && let Err(msg) = check_label(label)
        {
            self.err(code::SCHEMA, &format!("{at}/Label"), msg);
        }

        MapSpec {
            processor,
            items_path,
            item_selector,
            max_concurrency: self.amount(s, "MaxConcurrency", at),
            tolerated_failure_count: self.amount(s, "ToleratedFailureCount", at),
            tolerated_failure_percentage: self.amount(s, "ToleratedFailurePercentage", at),
            distributed_io: ["ItemReader", "ItemBatcher", "ResultWriter"].iter().any(|f| s.contains_key(*f)),
            distributed: proc
                .and_then(|p| p.get("ProcessorConfig"))
                .and_then(|c| c.get("Mode"))
                .and_then(Value::as_str)
                == Some("DISTRIBUTED"),
            label: s.get("Label").and_then(Value::as_str).map(str::to_string),
        }
    }

    fn retriers(&mut self, v: Option<&Value>, at: &str) -> Vec<Retrier> {
        let mut out = Vec::new();
        let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, r) in items.iter().enumerate() {
            let rat = format!("{at}/{i}");
            let Some(r) = r.as_object() else { continue };
            let error_equals = self.error_equals(r.get("ErrorEquals"), &rat, i + 1 == items.len());
            let jitter = match r.get("JitterStrategy").and_then(Value::as_str) {
                Some("FULL") => Jitter::Full,
                _ => Jitter::None,
            };
            out.push(Retrier {
                error_equals,
                interval_seconds: r.get("IntervalSeconds").and_then(Value::as_u64).unwrap_or(1),
                max_attempts: r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3).min(limits::RETRY_ATTEMPTS_MAX),
                backoff_rate: r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0),
                max_delay_seconds: r.get("MaxDelaySeconds").and_then(Value::as_u64),
                jitter,
            });
        }
        out
    }

    fn catchers(
        &mut self,
        v: Option<&Value>,
        at: &str,
        names: &HashMap<&str, StateId>,
        lang: QueryLanguage,
    ) -> Vec<Catcher> {
        let mut out = Vec::new();
        let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, c) in items.iter().enumerate() {
            let cat = format!("{at}/{i}");
            let Some(c) = c.as_object() else { continue };
            let error_equals = self.error_equals(c.get("ErrorEquals"), &cat, i + 1 == items.len());
            let next = match c.get("Next").and_then(Value::as_str) {
                Some(n) => self.target(names, n, &format!("{cat}/Next")),
                None => 0,
            };
            let mut result_path = Path::parse("$").ok();
            if lang == QueryLanguage::JSONPath
                && let Some(p) = self.path(c.get("ResultPath"), &format!("{cat}/ResultPath"), true)
            {
                result_path = p;
            }
            let assign = if lang == QueryLanguage::JSONPath {
                self.template(c.get("Assign"), &format!("{cat}/Assign"))
            } else {
                None
            };
            out.push(Catcher { error_equals, next, result_path, assign });
        }
        out
    }

    fn error_equals(&mut self, v: Option<&Value>, at: &str, last: bool) -> Vec<String> {
        let names: Vec<String> =
            v.and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.as_str().map(str::to_string)).collect();
        if names.iter().any(|n| n == "States.ALL") && (names.len() != 1 || !last) {
            self.err(
                code::SCHEMA,
                &format!("{at}/ErrorEquals"),
                "'States.ALL' must appear alone, in the last retrier or catcher",
            );
        }
        names
    }
}

/// AWS: Map labels are 1–40 characters with no whitespace, brackets,
/// wildcards, special characters or control characters.
const LABEL_CHARS_MAX: usize = 40;

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("Label cannot be empty".into());
    }
    if label.chars().count() > LABEL_CHARS_MAX {
        return Err(format!("Label cannot exceed {LABEL_CHARS_MAX} characters"));
    }
    let bad = |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    match label.chars().find(|c| bad(*c)) {
        Some(c) => Err(format!("Label contains invalid character: {c:?}")),
        None => Ok(()),
    }
}

/// Optimized integrations whose actions AWS checks when the definition is created.
fn unsupported_integration(resource: &str) -> Option<String> {
    let rest = resource.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let (service, action) = rest.split_once(':')?;
    let action = action.split('.').next().unwrap_or(action);
    let known: &[&str] = match service {
        "dynamodb" => &["getItem", "putItem", "updateItem", "deleteItem"],
        "sqs" => &["sendMessage"],
        "sns" => &["publish"],
        "lambda" => &["invoke"],
        _ => return None,
    };
    if known.contains(&action) || !resource.starts_with("arn:aws:states:") && !resource.contains(":states:::") {
        return None;
    }
    Some(format!(
        "The resource provided {resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
    ))
}
