//! Builds the typed definition, reporting semantic problems as it goes.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{Diagnostic, Options, code, error, escape_pointer};
use crate::definition::{
    Amount, Definition, Io, Jt, Kind, Machine, MachineId, QueryLanguage, State, StateId, Template,
};
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
    pub(super) top_language: QueryLanguage,
    /// The query language of the state being built.
    pub(super) lang: QueryLanguage,
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
            lang: QueryLanguage::JSONPath,
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
    pub(super) fn machine(&mut self, m: &Map<String, Value>, at: &str, depth: usize) -> MachineId {
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
        self.lang = lang;
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
        // Building a nested machine changed it: the handlers are this state's.
        self.lang = lang;
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

    /// A JSONata field value (`{% … %}` strings are expressions).
    pub(super) fn jt(&mut self, v: Option<&Value>, at: &str) -> Option<Jt> {
        match Jt::compile(v?, 0) {
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
            io.arguments = self.jt(s.get("Arguments"), &format!("{at}/Arguments"));
            io.output = self.jt(s.get("Output"), &format!("{at}/Output"));
            io.assign_jsonata = self.jt(s.get("Assign"), &format!("{at}/Assign"));
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
            (Some(v), None) => match v.as_str().and_then(crate::definition::jsonata::expression_text) {
                Some(_) if self.lang == QueryLanguage::JSONata => match self.jt(Some(v), &format!("{at}/{field}")) {
                    Some(Jt::Expr(e)) => Some(Amount::Jsonata(e)),
                    _ => None,
                },
                _ => Some(Amount::Literal(v.clone())),
            },
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
}
