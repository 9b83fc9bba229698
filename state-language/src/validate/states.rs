//! Checks and typed forms of the Task, Wait, Fail and Map fields.

//! Builds the typed definition, reporting semantic problems as it goes.

use serde_json::{Map, Value};

use super::code;
use crate::definition::{Amount, Kind, MapSpec, QueryLanguage, Task, Text, WaitFor};
use crate::intrinsics::Call;

use super::build::Builder;

impl Builder {
    pub(super) fn task(&mut self, s: &Map<String, Value>, at: &str) -> Task {
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

    pub(super) fn wait(&mut self, s: &Map<String, Value>, at: &str, lang: QueryLanguage) -> Kind {
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
                if expression {
                    return match self.jt(s.get("Timestamp"), &format!("{at}/Timestamp")) {
                        Some(crate::definition::Jt::Expr(e)) => Kind::Wait(WaitFor::TimestampJsonata(e)),
                        _ => Kind::Wait(WaitFor::Seconds(Amount::Literal(Value::from(0)))),
                    };
                }
                if crate::time::parse_timestamp(t).is_none() {
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

    pub(super) fn text(&mut self, s: &Map<String, Value>, field: &str, at: &str) -> Option<Text> {
        let path_field = format!("{field}Path");
        match (s.get(field), s.get(&path_field).and_then(Value::as_str)) {
            (Some(_), Some(_)) => {
                self.err(code::SCHEMA, at, format!("Only one of '{field}' or '{path_field}' may be set"));
                None
            }
            (Some(v), None) if self.lang == QueryLanguage::JSONata => {
                match self.jt(Some(v), &format!("{at}/{field}")) {
                    Some(crate::definition::Jt::Expr(e)) => Some(Text::Jsonata(e)),
                    _ => v.as_str().map(|t| Text::Literal(t.to_string())),
                }
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

    pub(super) fn map(&mut self, s: &Map<String, Value>, at: &str, depth: usize, lang: QueryLanguage) -> MapSpec {
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

        let (mut items, mut item_selector_jsonata) = (None, None);
        if lang == QueryLanguage::JSONata {
            items = self.jt(s.get("Items"), &format!("{at}/Items"));
            item_selector_jsonata = self.jt(s.get("ItemSelector"), &format!("{at}/ItemSelector"));
        }
        self.lang = lang;
        let (item_reader, item_batcher, result_writer) =
            (self.item_reader(s, at), self.item_batcher(s, at), self.result_writer(s, at));
        let distributed =
            proc.and_then(|p| p.get("ProcessorConfig")).and_then(|c| c.get("Mode")).and_then(Value::as_str)
                == Some("DISTRIBUTED");
        if !distributed && (item_reader.is_some() || item_batcher.is_some() || result_writer.is_some()) {
            let msg = "ItemReader, ItemBatcher and ResultWriter need ItemProcessor.ProcessorConfig.Mode DISTRIBUTED";
            self.err(code::SCHEMA, at, msg);
        }
        MapSpec {
            processor,
            items_path,
            item_selector,
            items,
            item_selector_jsonata,
            max_concurrency: self.amount(s, "MaxConcurrency", at),
            tolerated_failure_count: self.amount(s, "ToleratedFailureCount", at),
            tolerated_failure_percentage: self.amount(s, "ToleratedFailurePercentage", at),
            item_reader,
            item_batcher,
            result_writer,
            distributed,
            label: s.get("Label").and_then(Value::as_str).map(str::to_string),
            child_definition: proc.filter(|_| distributed).and_then(|p| self.child_definition(p)),
        }
    }

    /// The processor of a STANDARD distributed Map as a definition of its own:
    /// without `ProcessorConfig`, and with the machine's query language.
    fn child_definition(&self, processor: &Map<String, Value>) -> Option<String> {
        let config = processor.get("ProcessorConfig");
        if config.and_then(|c| c.get("ExecutionType")).and_then(Value::as_str) == Some("EXPRESS") {
            return None;
        }
        let mut child = processor.clone();
        child.remove("ProcessorConfig");
        if self.top_language == QueryLanguage::JSONata && !child.contains_key("QueryLanguage") {
            child.insert("QueryLanguage".into(), Value::String("JSONata".into()));
        }
        Some(crate::json::to_string(&Value::Object(child)))
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
