//! Parse and validate a definition: JSON Schema for structure, then semantic
//! checks while building the typed [`Definition`]. All problems are reported,
//! in the shape of AWS's `ValidateStateMachineDefinition` diagnostics.

mod build;
mod distributed;
mod graph;
mod handlers;
mod rules;
mod schema;
mod states;

use serde::Serialize;
use serde_json::Value;

use crate::definition::Definition;
use crate::limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding. `code` is stable; `location` is a JSON pointer into the definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub location: String,
}

/// Stable diagnostic codes (AWS's where AWS has one).
pub mod code {
    pub const INVALID_JSON: &str = "INVALID_JSON_DESCRIPTION";
    pub const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
    pub const MISSING_TARGET: &str = "MISSING_TRANSITION_TARGET";
    pub const UNREACHABLE: &str = "UNREACHABLE_STATE";
    pub const NO_TERMINAL: &str = "NO_TERMINAL_STATE";
    pub const TOO_BIG: &str = "DEFINITION_TOO_LARGE";
    pub const JSONATA_UNSUPPORTED: &str = "JSONATA_NOT_YET_SUPPORTED";
}

/// How the definition will be used: Express machines reject some resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub express: bool,
}

/// The result of validation: every diagnostic, and the definition when there is no error.
#[derive(Debug, Clone)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub definition: Option<Definition>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.diagnostics.iter().all(|d| d.severity != Severity::Error)
    }

    /// AWS's `Invalid State Machine Definition: 'CODE: message at location'` text.
    pub fn aws_message(&self) -> String {
        let parts: Vec<String> = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let at = if d.location.is_empty() { "/".to_string() } else { d.location.clone() };
                format!("{}: {} at {}", d.code, d.message, at)
            })
            .collect();
        format!("Invalid State Machine Definition: '{}'", parts.join(", "))
    }
}

pub(crate) fn error(code: &'static str, location: impl Into<String>, message: impl Into<String>) -> Diagnostic {
    Diagnostic { severity: Severity::Error, code, message: message.into(), location: location.into() }
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Validates definition text.
pub fn validate_text(text: &str, options: Options) -> Report {
    if text.len() > limits::DEFINITION_BYTES_MAX {
        let msg =
            format!("The definition is {} bytes; the limit is {} bytes", text.len(), limits::DEFINITION_BYTES_MAX);
        return Report { diagnostics: vec![error(code::TOO_BIG, "", msg)], definition: None };
    }
    if text.trim().is_empty() {
        let d = error(code::SCHEMA, "", "Definition must be a valid JSON object");
        return Report { diagnostics: vec![d], definition: None };
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => validate(&v, options),
        Err(e) => Report { diagnostics: vec![error(code::INVALID_JSON, "", json_error(text, &e))], definition: None },
    }
}

/// Validates a parsed definition.
pub fn validate(v: &Value, options: Options) -> Report {
    if !v.is_object() {
        let d = error(code::SCHEMA, "", "Definition must be a valid JSON object");
        return Report { diagnostics: vec![d], definition: None };
    }
    if crate::json::depth_exceeds(v, limits::JSON_DEPTH_MAX) {
        let d = error(code::SCHEMA, "", format!("Definition is nested deeper than {}", limits::JSON_DEPTH_MAX));
        return Report { diagnostics: vec![d], definition: None };
    }
    let mut diagnostics = schema::check(v);
    let structural_ok = diagnostics.is_empty();
    let built = build::Builder::new(options).build(v);
    for d in built.diagnostics {
        // Schema findings already cover malformed fields; keep semantic ones that add to them.
        if !diagnostics.iter().any(|x| x.location == d.location && x.message == d.message) {
            diagnostics.push(d);
        }
    }
    let ok = structural_ok && diagnostics.iter().all(|d| d.severity != Severity::Error);
    Report { definition: if ok { built.definition } else { None }, diagnostics }
}

/// AWS parses definitions with Jackson; for its most common complaint, a bare
/// word where a value should be, we give Jackson's text. Others keep serde's.
fn json_error(text: &str, e: &serde_json::Error) -> String {
    let start = text.len() - text.trim_start().len();
    let token: String = text[start..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    let literal =
        matches!(token.as_str(), "true" | "false" | "null") || token.starts_with(|c: char| c.is_ascii_digit());
    if token.is_empty() || literal || e.line() != 1 {
        return e.to_string();
    }
    let shown: String = text.chars().take(500).collect();
    format!(
        "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"{shown}\"; line: 1, column: {}]",
        start + token.chars().count() + 1
    )
}
